/**
 * Ticketing's events (TICKETING-SKILL-CONTRACT): ids, amounts as decimal strings, times as ISO
 * strings; never personal data. Consumers (draws, compliance) declare the fields they read.
 */
export const TicketingEvents = {
  competitionPublished: 'ticketing.competition-published.v1',
  competitionOpened: 'ticketing.competition-opened.v1',
  competitionClosed: 'ticketing.competition-closed.v1',
  competitionCancelled: 'ticketing.competition-cancelled.v1',
  closingTimeChanged: 'ticketing.competition-closing-time-changed.v1',
  ticketsPurchased: 'ticketing.tickets-purchased.v1',
  ticketsVoided: 'ticketing.tickets-voided.v1',
  postalEntryRecorded: 'ticketing.postal-entry-recorded.v1',
} as const;

export interface CompetitionPublishedV1 {
  competitionId: string;
  title: string;
  state: 'scheduled';
  opensAt: string;
  closesAt: string;
  priceMinor: string;
  currency: string;
  maxTickets: number;
  perPlayerCap: number;
  drawKind: 'random' | 'spot-the-ball';
  prizeTiers: { tier: number; description: string; winners: number; cashMinor?: string; cashAlternativeMinor?: string; currency?: string }[];
  skillTestKind: string;
}
export interface CompetitionOpenedV1 { competitionId: string; openedAt: string }
export interface CompetitionClosedV1 { competitionId: string; closedAt: string; sold: number; voided: number; postal: number; validEntries: number }
export interface CompetitionCancelledV1 { competitionId: string; reason: string }
export interface ClosingTimeChangedV1 { competitionId: string; oldClosesAt: string; newClosesAt: string; approvedBy: string }
export interface TicketsPurchasedV1 {
  purchaseId: string;
  competitionId: string;
  playerId: string;
  skillTokenId: string;
  tickets: { ticketId: string; number: number }[];
  amountMinor: string;
  currency: string;
}
export interface TicketsVoidedV1 { competitionId: string; purchaseId?: string; ticketIds: string[]; reason: string }
export interface PostalEntryRecordedV1 { competitionId: string; postalEntryId: string; ticketId?: string; number?: number; valid: boolean; reason?: string }
