/**
 * The ticketing module: competitions and their lifecycle, ticket purchases (eligibility, skill
 * pass, caps, two-phase wallet payment), free postal entries, cancellation refunds (ADR 0014).
 * This file is its only import surface.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, type ModuleDefinition } from '@verity/kernel';
import type { Failpoints } from './contract.ts';
import { setupTicketing } from './setup.ts';

export { TicketingEvents } from './events.ts';
export type {
  ClosingTimeChangedV1, CompetitionCancelledV1, CompetitionClosedV1, CompetitionOpenedV1, CompetitionPublishedV1, PostalEntryRecordedV1, TicketsPurchasedV1, TicketsVoidedV1,
} from './events.ts';

/** A competition as getCompetition shows it (amounts as decimal strings, times as ISO strings). */
export interface CompetitionView {
  competitionId: string;
  state: 'draft' | 'scheduled' | 'on_sale' | 'closed' | 'drawn' | 'settled' | 'cancelled';
  title: string;
  description?: string;
  drawKind: 'random' | 'spot-the-ball';
  currency: string;
  priceMinor?: string;
  maxTickets?: number;
  perPlayerCap?: number;
  opensAt?: string;
  closesAt?: string;
  prizeTiers: { tier: number; description: string; winners: number; cashMinor?: string; cashAlternativeMinor?: string }[];
  freeEntry?: { postalAddress: string; instructions: string };
  skillTest?: { kind?: string; summary?: string };
  prizeReadiness?: { kind: string; documentSha256?: string; externalReference?: string; cashAlternativeReservedMinor: string; attestedAt: string };
  ticketsSold?: number;
  ticketsRemaining?: number;
  drawManifest?: { drawId: string; manifestHash: string; logIndex: number };
  createdAt: string;
  publishedAt?: string;
  openedAt?: string;
  closedAt?: string;
  cancelledAt?: string;
  cancelReason?: string;
}

export interface TicketingService {
  getCompetition(input: { competitionId: string }): Promise<CompetitionView | undefined>;
  /** Sales counts; draws reconciles its snapshot against them. unsettledPurchases > 0 blocks a draw. */
  getSalesSummary(input: { competitionId: string }): Promise<{ sold: number; voided: number; postal: number; postalInvalid: number; validEntries: number; unsettledPurchases: number; closedAt?: Date; state: string }>;
  /** Canonical valid entries (paid tickets not voided + valid postal entries), ordered by number ascending, paged (limit ≤ 10 000). */
  listEntries(input: { competitionId: string; afterNumber?: number; limit: number }): Promise<{ entries: { entryId: string; number: number; kind: 'paid' | 'postal'; holder: string }[]; nextAfter?: number }>;
  /** Draws records the committed manifest; a random-draw competition opens for sale only once this is recorded. */
  recordDrawManifest(input: { competitionId: string; drawId: string; manifestHash: string; logIndex: number }): Promise<void>;
  /** closed → drawn, drawn → settled (draws calls these). Idempotent. */
  markDrawn(input: { competitionId: string; drawId: string; resultHash: string }): Promise<void>;
  markSettled(input: { competitionId: string; drawId: string }): Promise<void>;
  /** A player's own ticket (for entry inclusion proofs): undefined if not theirs. */
  getTicket(input: { ticketId: string; playerId: string }): Promise<{ ticketId: string; competitionId: string; number: number; kind: 'paid' | 'postal'; holderSalt: string; holder: string; state: string } | undefined>;
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** The module with crash failpoints (tests only: `@verity/ticketing/testing`). */
export function defineTicketingModule(failpoints: Failpoints = {}): ModuleDefinition<TicketingService> {
  return defineModule<TicketingService>({
    name: 'ticketing',
    migrationsDir: MIGRATIONS_DIR,
    remoteMethods: ['getCompetition', 'getSalesSummary', 'listEntries', 'recordDrawManifest', 'markDrawn', 'markSettled', 'getTicket'],
    setup(ctx) {
      const part = setupTicketing(ctx, failpoints);
      return { service: part.service, routes: part.routes, jobs: part.jobs, stop: part.stop };
    },
  });
}

export const ticketingModule = defineTicketingModule();
