/**
 * The equal-treatment statement of the entry report, computed from the recorded data (not asserted):
 * the same cutoff (no paid ticket issued at or after the closing time, no valid postal entry
 * received after it, neither before the opening), the same weight (every valid entry holds exactly
 * one number), the same pool (one number range, no number twice, the pool's counters count both).
 */
export interface EqualityFacts {
  opensAt: Date;
  closesAt: Date;
  maxTickets: number;
  firstPaidAt?: Date;
  lastPaidAt?: Date;
  firstPostalReceivedAt?: Date;
  lastPostalReceivedAt?: Date;
  /** Valid postal entries that do not hold exactly one valid ticket (must be 0). */
  postalWithoutOneTicket: number;
  /** Issued paid purchases whose valid tickets differ from their quantity (must be 0). */
  purchasesWrongCount: number;
  validTickets: number;
  distinctNumbers: number;
  minNumber?: number;
  maxNumber?: number;
  /** The shard counters' total: every valid ticket, paid or free, counted in the one pool. */
  poolSold: number;
}

export interface EqualTreatment {
  sameCutoff: boolean;
  sameWeight: boolean;
  samePool: boolean;
  statement: string;
}

const before = (a: Date | undefined, b: Date, strict: boolean) => a === undefined || (strict ? a.getTime() < b.getTime() : a.getTime() <= b.getTime());
const notBefore = (a: Date | undefined, b: Date) => a === undefined || a.getTime() >= b.getTime();

export function equalTreatment(f: EqualityFacts): EqualTreatment {
  // Sales close at closes_at exclusive; a letter received on the closing day-time counts (≤).
  const sameCutoff = before(f.lastPaidAt, f.closesAt, true) && before(f.lastPostalReceivedAt, f.closesAt, false)
    && notBefore(f.firstPaidAt, f.opensAt) && notBefore(f.firstPostalReceivedAt, f.opensAt);
  const sameWeight = f.postalWithoutOneTicket === 0 && f.purchasesWrongCount === 0;
  const samePool = f.distinctNumbers === f.validTickets && f.poolSold === f.validTickets
    && (f.validTickets === 0 || (f.minNumber! >= 1 && f.maxNumber! <= f.maxTickets));
  const parts = [
    sameCutoff ? `every paid ticket was issued and every valid postal entry received between ${f.opensAt.toISOString()} and ${f.closesAt.toISOString()}` : 'an entry falls outside the sales window',
    sameWeight ? 'every valid entry, paid or free, holds exactly one number' : 'an entry does not hold exactly one number',
    samePool ? `all ${f.validTickets} valid entries hold distinct numbers from the one pool 1..${f.maxTickets}` : 'the numbers of paid and free entries do not form one pool',
  ];
  return { sameCutoff, sameWeight, samePool, statement: `${sameCutoff && sameWeight && samePool ? 'Equal treatment holds' : 'Equal treatment does NOT hold'}: ${parts.join('; ')}.` };
}
