/**
 * The draw protocol, v1 (docs/draw-protocol.md is the normative text; this file follows it).
 *
 * Entries → canonical leaf bytes → RFC 9162 root; manifest/close/result records as RFC 8785 JSON
 * logged in the evidence log; winners from HMAC_DRBG(entropy = beacon randomness, nonce = operator
 * secret, personalization = "verity/draw/v1" ‖ 0x00 ‖ drawId ‖ root ‖ count u64be) by partial
 * Fisher-Yates over [0, count) with 64-bit rejection sampling.
 */
import { concat, fromHex, isSafeIndex, sha256, toHex, u64be, utf8 } from './bytes.ts';
import { HmacDrbg } from './drbg.ts';
import { canonicalJsonBytes } from './jcs.ts';
import { emptyRoot, HASH_SIZE, inclusionProof, leafHash, MerkleBuilder, verifyInclusion } from './merkle.ts';
import { nodeHashWords, sha256Block59, wordsToBytes } from './sha256-words.ts';

export const DRAW_PERSONALIZATION_TAG = 'verity/draw/v1';
export const HOLDER_TAG = 'verity/holder/v1';
export const ENTRY_FORMAT_V1 = 0x01;
export const ENTRY_LEAF_BYTES = 58;
export const RECORD_TYPES = {
  manifest: 'verity/draw/manifest/v1',
  close: 'verity/draw/close/v1',
  result: 'verity/draw/result/v1',
} as const;
/** More winners than this in one draw is a configuration error, not a draw. */
export const MAX_WINNERS = 100_000;

export type EntryKind = 'paid' | 'postal';
const KIND_BYTE: Record<EntryKind, number> = { paid: 0x01, postal: 0x02 };

export interface CanonicalEntry {
  /** Lowercase canonical UUID (8-4-4-4-12). */
  entryId: string;
  /** Ticket number in the competition; the canonical order is by number ascending. */
  number: number;
  kind: EntryKind;
  /** Lowercase hex SHA-256 commitment to the holder (holderCommitment), never a player id. */
  holder: string;
}

export interface PrizeTier {
  tier: number;
  description: string;
  winners: number;
  cashMinor?: string;
  currency?: string;
}

export interface ManifestBeacon {
  network: string;
  chainHash: string;
  publicKey: string;
  period: number;
  genesisTime: number;
  schemeID: string;
  round: number;
  fallbackRounds: number[];
  nonProduction: boolean;
}

export interface DrawManifest {
  version: 1;
  drawId: string;
  competitionId: string;
  origin?: string;
  prizeTiers: PrizeTier[];
  winnerCount: number;
  closesAt: string;
  beacon: ManifestBeacon;
  operatorCommitment: string;
  rulesHash?: string;
  createdAt: string;
}

/** sold − voided + postal = count; paid entries = sold − voided; postal entries = postal. */
export interface Reconciliation {
  sold: number;
  voided: number;
  postal: number;
}

export interface CloseSnapshotRecord {
  type: typeof RECORD_TYPES.close;
  drawId: string;
  competitionId: string;
  manifestLeafIndex: number;
  manifestLeafHash: string;
  entriesRoot: string;
  count: number;
  reconciliation: Reconciliation;
  closedAt: string;
}

export interface DrawWinner {
  tier: number;
  /** 0-based draw position (the order the DRBG produced it). */
  position: number;
  /** 0-based index into the canonical entry order. */
  index: number;
  entryId: string;
  number: number;
}

export interface ResultBeacon {
  chainHash: string;
  round: number;
  signature: string;
  randomness: string;
  /** Where the beacon was fetched from (URL, or "local:<name>" for the non-production sandbox). */
  fetchedFrom: string;
}

export interface ResultRecord {
  type: typeof RECORD_TYPES.result;
  drawId: string;
  manifestLeafHash: string;
  snapshotLeafIndex: number;
  snapshotLeafHash: string;
  beacon: ResultBeacon;
  operatorSecret: string;
  winners: DrawWinner[];
  drawnAt: string;
}


export class DrawProtocolError extends Error {
  override name = 'DrawProtocolError';
}

