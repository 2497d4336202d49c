/**
 * Contracts of the draws module: the events it reads (declared here, as the consumer reads them; the
 * producer is not imported), the events and log records it writes, and the draw record its parts share.
 */
import type { DrawManifest } from '@verity/evidence';
import type { DrawState } from './domain/state.ts';

// ─── Events read (producer: ticketing) ──────────────────────────────────────────────────────────
export const TicketingEvents = {
  competitionPublished: 'ticketing.competition-published.v1',
  competitionClosed: 'ticketing.competition-closed.v1',
  competitionCancelled: 'ticketing.competition-cancelled.v1',
  closingTimeChanged: 'ticketing.competition-closing-time-changed.v1',
  ticketsPurchased: 'ticketing.tickets-purchased.v1',
} as const;

export interface CompetitionPublishedV1 {
  competitionId: string;
  title: string;
  opensAt: string;
  closesAt: string;
  drawKind: 'random' | 'spot-the-ball';
  prizeTiers: { tier: number; description: string; winners: number; cashMinor?: string; currency?: string }[];
  currency?: string;
}

export interface CompetitionClosedV1 {
  competitionId: string;
  closedAt: string;
  sold: number;
  voided: number;
  postal: number;
  validEntries: number;
}

export interface CompetitionCancelledV1 {
  competitionId: string;
  reason: string;
}

export interface ClosingTimeChangedV1 {
  competitionId: string;
  oldClosesAt: string;
  newClosesAt: string;
}

export interface TicketsPurchasedV1 {
  purchaseId: string;
  competitionId: string;
  playerId: string;
  tickets: { ticketId: string; number: number }[];
}

// ─── Events written ─────────────────────────────────────────────────────────────────────────────
export const DrawEvents = {
  manifestCommitted: 'draws.manifest-committed.v1',
  drawBlocked: 'draws.draw-blocked.v1',
  drawCompleted: 'draws.draw-completed.v1',
  drawFailed: 'draws.draw-failed.v1',
  winnerSelected: 'draws.winner-selected.v1',
  prizeCredited: 'draws.prize-credited.v1',
  fulfilmentRequested: 'draws.prize-fulfilment-requested.v1',
  drawSettled: 'draws.draw-settled.v1',
} as const;

export interface ManifestCommittedV1 { competitionId: string; drawId: string; manifestHash: string; logIndex: number }
export interface DrawBlockedV1 { competitionId: string; drawId: string; reason: string; caseId?: string }
export interface DrawCompletedV1 { competitionId: string; drawId: string; resultHash: string; winners: { tier: number; ticketId: string; number: number }[] }
export interface DrawFailedV1 { competitionId: string; drawId: string; reason: string }
export interface WinnerSelectedV1 { drawId: string; competitionId: string; tier: number; ticketId: string; position: number; cashMinor?: string; currency?: string }
export interface PrizeCreditedV1 { drawId: string; competitionId: string; ticketId: string; playerId: string; transferId: string; amountMinor: string; currency: string }
/** A non-cash prize (or a cash prize of a postal entrant, who has no wallet) for prize fulfilment. */
export interface FulfilmentRequestedV1 { drawId: string; competitionId: string; tier: number; ticketId: string; number: number; description: string; cashMinor?: string; currency?: string; reason: 'goods' | 'no-wallet' }
export interface DrawSettledV1 { competitionId: string; drawId: string }

/** Types of the records draws appends to the evidence log (the bytes are the protocol's). */
export const LogRecordTypes = {
  manifest: 'draws.manifest.v1',
  close: 'draws.close-snapshot.v1',
  result: 'draws.result.v1',
} as const;

/** Where a logged record sits: its leaf, index and the signed checkpoint taken after it. */
export interface LoggedRecord {
  pendingId: string;
  leafHash: string;
  index?: number;
  checkpoint?: { size: number; rootHash: string; note: string };
}

export interface PublishedCompetition {
  title: string;
  opensAt: string;
  closesAt: string;
  prizeTiers: CompetitionPublishedV1['prizeTiers'];
}

export interface Reconciled {
  sold: number;
  voided: number;
  postal: number;
  postalInvalid: number;
  validEntries: number;
  unsettledPurchases: number;
  count: number;
}

export interface BeaconUsed {
  round: number;
  signature: string;
  randomness: string;
  fetchedFrom: string;
}

/** A draw as its parts see it (repository → services). */
export interface DrawRecord {
  drawId: string;
  competitionId: string;
  state: DrawState;
  title: string | null;
  closesAt: Date;
  competition: PublishedCompetition;
  manifest: DrawManifest | null;
  manifestBytes: Buffer | null;
  manifestHash: string | null;
  secretEnc: string | null;
  beaconRound: number | null;
  manifestLog: LoggedRecord | null;
  entriesCount: number | null;
  entriesRoot: string | null;
  reconciliation: Reconciled | null;
  snapshotRecord: Buffer | null;
  snapshotLog: LoggedRecord | null;
  blockedReason: string | null;
  caseId: string | null;
  beacon: BeaconUsed | null;
  resultRecord: Buffer | null;
  resultHash: string | null;
  resultLog: LoggedRecord | null;
  bundleKey: string | null;
  bundleSha256: string | null;
  bundleBytes: number | null;
  failureReason: string | null;
  createdAt: Date;
  committedAt: Date | null;
  snapshottedAt: Date | null;
  drawnAt: Date | null;
  settledAt: Date | null;
}

export interface WinnerRecord {
  drawId: string;
  position: number;
  tier: number;
  entryIndex: number;
  entryId: string;
  number: number;
  prizeKind: 'cash' | 'fulfilment';
  cashMinor: bigint | null;
  currency: string | null;
  state: 'pending' | 'credited' | 'handed-over';
  transferId: string | null;
  handledAt: Date | null;
}
