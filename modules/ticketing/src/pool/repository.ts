/**
 * SQL of the number pool: the shard rows (sold counters, lucky-dip positions) and the tickets that
 * hold numbers. Every statement here runs inside the issuing transaction of a purchase or a postal
 * entry; the shard row it updates stays locked until that transaction ends, which makes the
 * transaction the only writer of its slice's numbers.
 */
import type { Db } from '@verity/kernel';

export interface ShardGrant {
  shard: number;
  lo: number;
  capacity: number;
  /** First lucky-dip position granted (positions firstSlot … firstSlot + count − 1). */
  firstSlot: number;
  /** Database time of the grant: the sale happened then (checked against closes_at). */
  at: Date;
}

export interface PoolState {
  shards: number;
  selling: boolean;
  closesAt?: Date;
  now: Date;
  free: number;
  maxFree: number;
  /** A shard with room for the request by the last committed counts (to wait on), if any. */
  candidate?: number;
  /** Numbers free per shard by the last committed counts (index = shard). */
  rooms: number[];
}

export interface LockedShard {
  shard: number;
  lo: number;
  capacity: number;
  sold: number;
  selling: boolean;
  closesAt: Date;
  now: Date;
}

/** Whose tickets a fill issues (one owner per call: ids, salts and holders are interchangeable). */
export interface TicketOwner {
  kind: 'paid' | 'postal';
  purchaseId?: string;
  postalEntryId?: string;
  playerId?: string;
}

/** Ids, holder salts and holder commitments for tickets about to be issued. */
export interface TicketSet {
  ids: string[];
  salts: string[];
  holders: string[];
}

export interface NewTicket {
  id: string;
  competitionId: string;
  number: number;
  kind: 'paid' | 'postal';
  purchaseId?: string;
  postalEntryId?: string;
  playerId?: string;
  holderSalt: string;
  holder: string;
  issuedAt: Date;
}

const grant = (r: { shard: number; lo: number; capacity: number; first_slot: number; at: Date }): ShardGrant => ({ shard: r.shard, lo: r.lo, capacity: r.capacity, firstSlot: r.first_slot, at: r.at });

export function createPoolRepository(db: Db) {
  return {
    /** One shard, waiting for whoever holds it; undefined when it has no room (or sales ended) by then. */
    async takeShard(competitionId: string, shard: number, count: number, ignoreSales: boolean, advanceSlots = true): Promise<ShardGrant | undefined> {
      const rows = await db.query<{ shard: number; lo: number; capacity: number; first_slot: number; at: Date }>(
        `update ticketing.number_shards set sold = sold + $3, next_slot = next_slot + case when $5::boolean then $3 else 0 end
          where competition_id = $1 and shard = $2 and capacity - sold >= $3 and ($4::boolean or (selling and closes_at > clock_timestamp()))
          returning shard, lo, capacity, next_slot - case when $5::boolean then $3 else 0 end as first_slot, clock_timestamp() as at`,
        [competitionId, shard, count, ignoreSales, advanceSlots],
      );
      return rows[0] ? grant(rows[0]) : undefined;
    },

    /** The pool by its last committed counts (no locks). */
    async state(competitionId: string, count: number): Promise<PoolState> {
      const row = await db.one<{ shards: bigint; selling: boolean | null; closes_at: Date | null; now: Date; free: bigint | null; max_free: number | null; candidate: number | null; rooms: number[] | null }>(
        `select count(*) as shards, bool_and(selling) as selling, max(closes_at) as closes_at, clock_timestamp() as now,
                sum(capacity - sold)::bigint as free, max(capacity - sold) as max_free,
                (array_agg(shard order by random()) filter (where capacity - sold >= $2))[1] as candidate,
                array_agg(capacity - sold order by shard) as rooms
           from ticketing.number_shards where competition_id = $1`,
        [competitionId, count],
      );
      return {
        shards: Number(row.shards), selling: row.selling ?? false, now: row.now, free: Number(row.free ?? 0n), maxFree: row.max_free ?? 0, rooms: row.rooms ?? [],
        ...(row.closes_at ? { closesAt: row.closes_at } : {}), ...(row.candidate !== null ? { candidate: row.candidate } : {}),
      };
    },

    /** Every shard, locked in shard order (the fixed lock order): the exact answer near sell-out. */
    async lockAll(competitionId: string): Promise<LockedShard[]> {
      const rows = await db.query<{ shard: number; lo: number; capacity: number; sold: number; selling: boolean; closes_at: Date; now: Date }>(
        `select shard, lo, capacity, sold, selling, closes_at, clock_timestamp() as now from ticketing.number_shards
          where competition_id = $1 order by shard for update`,
        [competitionId],
      );
      return rows.map((r) => ({ shard: r.shard, lo: r.lo, capacity: r.capacity, sold: r.sold, selling: r.selling, closesAt: r.closes_at, now: r.now }));
    },

    /**
     * Issues tickets in a shard this transaction holds (its counter already counts them): the next
     * lucky-dip positions, then a scan of the slice (`ticketing.fill_shard`). Returns id → number.
     */
    async fill(competitionId: string, g: ShardGrant, owner: TicketOwner, set: TicketSet): Promise<Map<string, number>> {
      const rows = await db.query<{ ticket_id: string; ticket_number: number }>(
        'select ticket_id, ticket_number from ticketing.fill_shard($1, $2, $3, $4, $5, $6, $7, $8, $9::uuid[], $10::text[], $11::text[])',
        [competitionId, g.shard, g.firstSlot, g.at, owner.kind, owner.purchaseId ?? null, owner.postalEntryId ?? null, owner.playerId ?? null, set.ids, set.salts, set.holders],
      );
      return new Map(rows.map((r) => [r.ticket_id, r.ticket_number]));
    },

    /** Inserts tickets whose numbers are free; returns the numbers inserted (taken ones are skipped). */
    async insertTickets(tickets: readonly NewTicket[]): Promise<Set<number>> {
      if (tickets.length === 0) return new Set();
      const col = <K extends keyof NewTicket>(k: K) => tickets.map((t) => t[k] ?? null);
      const rows = await db.query<{ number: number }>(
        `insert into ticketing.tickets (id, competition_id, number, kind, purchase_id, postal_entry_id, player_id, holder_salt, holder, issued_at)
         select * from unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
         on conflict (competition_id, number) where state = 'valid' do nothing
         returning number`,
        [col('id'), col('competitionId'), col('number'), col('kind'), col('purchaseId'), col('postalEntryId'), col('playerId'), col('holderSalt'), col('holder'), col('issuedAt')],
      );
      return new Set(rows.map((r) => r.number));
    },

    async takenAmong(competitionId: string, numbers: readonly number[]): Promise<number[]> {
      const rows = await db.query<{ number: number }>(
        `select number from ticketing.tickets where competition_id = $1 and number = any($2::int[]) and state = 'valid' order by number`,
        [competitionId, numbers],
      );
      return rows.map((r) => r.number);
    },

    /** Numbers given back (voided tickets): their slices' counters go down. */
    async release(competitionId: string, numbers: readonly number[]): Promise<void> {
      if (numbers.length === 0) return;
      await db.query(
        `update ticketing.number_shards s set sold = s.sold - r.n
           from (select s2.shard, count(*)::int as n from unnest($2::int[]) x
                   join ticketing.number_shards s2 on s2.competition_id = $1 and x between s2.lo and s2.lo + s2.capacity - 1
                  group by s2.shard) r
          where s.competition_id = $1 and s.shard = r.shard`,
        [competitionId, numbers],
      );
    },
  };
}

export type PoolRepository = ReturnType<typeof createPoolRepository>;