/** holder = SHA-256("verity/holder/v1" ‖ 0x00 ‖ salt[32] ‖ UTF-8(playerId)), lowercase hex. */
export function holderCommitment(salt: Uint8Array, playerId: string): string {
  if (salt.length !== 32) throw new DrawProtocolError('holder salt must be 32 bytes');
  if (typeof playerId !== 'string' || playerId.length === 0) throw new DrawProtocolError('player id must be a non-empty string');
  return toHex(sha256(concat(utf8(HOLDER_TAG), new Uint8Array([0x00]), salt, utf8(playerId))));
}

/** Decodes `len` lowercase hex digits of s from `from` into out at `at`; false on any other character. */
function hexInto(s: string, from: number, len: number, out: Uint8Array, at: number): boolean {
  for (let i = 0; i < len; i += 2) {
    const hi = hexDigit(s.charCodeAt(from + i));
    const lo = hexDigit(s.charCodeAt(from + i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + i / 2] = (hi << 4) | lo;
  }
  return true;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The canonical UUID 8-4-4-4-12 in lowercase hex, as 16 bytes at out[at..]. */
function uuidInto(id: unknown, out: Uint8Array, at: number): boolean {
  if (typeof id !== 'string' || id.length !== 36) return false;
  if (id.charCodeAt(8) !== 0x2d || id.charCodeAt(13) !== 0x2d || id.charCodeAt(18) !== 0x2d || id.charCodeAt(23) !== 0x2d) return false;
  return hexInto(id, 0, 8, out, at) && hexInto(id, 9, 4, out, at + 4) && hexInto(id, 14, 4, out, at + 6) && hexInto(id, 19, 4, out, at + 8) && hexInto(id, 24, 12, out, at + 10);
}

/**
 * Writes the 58 canonical bytes of an entry at out[at..]: 0x01 ‖ uuid[16] ‖ number u64be ‖ kind
 * (0x01 paid, 0x02 postal) ‖ holder[32]. Throws DrawProtocolError on a non-canonical entry.
 */
function encodeEntry(e: CanonicalEntry, out: Uint8Array, at: number): void {
  if (!uuidInto(e.entryId, out, at + 1)) throw new DrawProtocolError(`entryId ${JSON.stringify(e.entryId)} is not a lowercase UUID`);
  const n = e.number;
  if (!isSafeIndex(n)) throw new DrawProtocolError(`entry ${e.entryId}: number must be a safe non-negative integer`);
  const kind = e.kind === 'paid' ? KIND_BYTE.paid : e.kind === 'postal' ? KIND_BYTE.postal : 0;
  if (kind === 0) throw new DrawProtocolError(`entry ${e.entryId}: kind must be paid or postal`);
  if (typeof e.holder !== 'string' || e.holder.length !== 64 || !hexInto(e.holder, 0, 64, out, at + 26)) throw new DrawProtocolError(`entry ${e.entryId}: holder must be 64 lowercase hex digits`);
  out[at] = ENTRY_FORMAT_V1;
  const hi = Math.floor(n / 2 ** 32);
  const lo = n - hi * 2 ** 32;
  out[at + 17] = hi >>> 24;
  out[at + 18] = (hi >>> 16) & 0xff;
  out[at + 19] = (hi >>> 8) & 0xff;
  out[at + 20] = hi & 0xff;
  out[at + 21] = lo >>> 24;
  out[at + 22] = (lo >>> 16) & 0xff;
  out[at + 23] = (lo >>> 8) & 0xff;
  out[at + 24] = lo & 0xff;
  out[at + 25] = kind;
}

/**
 * Canonical leaf data of an entry (58 bytes): 0x01 ‖ uuid[16] ‖ number u64be ‖ kind (0x01 paid,
 * 0x02 postal) ‖ holder[32].
 */
export function entryLeafData(e: CanonicalEntry): Uint8Array {
  const out = new Uint8Array(ENTRY_LEAF_BYTES);
  encodeEntry(e, out, 0);
  return out;
}

export function entryLeafHash(e: CanonicalEntry): Uint8Array {
  return leafHash(entryLeafData(e));
}

/** Largest tree the word-based builder holds: one compact-range slot per bit of the count. */
const MAX_LEVELS = 53;

/**
 * Streams entries (in canonical order: number strictly ascending) into the RFC 9162 root and count.
 * O(log n) memory — accepts a generator over tens of millions of entries — and allocates nothing per
 * entry: leaf and node hashes stay as words in a compact range (sha256-words.ts).
 */
export function entriesRoot(entries: Iterable<CanonicalEntry>): { root: Uint8Array; count: number } {
  const block = new Uint8Array(64);
  block[0] = 0x00;
  block[59] = 0x80; // SHA-256 padding after the 59-byte leaf input; bytes 60..63 stay zero
  const range = new Int32Array((MAX_LEVELS + 1) * 8);
  const levels = new Int8Array(MAX_LEVELS + 1);
  let top = 0; // slots in use; slot k holds words range[k*8 .. k*8+8)
  let count = 0;
  let last = -1;
  for (const e of entries) {
    encodeEntry(e, block, 1);
    if (e.number <= last) throw new DrawProtocolError(`entries out of canonical order: number ${e.number} after ${last}`);
    last = e.number;
    sha256Block59(block, range, top * 8);
    let level = 0;
    while (top > 0 && levels[top - 1] === level) {
      nodeHashWords(range, (top - 1) * 8, top * 8, range, (top - 1) * 8);
      top--;
      level++;
    }
    levels[top] = level;
    top++;
    count++;
  }
  if (top === 0) return { root: emptyRoot(), count: 0 };
  for (let k = top - 1; k > 0; k--) nodeHashWords(range, (k - 1) * 8, k * 8, range, (k - 1) * 8);
  return { root: wordsToBytes(range, 0), count };
}

/** What is logged for a manifest: RFC 8785 JSON of the manifest with "type" added. */
export function manifestBytes(m: DrawManifest): Uint8Array {
  if ((m as unknown as Record<string, unknown>).type !== undefined) throw new DrawProtocolError('a manifest has no "type" member; manifestBytes adds it');
  return canonicalJsonBytes({ ...m, type: RECORD_TYPES.manifest });
}

export function closeRecordBytes(r: CloseSnapshotRecord): Uint8Array {
  if (r.type !== RECORD_TYPES.close) throw new DrawProtocolError(`close record type must be ${RECORD_TYPES.close}`);
  return canonicalJsonBytes(r);
}

export function resultRecordBytes(r: ResultRecord): Uint8Array {
  if (r.type !== RECORD_TYPES.result) throw new DrawProtocolError(`result record type must be ${RECORD_TYPES.result}`);
  return canonicalJsonBytes(r);
}

/** operatorCommitment = lowercase hex SHA-256(s_op), s_op being exactly 32 bytes. */
export function operatorCommitment(operatorSecret: Uint8Array): string {
  if (operatorSecret.length !== 32) throw new DrawProtocolError('the operator secret must be 32 bytes');
  return toHex(sha256(operatorSecret));
}

export function drawPersonalization(drawId: string, root: Uint8Array, count: number): Uint8Array {
  return concat(utf8(DRAW_PERSONALIZATION_TAG), new Uint8Array([0x00]), utf8(drawId), root, u64be(count));
}

const TWO_64 = 1n << 64n;

/** A uniform integer in [0, range) from 8-byte DRBG outputs, rejecting the biased top of the u64 range. */
export function uniformBelow(drbg: Pick<HmacDrbg, 'generate'>, range: number): number {
  const r = BigInt(range);
  const limit = TWO_64 - (TWO_64 % r);
  for (;;) {
    const bytes = drbg.generate(8);
    const x = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, false);
    if (x < limit) return Number(x % r);
  }
}

export interface SelectionInput {
  beaconRandomness: Uint8Array;
  operatorSecret: Uint8Array;
  drawId: string;
  entriesRoot: Uint8Array;
  count: number;
  winners: number;
}

/**
 * Winner indices into the canonical order, in draw position order. Partial Fisher-Yates over a
 * virtual array [0, count): position i swaps with j = i + uniformBelow(count − i); O(winners) time
 * and memory (a sparse map holds the swapped slots).
 */
export function selectWinners(input: SelectionInput): number[] {
  const { beaconRandomness, operatorSecret, drawId, count, winners } = input;
  if (beaconRandomness.length !== 32) throw new DrawProtocolError('beacon randomness must be 32 bytes');
  if (operatorSecret.length !== 32) throw new DrawProtocolError('the operator secret must be 32 bytes');
  if (input.entriesRoot.length !== HASH_SIZE) throw new DrawProtocolError('entries root must be 32 bytes');
  if (typeof drawId !== 'string' || drawId.length === 0) throw new DrawProtocolError('draw id must be a non-empty string');
  if (!isSafeIndex(count)) throw new DrawProtocolError('count must be a safe non-negative integer');
  if (!isSafeIndex(winners) || winners > count || winners > MAX_WINNERS) throw new DrawProtocolError(`winners must be an integer in [0, min(count, ${MAX_WINNERS})]`);
  const drbg = new HmacDrbg(beaconRandomness, operatorSecret, drawPersonalization(drawId, input.entriesRoot, count));
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < winners; i++) {
    const j = i + uniformBelow(drbg, count - i);
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(atJ);
  }
  return out;
}

