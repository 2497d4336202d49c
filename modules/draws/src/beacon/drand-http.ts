/**
 * drand over HTTP (the v1 API every League of Entropy relay serves):
 *   GET {relay}/{chainHash}/info            → {public_key, period, genesis_time, hash, groupHash, schemeID, metadata}
 *   GET {relay}/{chainHash}/public/{round}  → {round, randomness, signature}
 * Relays are tried in turn, each with its own deadline. Nothing a relay says is trusted: the chain
 * info must equal the pinned one, and every beacon must verify (BLS signature against the pinned
 * public key, randomness = SHA-256(signature), the round asked for) — a relay that lies is skipped.
 * Built on fetch: drand's own JS client (`drand-client`) is not a dependency (ADR 0015).
 */
import { verifyDrandBeacon } from '@verity/evidence';
import type { Logger } from '@verity/kernel';
import { BeaconError, type BeaconChain, type RandomnessBeacon, type VerifiedBeacon } from './port.ts';

const BODY_MAX_BYTES = 16 * 1024;
const HEX = /^[0-9a-f]+$/;

export interface DrandHttpOptions {
  kind: string;
  relays: readonly string[];
  /** The pinned chain: hash, public key, period, genesis time, scheme. */
  chain: BeaconChain;
  timeoutMs: number;
  log: Logger;
}

/** drand's JSON chain info, as relays serve it. */
interface WireInfo {
  public_key?: unknown;
  period?: unknown;
  genesis_time?: unknown;
  hash?: unknown;
  schemeID?: unknown;
}

/** One GET with a deadline; the body is read up to a limit. */
async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  const text = await res.text();
  if (Buffer.byteLength(text) > BODY_MAX_BYTES) throw new Error(`answer over ${BODY_MAX_BYTES} bytes`);
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** Where the relay's chain info differs from the pinned one; undefined when it matches. */
export function infoMismatch(pinned: BeaconChain, wire: WireInfo): string | undefined {
  if (wire.hash !== pinned.hash) return 'chain hash differs from the pinned one';
  if (wire.public_key !== pinned.publicKey) return 'public key differs from the pinned one';
  if (wire.period !== pinned.period) return 'period differs from the pinned one';
  if (wire.genesis_time !== pinned.genesisTime) return 'genesis time differs from the pinned one';
  if (wire.schemeID !== pinned.schemeID) return 'scheme differs from the pinned one';
  return undefined;
}

/** The beacon a relay sent for `round`, verified; a string says why it is rejected. */
export function checkBeacon(chain: BeaconChain, round: number, body: unknown): { round: number; signature: string; randomness: string } | string {
  if (typeof body !== 'object' || body === null) return 'answer is not a JSON object';
  const b = body as Record<string, unknown>;
  if (b.round !== round) return `answered round ${String(b.round).slice(0, 20)} for round ${round}`;
  if (typeof b.signature !== 'string' || !HEX.test(b.signature)) return 'signature is not hex';
  if (typeof b.randomness !== 'string' || !HEX.test(b.randomness)) return 'randomness is not hex';
  const verified = verifyDrandBeacon(chain, { round, signature: b.signature, randomness: b.randomness });
  if (!verified.ok) return verified.reason ?? 'does not verify';
  return { round, signature: b.signature, randomness: b.randomness };
}

export function createDrandHttpBeacon(options: DrandHttpOptions): RandomnessBeacon {
  const { chain, relays, timeoutMs, log } = options;
  const base = (relay: string) => `${relay.replace(/\/+$/, '')}/${chain.hash}`;

  async function info(): Promise<BeaconChain> {
    const attempts: string[] = [];
    for (const relay of relays) {
      try {
        const { status, body } = await getJson(`${base(relay)}/info`, timeoutMs);
        if (status !== 200 || typeof body !== 'object' || body === null) {
          attempts.push(`${relay}: HTTP ${status}`);
          continue;
        }
        const mismatch = infoMismatch(chain, body as WireInfo);
        if (!mismatch) return { ...chain };
        attempts.push(`${relay}: ${mismatch}`);
        log.warn({ relay, reason: mismatch }, 'beacon relay served chain info that differs from the pinned chain; ignored');
      } catch (err) {
        attempts.push(`${relay}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message}`);
      }
    }
    throw new BeaconError('beacon-unavailable', `No relay confirmed chain ${chain.hash}.`, attempts);
  }

  async function round(r: number): Promise<VerifiedBeacon> {
    if (!Number.isSafeInteger(r) || r < 1) throw new BeaconError('round-not-available', `Round ${r} does not exist.`);
    const attempts: string[] = [];
    let notYet = 0;
    let rejected = 0;
    for (const relay of relays) {
      try {
        const url = `${base(relay)}/public/${r}`;
        const { status, body } = await getJson(url, timeoutMs);
        // drand answers 404 for a round it has not produced yet; 425 (Too Early) is accepted as well.
        if (status === 404 || status === 425) {
          notYet++;
          attempts.push(`${relay}: round ${r} not available (HTTP ${status})`);
          continue;
        }
        if (status !== 200) {
          attempts.push(`${relay}: HTTP ${status}`);
          continue;
        }
        const checked = checkBeacon(chain, r, body);
        if (typeof checked !== 'string') return { ...checked, relay, url };
        rejected++;
        attempts.push(`${relay}: rejected (${checked})`);
        log.warn({ relay, round: r, reason: checked }, 'beacon relay served a round that does not verify; ignored');
      } catch (err) {
        attempts.push(`${relay}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message}`);
      }
    }
    // A liar among relays that do not have the round yet changes nothing: the round is still to come.
    if (notYet > 0) throw new BeaconError('round-not-available', `Round ${r} of chain ${chain.hash} is not available yet.`, attempts);
    if (rejected > 0) throw new BeaconError('beacon-rejected', `No relay served a round ${r} that verifies against the pinned public key.`, attempts);
    throw new BeaconError('beacon-unavailable', `No relay answered for round ${r}.`, attempts);
  }

  return { kind: options.kind, info, round };
}
