/**
 * Free postal entries (issue 5): the same cutoff, the same weight, the same pool as paid tickets.
 * Rules, in the order they are applied:
 * 1. One entry per envelope: an envelope reference recorded twice is refused (nothing recorded).
 * 2. Received after the closing time → invalid `late`; before the opening time → invalid `early`
 *    (paid tickets can only be bought inside the same window).
 * 3. A wrong answer to the published postal question → invalid `wrong-answer`.
 * 4. The same person (keyed hash of normalized name + address) may hold as many valid entries as
 *    the per-player cap allows a paying player; beyond it → invalid `duplicate-person`. Every entry
 *    of a person already seen is flagged with the first one (`duplicateOf`) for review.
 * 5. No number left in the pool → invalid `sold-out`.
 * A valid entry gets one ticket number from the same pool (one entry = one number = one chance).
 */
export type PostalReason = 'late' | 'early' | 'wrong-answer' | 'duplicate-person' | 'sold-out' | 'competition-cancelled';

/** Case, accents, punctuation and spacing do not make another person. */
export function normalizePerson(name: string, address: string): string {
  const norm = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return `${norm(name)}|${norm(address)}`;
}

export interface PostalFacts {
  receivedAt: Date;
  opensAt: Date;
  closesAt: Date;
  answerCorrect: boolean;
  /** Valid entries this person already has in the competition. */
  validOfPerson: number;
  perPlayerCap: number;
}

/** Rules 2–4: the reason an entry is invalid, or undefined when it should get a number. */
export function postalRefusal(f: PostalFacts): PostalReason | undefined {
  if (f.receivedAt.getTime() > f.closesAt.getTime()) return 'late';
  if (f.receivedAt.getTime() < f.opensAt.getTime()) return 'early';
  if (!f.answerCorrect) return 'wrong-answer';
  if (f.validOfPerson >= f.perPlayerCap) return 'duplicate-person';
  return undefined;
}