/** Winners drawn for a manifest: min(winnerCount, count). */
export function winnersToDraw(manifest: Pick<DrawManifest, 'winnerCount'>, count: number): number {
  return Math.min(manifest.winnerCount, count);
}

/** The prize tier of a draw position: tiers in manifest order take consecutive positions. */
export function tierOfPosition(manifest: Pick<DrawManifest, 'prizeTiers'>, position: number): number {
  let start = 0;
  for (const t of manifest.prizeTiers) {
    if (position < start + t.winners) return t.tier;
    start += t.winners;
  }
  throw new DrawProtocolError(`position ${position} is beyond the manifest's winners`);
}

export interface DrawInputs {
  manifest: DrawManifest;
  entriesRoot: Uint8Array;
  count: number;
  beaconRandomness: Uint8Array;
  operatorSecret: Uint8Array;
  /** The entry at a canonical index (from memory or storage). */
  entryAt: (index: number) => CanonicalEntry;
}

/** Runs the selection for a manifest and names the winners with their tiers. */
export function drawWinners(input: DrawInputs): DrawWinner[] {
  const { manifest, count } = input;
  const indices = selectWinners({
    beaconRandomness: input.beaconRandomness,
    operatorSecret: input.operatorSecret,
    drawId: manifest.drawId,
    entriesRoot: input.entriesRoot,
    count,
    winners: winnersToDraw(manifest, count),
  });
  return indices.map((index, position) => {
    const e = input.entryAt(index);
    return { tier: tierOfPosition(manifest, position), position, index, entryId: e.entryId, number: e.number };
  });
}

