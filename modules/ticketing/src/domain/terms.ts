/**
 * The terms a player must see before buying (issue 5) and what publishing needs: prize, closing
 * time, price, maximum tickets, per-player cap, how to enter free, the skill test, and a prize
 * readiness check. `publishChecklist` lists every missing item at once, so one refusal says it all.
 */

export interface PrizeTier {
  tier: number;
  description: string;
  winners: number;
  /** A cash prize (minor units). */
  cashMinor?: bigint;
  /** The cash a winner may take instead of a non-cash prize (minor units). */
  cashAlternativeMinor?: bigint;
}

export interface FreeEntry {
  /** Where postal entries go. */
  postalAddress: string;
  /** What to write on the envelope and how entries are treated. */
  instructions: string;
}

export interface PrizeReadiness {
  kind: 'owned' | 'contracted';
  /** SHA-256 of an uploaded document in the object store… */
  documentSha256?: string;
  /** …or a reference to a document held elsewhere (contract number, title deed). */
  externalReference?: string;
  /** Cash set aside for every cash prize and cash alternative. */
  cashAlternativeReservedMinor: bigint;
  attestedBy: string;
  attestedAt: Date;
  notes?: string;
}

export interface SkillTestTerms {
  testId?: string;
  kind?: string;
  summary?: string;
}

export interface Terms {
  title: string;
  drawKind: 'random' | 'spot-the-ball';
  currency: string;
  priceMinor?: bigint;
  maxTickets?: number;
  perPlayerCap?: number;
  opensAt?: Date;
  closesAt?: Date;
  prizeTiers: PrizeTier[];
  freeEntry?: FreeEntry;
  prizeReadiness?: PrizeReadiness;
}

export interface MissingItem {
  item: string;
  detail: string;
}

export interface SkillTestStatus {
  configured: boolean;
  ready: boolean;
  problems: string[];
  summary?: string;
}

/** Every cash amount the prizes may need: cash prizes and cash alternatives, times their winners. */
export function cashExposureMinor(tiers: readonly PrizeTier[]): bigint {
  return tiers.reduce((sum, t) => sum + BigInt(t.winners) * (t.cashMinor ?? t.cashAlternativeMinor ?? 0n), 0n);
}

function tierProblems(tiers: readonly PrizeTier[]): MissingItem[] {
  if (tiers.length === 0) return [{ item: 'prizeTiers', detail: 'at least one prize tier (description and number of winners)' }];
  const out: MissingItem[] = [];
  const seen = new Set<number>();
  for (const t of tiers) {
    if (seen.has(t.tier)) out.push({ item: `prizeTiers/${t.tier}`, detail: 'tier numbers must be unique' });
    seen.add(t.tier);
    if (!t.description.trim()) out.push({ item: `prizeTiers/${t.tier}/description`, detail: 'what the prize is' });
    if (t.winners < 1) out.push({ item: `prizeTiers/${t.tier}/winners`, detail: 'at least one winner' });
  }
  return out;
}

function windowProblems(terms: Terms, now: Date): MissingItem[] {
  const out: MissingItem[] = [];
  if (!terms.opensAt) out.push({ item: 'opensAt', detail: 'when sales open' });
  if (!terms.closesAt) out.push({ item: 'closesAt', detail: 'when sales close' });
  else if (terms.closesAt.getTime() <= now.getTime()) out.push({ item: 'closesAt', detail: 'must be in the future' });
  if (terms.opensAt && terms.closesAt && terms.opensAt.getTime() >= terms.closesAt.getTime()) out.push({ item: 'opensAt', detail: 'must be before closesAt' });
  return out;
}

function salesProblems(terms: Terms): MissingItem[] {
  const out: MissingItem[] = [];
  if (terms.priceMinor === undefined || terms.priceMinor <= 0n) out.push({ item: 'priceMinor', detail: 'the price of one ticket' });
  if (terms.maxTickets === undefined) out.push({ item: 'maxTickets', detail: 'the maximum number of tickets (paid and free together)' });
  if (terms.perPlayerCap === undefined) out.push({ item: 'perPlayerCap', detail: 'how many tickets one player may hold' });
  else if (terms.maxTickets !== undefined && terms.perPlayerCap > terms.maxTickets) out.push({ item: 'perPlayerCap', detail: 'cannot exceed maxTickets' });
  return out;
}

function readinessProblems(terms: Terms): MissingItem[] {
  const r = terms.prizeReadiness;
  if (!r) return [{ item: 'prizeReadiness', detail: 'an attestation that the prize is owned or contracted, with a document reference and the cash reserved' }];
  const out: MissingItem[] = [];
  if (!r.documentSha256 && !r.externalReference) out.push({ item: 'prizeReadiness/document', detail: 'a document reference (uploaded document or external reference)' });
  const needed = cashExposureMinor(terms.prizeTiers);
  if (r.cashAlternativeReservedMinor < needed) out.push({ item: 'prizeReadiness/cashAlternativeReservedMinor', detail: `must cover every cash prize and cash alternative (${needed} minor units)` });
  return out;
}

/** Everything publishing still needs; empty when the competition can be published. */
export function publishChecklist(terms: Terms, skill: SkillTestStatus, now: Date): MissingItem[] {
  const out = [...tierProblems(terms.prizeTiers), ...salesProblems(terms), ...windowProblems(terms, now)];
  if (!terms.freeEntry) out.push({ item: 'freeEntry', detail: 'how to enter free by post (address and instructions)' });
  if (!skill.configured) out.push({ item: 'skillTest', detail: 'a skill test configured for this competition' });
  else if (!skill.ready) out.push({ item: 'skillTest', detail: `the skill test is not ready: ${skill.problems.join('; ') || 'not approved'}` });
  out.push(...readinessProblems(terms));
  return out;
}
