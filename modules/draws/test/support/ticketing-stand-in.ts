/**
 * A `ticketing` module that does only what draws needs, under the test's control: it publishes the
 * competition events through its own outbox (as the real module does) and answers the
 * TicketingService calls from memory, so a test can make sales and snapshot disagree. The real
 * ticketing module is used by the end-to-end test.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { defineModule, type ModuleDefinition } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';

export interface StandInEntry { entryId: string; number: number; kind: 'paid' | 'postal'; holder: string; playerId?: string; salt: string }

export interface StandInCompetition {
  competitionId: string;
  closesAt: Date;
  entries: StandInEntry[];
  sold: number;
  voided: number;
  postal: number;
  closedAt?: Date;
  state: string;
  manifest?: { drawId: string; manifestHash: string; logIndex: number };
  drawn?: { drawId: string; resultHash: string };
  settled?: { drawId: string };
  /** Makes listEntries slow (a huge competition). */
  listDelayMs?: number;
  summaryOverride?: Partial<{ sold: number; voided: number; postal: number; validEntries: number; unsettledPurchases: number }>;
  calls: string[];
}

export interface TicketingStandIn {
  competitions: Map<string, StandInCompetition>;
  publish(input: { closesAt: Date; tiers: { tier: number; description: string; winners: number; cashMinor?: string; currency?: string }[]; drawKind?: 'random' | 'spot-the-ball' }): Promise<StandInCompetition>;
  buy(competitionId: string, playerId: string, count: number): Promise<StandInEntry[]>;
  postal(competitionId: string): Promise<StandInEntry>;
  close(competitionId: string): Promise<string>;
  cancel(competitionId: string, reason: string): Promise<void>;
  changeClosingTime(competitionId: string, newClosesAt: Date): Promise<void>;
}

const holderOf = (saltHex: string, owner: string) =>
  createHash('sha256').update('verity/holder/v1').update(Buffer.from([0])).update(Buffer.from(saltHex, 'hex')).update(owner).digest('hex');

