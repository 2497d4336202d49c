/** SQL of purchases, the per-player ticket counters and the tickets as their holders see them. */
import { pgCode, type Db } from '@verity/kernel';
import type { PurchaseState } from '../domain/purchase.ts';

export interface StoredProblem {
  status: number;
  code: string;
  title: string;
  detail: string;
  extensions: Record<string, unknown>;
}

export interface Purchase {
  id: string;
  playerId: string;
  idempotencyKey: string;
  requestHash: string;
  competitionId: string;
  quantity: number;
  numbers?: number[];
  amountMinor?: bigint;
  currency?: string;
  state: PurchaseState;
  skillTokenId?: string;
  reservationId: string;
  problem?: StoredProblem;
  createdAt: Date;
  issuedAt?: Date;
  settledAt?: Date;
  /** Database time when read: how old a pending claim is. */
  readAt: Date;
}

export interface TicketView {
  ticketId: string;
  competitionId: string;
  number: number;
  kind: 'paid' | 'postal';
  holderSalt: string;
  holder: string;
  state: 'valid' | 'voided';
  purchaseId?: string;
  issuedAt: Date;
  voidedAt?: Date;
  voidReason?: string;
}

type PurchaseRow = {
  id: string; player_id: string; idempotency_key: string; request_hash: string; competition_id: string; quantity: number; numbers: number[] | null;
  amount_minor: bigint | null; currency: string | null; state: PurchaseState; skill_token_id: string | null; reservation_id: string;
  problem: StoredProblem | null; created_at: Date; issued_at: Date | null; settled_at: Date | null; read_at: Date;
};

function fromRow(r: PurchaseRow): Purchase {
  const p: Purchase = {
    id: r.id, playerId: r.player_id, idempotencyKey: r.idempotency_key, requestHash: r.request_hash, competitionId: r.competition_id,
    quantity: r.quantity, state: r.state, reservationId: r.reservation_id, createdAt: r.created_at, readAt: r.read_at,
  };
  if (r.numbers) p.numbers = r.numbers;
  if (r.amount_minor !== null) p.amountMinor = r.amount_minor;
  if (r.currency) p.currency = r.currency;
  if (r.skill_token_id) p.skillTokenId = r.skill_token_id;
  if (r.problem) p.problem = r.problem;
  if (r.issued_at) p.issuedAt = r.issued_at;
  if (r.settled_at) p.settledAt = r.settled_at;
  return p;
}

type TicketRow = {
  id: string; competition_id: string; number: number; kind: 'paid' | 'postal'; holder_salt: string; holder: string; state: 'valid' | 'voided';
  purchase_id: string | null; issued_at: Date; voided_at: Date | null; void_reason: string | null;
};

export function ticketFromRow(r: TicketRow): TicketView {
  return {
    ticketId: r.id, competitionId: r.competition_id, number: r.number, kind: r.kind, holderSalt: r.holder_salt, holder: r.holder, state: r.state, issuedAt: r.issued_at,
    ...(r.purchase_id ? { purchaseId: r.purchase_id } : {}), ...(r.voided_at ? { voidedAt: r.voided_at } : {}), ...(r.void_reason ? { voidReason: r.void_reason } : {}),
  };
}

/** A claim lost to another purchase using the same skill token (unique index). */
export class SkillTokenUsed extends Error {}

/** A refusal raised by `ticketing.issue_fast` (`ticketing:<reason>[:<detail>]`); nothing was written. */
export class IssueRefused extends Error {
  readonly reason: 'lost' | 'cap' | 'closed' | 'not-on-sale' | 'contended';
  readonly detail?: string;
  constructor(reason: IssueRefused['reason'], detail?: string) {
    super(`issue refused: ${reason}`);
    this.reason = reason;
    if (detail !== undefined) this.detail = detail;
  }
}

const ISSUE_REFUSAL = /^ticketing:(lost|cap|closed|not-on-sale|contended)(?::(.*))?$/s;

export interface IssueFastInput {
  purchaseId: string;
  skillTokenId: string;
  competitionId: string;
  playerId: string;
  quantity: number;
  cap: number;
  startShard: number;
  tickets: { ids: string[]; salts: string[]; holders: string[] };
  event: { id: string; type: string; data: Record<string, unknown>; traceparent: string | null };
}

const PURCHASE_COLUMNS = '*, clock_timestamp() as read_at';

