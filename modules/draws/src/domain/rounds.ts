/**
 * Which beacon rounds a draw commits to, and when each may be asked for. Pure (time is given).
 *
 * R is the first round emitted strictly after closesAt, plus a margin. Fallback round i is spaced one
 * "round window" after the previous one: the draw asks for a round from its time until its window
 * ends, then moves on, so when R cannot be had (a beacon outage), the next candidate is a round that
 * was still in the future when R was given up — the operator never gets to choose between two
 * rounds it has already seen.
 */
import { firstRoundAfter, roundTime, type DrandChainInfo, type DrawManifest } from '@verity/evidence';
import type { BeaconChain } from '../beacon/port.ts';

export interface PlannedRounds {
  round: number;
  fallbackRounds: number[];
}

export function plannedRounds(chain: DrandChainInfo, closesAt: Date, settings: { marginRounds: number; fallbackRounds: number; roundWindowS: number }): PlannedRounds {
  const round = firstRoundAfter(chain, closesAt.getTime() / 1000) + settings.marginRounds;
  const spacing = Math.max(1, Math.ceil(settings.roundWindowS / chain.period));
  return { round, fallbackRounds: Array.from({ length: settings.fallbackRounds }, (_, i) => round + (i + 1) * spacing) };
}

/** When a round is emitted, as a Date. */
export const roundDate = (chain: DrandChainInfo, round: number): Date => new Date(roundTime(chain, round) * 1000);

/**
 * The candidate round to ask for at `now`: R until its window ends, then each fallback in turn;
 * `undefined` when every window has passed (the draw fails). `waitUntil` is set when even R's time
 * has not come.
 */
export function candidateRound(chain: DrandChainInfo, plan: PlannedRounds, now: Date, roundWindowS: number): { round: number; windowEndsAt: Date; waitUntil?: Date } | undefined {
  const all = [plan.round, ...plan.fallbackRounds];
  const first = roundDate(chain, plan.round);
  if (now < first) return { round: plan.round, windowEndsAt: new Date(first.getTime() + roundWindowS * 1000), waitUntil: first };
  for (const round of all) {
    const endsAt = new Date(roundDate(chain, round).getTime() + roundWindowS * 1000);
    if (now < endsAt) return { round, windowEndsAt: endsAt };
  }
  return undefined;
}

/** The beacon chain a manifest pinned, as the beacon adapters take it. */
export function chainOfManifest(m: Pick<DrawManifest, 'beacon'>): BeaconChain {
  const b = m.beacon;
  return { publicKey: b.publicKey, period: b.period, genesisTime: b.genesisTime, hash: b.chainHash, schemeID: b.schemeID, metadata: { beaconID: b.network }, nonProduction: b.nonProduction };
}
