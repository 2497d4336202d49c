/**
 * The randomness beacon port (ADR 0015): where a draw's public randomness comes from. Adapters speak
 * drand's HTTP API; every answer is verified against the pinned chain public key before it is
 * returned, so a relay (or a sandbox) that lies is never believed.
 */
import { DomainError } from '@verity/kernel';
import type { DrandChainInfo } from '@verity/evidence';

/** A chain as a manifest quotes it: drand's chain info plus our non-production label. */
export interface BeaconChain extends DrandChainInfo {
  /** True for the local sandbox beacon: its key is ours, so its randomness is not public. */
  nonProduction: boolean;
}

/** One verified round: randomness = SHA-256(signature), checked. */
export interface VerifiedBeacon {
  round: number;
  signature: string;
  randomness: string;
  /** Which relay answered. */
  relay: string;
  /** The URL the beacon was fetched from (the result record quotes it). */
  url: string;
}

export interface RandomnessBeacon {
  /** `drand` or `sandbox`. */
  readonly kind: string;
  /** The chain, confirmed by at least one relay to match what is pinned. */
  info(): Promise<BeaconChain>;
  /** Round `round`, verified; throws a BeaconError when no relay has it or none tells the truth. */
  round(round: number): Promise<VerifiedBeacon>;
}

export type BeaconFailure = 'round-not-available' | 'beacon-unavailable' | 'beacon-rejected';

/** Why a round could not be had; `failure` tells the draw whether to wait or fall back. */
export class BeaconError extends DomainError {
  readonly failure: BeaconFailure;
  readonly attempts: readonly string[];
  constructor(failure: BeaconFailure, detail: string, attempts: readonly string[] = []) {
    const status = failure === 'round-not-available' ? 409 : 503;
    const title = failure === 'round-not-available' ? 'The beacon round is not available yet' : failure === 'beacon-rejected' ? 'The beacon answers did not verify' : 'The randomness beacon is unavailable';
    super(failure, status, title, detail, { attempts: attempts.slice(0, 10) });
    this.failure = failure;
    this.attempts = attempts;
  }
}

export const isBeaconError = (err: unknown): err is BeaconError => err instanceof BeaconError;
