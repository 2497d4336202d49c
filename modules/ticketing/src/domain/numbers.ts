/**
 * The number pool of a competition: 1..maxTickets, split into contiguous slices (shards), each a row
 * with its own sold counter, so concurrent buyers lock different rows. A lucky dip takes the next
 * positions of its slice's keyed pseudo-random permutation (see roundKeys): numbers look random,
 * and allocating one costs no search while the slice fills.
 */
import { createHmac } from 'node:crypto';

/** Below this many numbers per slice, fewer slices: a tiny competition needs no spreading. */
export const SHARD_NUMBERS_MIN = 64;

export interface ShardSlice {
  shard: number;
  /** First number of the slice. */
  lo: number;
  capacity: number;
}

export function shardLayout(maxTickets: number, maxShards: number): ShardSlice[] {
  if (!Number.isInteger(maxTickets) || maxTickets < 1) throw new Error('maxTickets must be a positive integer');
  const count = Math.max(1, Math.min(maxShards, Math.floor(maxTickets / SHARD_NUMBERS_MIN)));
  const size = Math.ceil(maxTickets / count);
  const slices: ShardSlice[] = [];
  for (let lo = 1, shard = 0; lo <= maxTickets; lo += size, shard++) slices.push({ shard, lo, capacity: Math.min(size, maxTickets - lo + 1) });
  return slices;
}

/** The slice a chosen number belongs to. */
export function shardOf(number: number, slices: readonly ShardSlice[]): number {
  const size = slices[0]!.capacity;
  return Math.floor((number - 1) / size);
}

const ROUNDS = 4;

/**
 * The round keys of a slice's lucky-dip permutation: 4 × 32 bits from HMAC-SHA256 of the
 * competition's secret. The permutation itself is `ticketing.lucky_offset` (0002_issue.sql): a
 * 4-round Feistel network on the next power of four with MurmurHash3's finalizer as round function,
 * cycle-walking back into the slice — a bijection, so a slice fills without searching.
 */
export function roundKeys(key: Buffer, shard: number): bigint[] {
  const digest = createHmac('sha256', key).update(`verity/lucky-dip/v1:${shard}`).digest();
  return Array.from({ length: ROUNDS }, (_, r) => BigInt(digest.readUInt32BE(r * 4)));
}
