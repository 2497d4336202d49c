/**
 * What the draws module reads (TicketingService): sales counts, the canonical list of valid entries
 * (paid tickets and valid postal entries, by number), and a player's own ticket for inclusion proofs.
 */
import type { Db } from '@verity/kernel';
import type { CompetitionsRepository } from './competitions/repository.ts';
import type { PurchasesRepository } from './purchases/repository.ts';

export const ENTRIES_PAGE_MAX = 10_000;

export interface Entry {
  entryId: string;
  number: number;
  kind: 'paid' | 'postal';
  holder: string;
}

export function createEntries(db: Db, deps: { competitions: CompetitionsRepository; purchases: PurchasesRepository }) {
  return {
    async salesSummary(competitionId: string) {
      const c = await deps.competitions.get(competitionId);
      if (!c) return undefined;
      const n = await deps.competitions.entryCounts(competitionId);
      return { ...n, state: c.state, ...(c.closedAt ? { closedAt: c.closedAt } : {}) };
    },

    async list(competitionId: string, afterNumber: number | undefined, limit: number): Promise<{ entries: Entry[]; nextAfter?: number }> {
      const size = Math.max(1, Math.min(ENTRIES_PAGE_MAX, Math.floor(limit)));
      const rows = await db.query<{ id: string; number: number; kind: 'paid' | 'postal'; holder: string }>(
        `select id, number, kind, holder from ticketing.tickets
          where competition_id = $1 and state = 'valid' and number > $2 order by number limit $3`,
        [competitionId, afterNumber ?? 0, size],
      );
      const entries = rows.map((r) => ({ entryId: r.id, number: r.number, kind: r.kind, holder: r.holder }));
      return { entries, ...(rows.length === size ? { nextAfter: rows.at(-1)!.number } : {}) };
    },

    async ticketOf(ticketId: string, playerId: string) {
      const t = await deps.purchases.ticket(ticketId);
      if (!t || t.playerId !== playerId) return undefined;
      return { ticketId: t.ticketId, competitionId: t.competitionId, number: t.number, kind: t.kind, holderSalt: t.holderSalt, holder: t.holder, state: t.state };
    },
  };
}
