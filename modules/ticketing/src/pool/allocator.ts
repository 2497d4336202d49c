/**
 * Takes numbers from the pool inside the caller's issuing transaction, which it leaves holding the
 * shard rows it used. A number is granted only under its shard's locked counter, so the pool never
 * oversells; a buyer is told "sold out" only when every shard, locked, has fewer numbers left than
 * asked for, so it never undersells.
 *
 * Lock discipline (no deadlocks): a transaction waits for shard rows only in ascending shard order
 * (`ordered`, `exact`, chosen numbers). The fast lucky dip (`ticketing.issue_fast`, one statement)
 * never waits: it takes a shard nobody holds (skip locked) and may, as PostgreSQL does with a row
 * whose recheck failed, keep a stray lock — harmless, because after it the statement waits for no
 * shard. When no free shard turns up it raises (dropping any stray lock) and the caller, in a new
 * transaction, waits in order for a shard with room from a random starting shard (`ordered`); only
 * if that finds none (near sell-out) does a third transaction lock every shard (`exact`).
 */
import { uuidv7 } from '@verity/kernel';
import { holderOf, newHolderSalt, postalOwner } from '../domain/holder.ts';
import type { PoolRepository, ShardGrant, TicketOwner, TicketSet } from './repository.ts';

export type PoolRefusal =
  | { refusal: 'sold-out'; remaining: number }
  | { refusal: 'closed'; closesAt: Date }
  | { refusal: 'not-on-sale' }
  | { refusal: 'number-taken'; numbers: number[] };

export interface PoolCompetition {
  id: string;
  maxTickets: number;
  shardCount: number;
}

export interface IssuedTicket {
  id: string;
  number: number;
  holderSalt: string;
  holder: string;
  issuedAt: Date;
}

export interface Allocation {
  tickets: IssuedTicket[];
  /** Database time of the sale (the latest shard grant): always before closes_at for a sale. */
  issuedAt: Date;
}

/** Ids, salts and holder commitments of `count` tickets of one owner. */
export function ticketSet(owner: TicketOwner, count: number): TicketSet {
  const who = owner.kind === 'paid' ? owner.playerId! : postalOwner(owner.postalEntryId!);
  const salts = Array.from({ length: count }, newHolderSalt);
  return { ids: salts.map(() => uuidv7()), salts, holders: salts.map((salt) => holderOf(salt, who)) };
}

/** The tickets a fill issued, with the salts and holders they were given. */
export function issuedFrom(set: TicketSet, numbers: ReadonlyMap<string, number>, issuedAt: Date): IssuedTicket[] {
  const out: IssuedTicket[] = [];
  set.ids.forEach((id, i) => {
    const number = numbers.get(id);
    if (number !== undefined) out.push({ id, number, holderSalt: set.salts[i]!, holder: set.holders[i]!, issuedAt });
  });
  return out.sort((a, b) => a.number - b.number);
}


export const isRefusal = (r: Allocation | PoolRefusal): r is PoolRefusal => 'refusal' in r;

function blockedSales(st: { closesAt?: Date; now: Date; selling: boolean }): PoolRefusal | undefined {
  if (st.closesAt && st.now.getTime() >= st.closesAt.getTime()) return { refusal: 'closed', closesAt: st.closesAt };
  if (!st.selling) return { refusal: 'not-on-sale' };
  return undefined;
}