export interface EntryInclusion {
  index: number;
  proof: string[];
  root: string;
  count: number;
  leaf: CanonicalEntry;
}

/** What a player gets for their own ticket: its canonical index and inclusion proof in the close root. */
export function entryInclusionProof(entries: readonly CanonicalEntry[], entryId: string): EntryInclusion {
  const index = entries.findIndex((e) => e.entryId === entryId);
  if (index < 0) throw new DrawProtocolError(`entry ${entryId} is not in the snapshot`);
  const leaves = entries.map(entryLeafHash);
  const root = new MerkleBuilder();
  leaves.forEach((l) => root.push(l));
  return { index, proof: inclusionProof(leaves, index, leaves.length).map(toHex), root: toHex(root.root()), count: leaves.length, leaf: { ...entries[index]! } };
}

/**
 * A player's check: their entry is leaf `index` of the published close root. With salt and player
 * id, also that the holder commitment is theirs. Never throws.
 */
export function verifyEntryInclusion(input: { leaf: CanonicalEntry; index: number; count: number; proof: readonly string[]; root: string; salt?: string; playerId?: string }): boolean {
  try {
    if (input.salt !== undefined || input.playerId !== undefined) {
      if (input.salt === undefined || input.playerId === undefined) return false;
      if (holderCommitment(fromHex(input.salt, 32), input.playerId) !== input.leaf.holder) return false;
    }
    const proof = input.proof.map((p) => fromHex(p, HASH_SIZE));
    return verifyInclusion(entryLeafHash(input.leaf), input.index, input.count, proof, fromHex(input.root, HASH_SIZE));
  } catch {
    return false;
  }
}