export const ticketingStandIn: ModuleDefinition<any> = defineModule<any>({
  name: 'ticketing',
  migrationsDir: path.join(import.meta.dirname, 'no-migrations'),
  remoteMethods: [],
  setup(ctx) {
    const competitions = new Map<string, StandInCompetition>();
    const get = (id: string) => {
      const c = competitions.get(id);
      if (!c) throw new Error(`stand-in: no competition ${id}`);
      return c;
    };
    const publish = (type: string, data: Record<string, unknown>) => ctx.db.tx(() => ctx.events.publish({ type, subject: String(data.competitionId), data }));
    let nextNumber = 1;

    const control: TicketingStandIn = {
      competitions,
      async publish(input) {
        const competitionId = randomUUID();
        const c: StandInCompetition = { competitionId, closesAt: input.closesAt, entries: [], sold: 0, voided: 0, postal: 0, state: 'scheduled', calls: [] };
        competitions.set(competitionId, c);
        await publish('ticketing.competition-published.v1', {
          competitionId, title: `Test draw ${competitionId.slice(0, 8)}`, state: 'scheduled', opensAt: new Date().toISOString(), closesAt: input.closesAt.toISOString(),
          priceMinor: '100', currency: 'GBP', maxTickets: 1000, perPlayerCap: 100, drawKind: input.drawKind ?? 'random', prizeTiers: input.tiers, skillTestKind: 'multiple-choice',
        });
        return c;
      },
      async buy(competitionId, playerId, count) {
        const c = get(competitionId);
        const tickets = Array.from({ length: count }, () => {
          const salt = randomBytes(32).toString('hex');
          return { entryId: randomUUID(), number: nextNumber++, kind: 'paid' as const, holder: holderOf(salt, playerId), playerId, salt };
        });
        c.entries.push(...tickets);
        c.sold += count;
        await publish('ticketing.tickets-purchased.v1', {
          purchaseId: randomUUID(), competitionId, playerId, skillTokenId: randomUUID(), tickets: tickets.map((t) => ({ ticketId: t.entryId, number: t.number })), amountMinor: String(100 * count), currency: 'GBP',
        });
        return tickets;
      },
      async postal(competitionId) {
        const c = get(competitionId);
        const postalEntryId = randomUUID();
        const salt = randomBytes(32).toString('hex');
        const e: StandInEntry = { entryId: randomUUID(), number: nextNumber++, kind: 'postal', holder: holderOf(salt, `postal:${postalEntryId}`), salt };
        c.entries.push(e);
        c.postal += 1;
        return e;
      },
      async close(competitionId) {
        const c = get(competitionId);
        // Ticketing closes at the closing time, never before it.
        await waitFor(() => Date.now() >= c.closesAt.getTime(), { timeoutMs: 120_000, intervalMs: 20, what: 'the closing time' });
        c.state = 'closed';
        c.closedAt = new Date();
        return publish('ticketing.competition-closed.v1', { competitionId, closedAt: c.closedAt.toISOString(), sold: c.sold, voided: c.voided, postal: c.postal, validEntries: c.entries.length });
      },
      async changeClosingTime(competitionId, newClosesAt) {
        const c = get(competitionId);
        const oldClosesAt = c.closesAt;
        c.closesAt = newClosesAt;
        await publish('ticketing.competition-closing-time-changed.v1', { competitionId, oldClosesAt: oldClosesAt.toISOString(), newClosesAt: newClosesAt.toISOString(), approvedBy: randomUUID() });
      },
      async cancel(competitionId, reason) {
        get(competitionId).state = 'cancelled';
        await publish('ticketing.competition-cancelled.v1', { competitionId, reason });
      },
    };

    const service = {
      control: () => control,
      async getSalesSummary({ competitionId }: { competitionId: string }) {
        const c = get(competitionId);
        c.calls.push('getSalesSummary');
        return {
          sold: c.sold, voided: c.voided, postal: c.postal, postalInvalid: 0, validEntries: c.entries.length, unsettledPurchases: 0,
          ...c.summaryOverride, ...(c.closedAt ? { closedAt: c.closedAt } : {}), state: c.state,
        };
      },
      async listEntries({ competitionId, afterNumber, limit }: { competitionId: string; afterNumber?: number; limit: number }) {
        const c = get(competitionId);
        c.calls.push('listEntries');
        if (c.listDelayMs) await new Promise((r) => setTimeout(r, c.listDelayMs));
        const sorted = [...c.entries].sort((a, b) => a.number - b.number).filter((e) => afterNumber === undefined || e.number > afterNumber);
        const page = sorted.slice(0, limit);
        return { entries: page.map(({ entryId, number, kind, holder }) => ({ entryId, number, kind, holder })), ...(sorted.length > limit ? { nextAfter: page.at(-1)!.number } : {}) };
      },
      async recordDrawManifest(input: { competitionId: string; drawId: string; manifestHash: string; logIndex: number }) {
        const c = get(input.competitionId);
        c.calls.push('recordDrawManifest');
        c.manifest = { drawId: input.drawId, manifestHash: input.manifestHash, logIndex: input.logIndex };
        if (c.state === 'scheduled') c.state = 'open';
      },
      async markDrawn(input: { competitionId: string; drawId: string; resultHash: string }) {
        const c = get(input.competitionId);
        c.calls.push('markDrawn');
        c.drawn = { drawId: input.drawId, resultHash: input.resultHash };
        c.state = 'drawn';
      },
      async markSettled(input: { competitionId: string; drawId: string }) {
        const c = get(input.competitionId);
        c.calls.push('markSettled');
        c.settled = { drawId: input.drawId };
        c.state = 'settled';
      },
      async getTicket({ ticketId, playerId }: { ticketId: string; playerId: string }) {
        for (const c of competitions.values()) {
          const e = c.entries.find((x) => x.entryId === ticketId && x.playerId === playerId);
          if (e) return { ticketId, competitionId: c.competitionId, number: e.number, kind: e.kind, holderSalt: e.salt, holder: e.holder, state: 'valid' };
        }
        return undefined;
      },
      async getCompetition() {
        return undefined;
      },
    };
    return { service };
  },
});
