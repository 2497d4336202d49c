/**
 * The competition lifecycle (issue 5): draft → scheduled → on sale → closed → drawn → settled, or
 * cancelled (every paid ticket refunded). The database trigger `ticketing.competitions_guard`
 * holds the same table; this file is what the code reads, and the unit test keeps the two equal.
 */
export const COMPETITION_STATES = ['draft', 'scheduled', 'on_sale', 'closed', 'drawn', 'settled', 'cancelled'] as const;
export type CompetitionState = (typeof COMPETITION_STATES)[number];

export const TRANSITIONS: Readonly<Record<CompetitionState, readonly CompetitionState[]>> = {
  draft: ['scheduled', 'cancelled'],
  scheduled: ['on_sale', 'cancelled'],
  on_sale: ['closed', 'cancelled'],
  // Cancelling after close (before the draw) is still possible: nothing was decided yet.
  closed: ['drawn', 'cancelled'],
  drawn: ['settled'],
  settled: [],
  cancelled: [],
};

export const canTransition = (from: CompetitionState, to: CompetitionState): boolean => TRANSITIONS[from].includes(to);

export const isCompetitionState = (s: string): s is CompetitionState => (COMPETITION_STATES as readonly string[]).includes(s);

/** States the public sees (drafts are the operators' own). */
export const PUBLIC_STATES: readonly CompetitionState[] = ['scheduled', 'on_sale', 'closed', 'drawn', 'settled', 'cancelled'];

/** Whether sales have ended for good (the closing time passed or the competition moved on). */
export const salesEnded = (state: CompetitionState): boolean => state === 'closed' || state === 'drawn' || state === 'settled';

/** Why a purchase cannot be made in this state, if it cannot: what a buyer is told. */
export function purchaseBlock(state: CompetitionState, closesAt: Date | undefined, now: Date): 'competition-closed' | 'competition-not-on-sale' | undefined {
  if (salesEnded(state) || (closesAt !== undefined && now.getTime() >= closesAt.getTime() && state === 'on_sale')) return 'competition-closed';
  if (state !== 'on_sale') return 'competition-not-on-sale';
  return undefined;
}

/** Postal entries are recorded while sales run and after close until the draw (received date decides). */
export const acceptsPostalEntries = (state: CompetitionState): boolean => state === 'on_sale' || state === 'closed';

/** A closing time may be overridden only while it has not passed and the competition is published. */
export const closingTimeChangeable = (state: CompetitionState): boolean => state === 'scheduled' || state === 'on_sale';