export function createAllocator(repo: PoolRepository) {
  /** Issues `count` tickets in a granted shard (its counter already counts them). */
  async function fill(c: PoolCompetition, g: ShardGrant, count: number, owner: TicketOwner): Promise<IssuedTicket[]> {
    const set = ticketSet(owner, count);
    const tickets = issuedFrom(set, await repo.fill(c.id, g, owner, set), g.at);
    if (tickets.length !== count) throw new Error(`pool invariant broken: shard ${g.shard} of ${c.id} issued ${tickets.length} of ${count}`);
    return tickets;
  }

  async function exact(c: PoolCompetition, count: number, owner: TicketOwner, ignoreSales: boolean): Promise<Allocation | PoolRefusal> {
    const shards = await repo.lockAll(c.id);
    if (shards.length === 0) return { refusal: 'not-on-sale' };
    const blocked = ignoreSales ? undefined : blockedSales({ closesAt: shards[0]!.closesAt, now: shards[0]!.now, selling: shards.every((s) => s.selling) });
    if (blocked) return blocked;
    const free = shards.reduce((sum, s) => sum + (s.capacity - s.sold), 0);
    if (free < count) return { refusal: 'sold-out', remaining: free };
    const tickets: IssuedTicket[] = [];
    let issuedAt = shards[0]!.now;
    for (const s of shards) {
      const want = Math.min(s.capacity - s.sold, count - tickets.length);
      if (want <= 0) continue;
      const g = await repo.takeShard(c.id, s.shard, want, ignoreSales);
      if (!g) throw new Error(`pool invariant broken: locked shard ${s.shard} of ${c.id} refused ${want}`);
      tickets.push(...(await fill(c, g, want, owner)));
      issuedAt = g.at;
    }
    return { tickets, issuedAt };
  }

  /**
   * The ordered lucky dip: from a random shard with room (by committed counts), wait for each shard
   * in ascending order until one grants the numbers. `contended`: none did (the exact path decides).
   */
  async function luckyDipOrdered(c: PoolCompetition, count: number, owner: TicketOwner): Promise<Allocation | PoolRefusal | 'contended'> {
    const st = await repo.state(c.id, count);
    if (st.shards === 0) return { refusal: 'not-on-sale' };
    const blocked = blockedSales(st);
    if (blocked) return blocked;
    if (st.candidate === undefined) return 'contended';
    for (let shard = st.candidate; shard < st.rooms.length; shard++) {
      if (st.rooms[shard]! < count) continue;
      const g = await repo.takeShard(c.id, shard, count, false);
      if (g) return { tickets: await fill(c, g, count, owner), issuedAt: g.at };
    }
    return 'contended';
  }

  /** The exact lucky dip: every shard locked in order, numbers taken from several if needed. */
  async function luckyDipExact(c: PoolCompetition, count: number, owner: TicketOwner, options: { ignoreSales?: boolean } = {}): Promise<Allocation | PoolRefusal> {
    return exact(c, count, owner, options.ignoreSales ?? false);
  }

  async function chosen(c: PoolCompetition, numbers: readonly number[], owner: TicketOwner): Promise<Allocation | PoolRefusal> {
    const size = Math.ceil(c.maxTickets / c.shardCount);
    const byShard = new Map<number, number[]>();
    for (const n of numbers) {
      const shard = Math.floor((n - 1) / size);
      byShard.set(shard, [...(byShard.get(shard) ?? []), n]);
    }
    const tickets: IssuedTicket[] = [];
    let issuedAt: Date | undefined;
    for (const shard of [...byShard.keys()].sort((a, b) => a - b)) {
      const wanted = byShard.get(shard)!;
      const g = await repo.takeShard(c.id, shard, wanted.length, false, false);
      if (!g) {
        const st = await repo.state(c.id, 1);
        const blocked = st.shards === 0 ? { refusal: 'not-on-sale' as const } : blockedSales(st);
        if (blocked) return blocked;
        const taken = await repo.takenAmong(c.id, wanted);
        return { refusal: 'number-taken', numbers: taken.length ? taken : wanted };
      }
      const set = ticketSet(owner, wanted.length);
      const rows = wanted.map((number, i) => ({ id: set.ids[i]!, competitionId: c.id, number, ...owner, holderSalt: set.salts[i]!, holder: set.holders[i]!, issuedAt: g.at }));
      const inserted = await repo.insertTickets(rows);
      const taken = wanted.filter((n) => !inserted.has(n));
      if (taken.length) return { refusal: 'number-taken', numbers: taken };
      tickets.push(...rows.map((r) => ({ id: r.id, number: r.number, holderSalt: r.holderSalt, holder: r.holder, issuedAt: g.at })));
      issuedAt = g.at;
    }
    return { tickets: tickets.sort((a, b) => a.number - b.number), issuedAt: issuedAt! };
  }

  return { luckyDipOrdered, luckyDipExact, chosen };
}

export type Allocator = ReturnType<typeof createAllocator>;