export function createPurchasesRepository(db: Db) {
  return {
    /** The claim: this request owns the (player, key) pair, or undefined when another did first. */
    async claim(p: { id: string; playerId: string; idempotencyKey: string; requestHash: string; competitionId: string; quantity: number; numbers?: readonly number[]; amountMinor: bigint; currency: string; reservationId: string }): Promise<Purchase | undefined> {
      const rows = await db.query<PurchaseRow>(
        `insert into ticketing.purchases (id, player_id, idempotency_key, request_hash, competition_id, quantity, numbers, amount_minor, currency, reservation_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (player_id, idempotency_key) do nothing returning ${PURCHASE_COLUMNS}`,
        [p.id, p.playerId, p.idempotencyKey, p.requestHash, p.competitionId, p.quantity, p.numbers ? [...p.numbers] : null, p.amountMinor, p.currency, p.reservationId],
      );
      return rows[0] ? fromRow(rows[0]) : undefined;
    },

    async byKey(playerId: string, key: string): Promise<Purchase | undefined> {
      const row = await db.maybeOne<PurchaseRow>(`select ${PURCHASE_COLUMNS} from ticketing.purchases where player_id = $1 and idempotency_key = $2`, [playerId, key]);
      return row ? fromRow(row) : undefined;
    },

    async byId(id: string, options: { lock?: boolean } = {}): Promise<Purchase | undefined> {
      const row = await db.maybeOne<PurchaseRow>(`select ${PURCHASE_COLUMNS} from ticketing.purchases where id = $1${options.lock ? ' for update' : ''}`, [id]);
      return row ? fromRow(row) : undefined;
    },

    /** What this player started buying recently (not refused or voided), other than `excludeId`. */
    async recentSpend(playerId: string, currency: string, windowS: number, excludeId: string): Promise<bigint> {
      const row = await db.one<{ total: bigint }>(
        `select coalesce(sum(amount_minor), 0)::bigint as total from ticketing.purchases
          where player_id = $1 and currency = $2 and created_at > clock_timestamp() - make_interval(secs => $3)
            and state in ('pending', 'issued', 'posted') and id <> $4`,
        [playerId, currency, windowS, excludeId],
      );
      return row.total;
    },

    /** A pending purchase ends without tickets (refused: nothing held; voided: the hold released). */
    async finishWithout(id: string, state: 'refused' | 'voided', problem: StoredProblem): Promise<boolean> {
      const rows = await db.query(
        `update ticketing.purchases set state = $2, problem = $3::jsonb, settled_at = clock_timestamp() where id = $1 and state = 'pending' returning 1`,
        [id, state, JSON.stringify(problem)],
      );
      return rows.length === 1;
    },

    /** Gives the key back: the claim never reached the ledger (a retry starts afresh). */
    async releaseClaim(id: string): Promise<void> {
      await db.query(`delete from ticketing.purchases where id = $1 and state = 'pending'`, [id]);
    },

    /**
     * The fast issuing path in one statement, its own transaction (`ticketing.issue_fast`): issued
     * tickets (id and number), or IssueRefused / SkillTokenUsed with nothing written.
     */
    async issueFast(a: IssueFastInput): Promise<{ tickets: { ticketId: string; number: number }[]; issuedAt: Date }> {
      try {
        const row = await db.one<{ r: { tickets: { ticketId: string; number: number }[]; issuedAt: string } }>(
          'select ticketing.issue_fast($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9::text[], $10::text[], $11, $12, $13::jsonb, $14) as r',
          [a.purchaseId, a.skillTokenId, a.competitionId, a.playerId, a.quantity, a.cap, a.startShard, a.tickets.ids, a.tickets.salts, a.tickets.holders,
            a.event.id, a.event.type, JSON.stringify(a.event.data), a.event.traceparent],
        );
        return { tickets: row.r.tickets, issuedAt: new Date(row.r.issuedAt) };
      } catch (err) {
        if (pgCode(err) === '23505' && (err as { constraint?: string }).constraint === 'purchases_skill_token') throw new SkillTokenUsed();
        const refused = pgCode(err) === 'P0001' ? ISSUE_REFUSAL.exec((err as Error).message) : null;
        if (refused) throw new IssueRefused(refused[1] as IssueRefused['reason'], refused[2]);
        throw err;
      }
    },

    /**
     * In one statement: pending → issued with the skill token consumed (false: someone else resolved
     * the purchase), and the player's tickets added under the cap (undefined: it would exceed it).
     */
    async issueAndCount(a: { purchaseId: string; skillTokenId: string; competitionId: string; playerId: string; count: number; cap: number }): Promise<{ issued: boolean; tickets?: number }> {
      try {
        const row = await db.one<{ issued: bigint; tickets: number | null }>(
          `with issued as (
             update ticketing.purchases set state = 'issued', skill_token_id = $2, issued_at = clock_timestamp() where id = $1 and state = 'pending' returning 1),
           counted as (
             insert into ticketing.player_tickets as p (competition_id, player_id, tickets) values ($3, $4, $5)
             on conflict (competition_id, player_id) do update set tickets = p.tickets + excluded.tickets where p.tickets + excluded.tickets <= $6
             returning tickets)
           select (select count(*) from issued) as issued, (select tickets from counted) as tickets`,
          [a.purchaseId, a.skillTokenId, a.competitionId, a.playerId, a.count, a.cap],
        );
        return { issued: row.issued === 1n, ...(row.tickets !== null ? { tickets: row.tickets } : {}) };
      } catch (err) {
        if (pgCode(err) === '23505' && (err as { constraint?: string }).constraint === 'purchases_skill_token') throw new SkillTokenUsed();
        throw err;
      }
    },

    async playerTickets(competitionId: string, playerId: string): Promise<number> {
      const row = await db.maybeOne<{ tickets: number }>('select tickets from ticketing.player_tickets where competition_id = $1 and player_id = $2', [competitionId, playerId]);
      return row?.tickets ?? 0;
    },

    async subtractPlayerTickets(competitionId: string, playerId: string, count: number): Promise<void> {
      await db.query('update ticketing.player_tickets set tickets = tickets - $3 where competition_id = $1 and player_id = $2', [competitionId, playerId, count]);
    },

    /** issued → posted for many purchases at once (the post happened; batched off the request path). */
    async markPosted(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const rows = await db.query(`update ticketing.purchases set state = 'posted', settled_at = clock_timestamp() where id = any($1::uuid[]) and state = 'issued' returning 1`, [ids]);
      return rows.length;
    },

    async markSettled(id: string, from: readonly PurchaseState[], to: 'voided' | 'refunded'): Promise<boolean> {
      const rows = await db.query(`update ticketing.purchases set state = $3, settled_at = clock_timestamp() where id = $1 and state = any($2::text[]) returning 1`, [id, from, to]);
      return rows.length === 1;
    },

    async ticketsOf(purchaseId: string): Promise<TicketView[]> {
      const rows = await db.query<TicketRow>('select * from ticketing.tickets where purchase_id = $1 order by number', [purchaseId]);
      return rows.map(ticketFromRow);
    },

    /** Voids a purchase's valid tickets; returns them (ids and numbers). */
    async voidTickets(purchaseId: string, reason: string): Promise<{ id: string; number: number }[]> {
      return db.query<{ id: string; number: number }>(
        `update ticketing.tickets set state = 'voided', voided_at = clock_timestamp(), void_reason = $2 where purchase_id = $1 and state = 'valid' returning id, number`,
        [purchaseId, reason],
      );
    },

    /** Purchases left between steps for longer than `afterS` (oldest first). */
    async unfinished(afterS: number, limit: number): Promise<Purchase[]> {
      const rows = await db.query<PurchaseRow>(
        `select ${PURCHASE_COLUMNS} from ticketing.purchases
          where state in ('pending', 'issued') and created_at < clock_timestamp() - make_interval(secs => $1)
          order by created_at limit $2`,
        [afterS, limit],
      );
      return rows.map(fromRow);
    },

    /** Paid purchases of a cancelled competition still to refund. */
    async toRefund(competitionId: string, limit: number): Promise<Purchase[]> {
      const rows = await db.query<PurchaseRow>(
        `select ${PURCHASE_COLUMNS} from ticketing.purchases where competition_id = $1 and state in ('issued', 'posted') order by id limit $2`,
        [competitionId, limit],
      );
      return rows.map(fromRow);
    },

    async pendingIn(competitionId: string): Promise<number> {
      const row = await db.one<{ n: bigint }>(`select count(*) as n from ticketing.purchases where competition_id = $1 and state = 'pending'`, [competitionId]);
      return Number(row.n);
    },

    /** A player's own tickets, newest first (keyset on the ticket id). */
    async playerTicketsPage(playerId: string, page: { competitionId?: string; beforeId?: string; limit: number }): Promise<TicketView[]> {
      const rows = await db.query<TicketRow>(
        `select * from ticketing.tickets where player_id = $1 and ($2::uuid is null or competition_id = $2) and ($3::uuid is null or id < $3)
          order by id desc limit $4`,
        [playerId, page.competitionId ?? null, page.beforeId ?? null, page.limit],
      );
      return rows.map(ticketFromRow);
    },

    async ticket(ticketId: string): Promise<(TicketView & { playerId?: string }) | undefined> {
      const row = await db.maybeOne<TicketRow & { player_id: string | null }>('select * from ticketing.tickets where id = $1', [ticketId]);
      return row ? { ...ticketFromRow(row), ...(row.player_id ? { playerId: row.player_id } : {}) } : undefined;
    },
  };
}

export type PurchasesRepository = ReturnType<typeof createPurchasesRepository>;
