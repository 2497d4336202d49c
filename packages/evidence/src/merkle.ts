/**
 * RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.
 *
 * leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), MTH({}) = SHA-256("").
 * Indexes and sizes are plain numbers (safe integers < 2^53); arithmetic avoids 32-bit bit operators.
 *
 * Two ways to get proofs: from an in-memory list of leaf hashes (the stateless functions, O(n) each;
 * `MerkleTree` keeps every level for O(log n) proofs), or from storage through a `ProofPlan`: the
 * PostgreSQL log stores the hash of every complete subtree (level, index), covering leaves
 * [index·2^level, (index+1)·2^level); a plan names the nodes a proof needs and assembles the proof.
 */
import { bytesEqual, concat, isSafeIndex, sha256 } from './bytes.ts';

const LEAF_PREFIX = new Uint8Array([0x00]);
const EMPTY_ROOT = sha256(new Uint8Array(0));
/** A proof longer than this cannot belong to a tree of fewer than 2^53 leaves. */
const MAX_PROOF_LENGTH = 128;

export const HASH_SIZE = 32;

export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(concat(LEAF_PREFIX, data));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

export function emptyRoot(): Uint8Array {
  return EMPTY_ROOT.slice();
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

function assertSize(size: number, what = 'size'): void {
  if (!isSafeIndex(size)) throw new RangeError(`${what} must be a safe non-negative integer, got ${size}`);
}

/** MTH over leafHashes[lo, hi), computed bottom-up through a compact range (O(log n) memory). */
function subtreeRoot(leafHashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const b = new MerkleBuilder();
  for (let i = lo; i < hi; i++) b.push(leafHashes[i]!);
  return b.root();
}

/** RFC 9162 §2.1.1 MTH over the given leaf hashes. */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

export interface CompletedNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/**
 * Streaming root: the compact range of [0, size) — at most one complete subtree per set bit of
 * size, largest first — so 10M leaves take ~24 hashes of memory.
 */
export class MerkleBuilder {
  #hashes: Uint8Array[] = [];
  #levels: number[] = [];
  #size = 0;

  /** Resumes from the compact range of [0, size): the node hashes `rootPlan(size).refs` names, in order. */
  static resume(size: number, compactRange: readonly Uint8Array[]): MerkleBuilder {
    assertSize(size);
    const refs = compactRangeRefs(0, size);
    if (refs.length !== compactRange.length) throw new RangeError(`a compact range of ${size} leaves has ${refs.length} nodes, got ${compactRange.length}`);
    const b = new MerkleBuilder();
    b.#hashes = compactRange.map((h) => h.slice());
    b.#levels = refs.map((r) => r.level);
    b.#size = size;
    return b;
  }

  get size(): number {
    return this.#size;
  }

  push(leaf: Uint8Array): void {
    let h = leaf;
    let level = 0;
    const hashes = this.#hashes;
    const levels = this.#levels;
    while (levels.length > 0 && levels[levels.length - 1] === level) {
      h = nodeHash(hashes.pop()!, h);
      levels.pop();
      level++;
    }
    hashes.push(h);
    levels.push(level);
    this.#size++;
  }

  /** Like push, and returns every complete subtree this leaf completes (the leaf itself first). */
  pushWithNodes(leaf: Uint8Array): CompletedNode[] {
    const index = this.#size;
    const out: CompletedNode[] = [{ level: 0, index, hash: leaf }];
    let h = leaf;
    let level = 0;
    while (this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === level) {
      h = nodeHash(this.#hashes.pop()!, h);
      this.#levels.pop();
      level++;
      out.push({ level, index: Math.floor(index / 2 ** level), hash: h });
    }
    this.#hashes.push(h);
    this.#levels.push(level);
    this.#size++;
    return out;
  }

  /** The compact range of [0, size), in rootPlan(size) order. */
  compactRange(): Uint8Array[] {
    return this.#hashes.map((h) => h.slice());
  }

  root(): Uint8Array {
    const hashes = this.#hashes;
    if (hashes.length === 0) return emptyRoot();
    let r = hashes[hashes.length - 1]!;
    for (let i = hashes.length - 2; i >= 0; i--) r = nodeHash(hashes[i]!, r);
    return r;
  }
}

export interface NodeRef {
  level: number;
  index: number;
}

export interface ProofPlan {
  /** Complete subtrees to fetch, each at most once. */
  refs: NodeRef[];
  /** Builds the proof (or [root] for rootPlan) from the hashes of `refs`, given in refs order. */
  assemble(hashes: readonly Uint8Array[]): Uint8Array[];
}

/**
 * Complete subtrees covering [lo, hi), largest first, where lo is a multiple of the smallest power
 * of two ≥ hi − lo (always true of the ranges the RFC 9162 recursion produces).
 */
function compactRangeRefs(lo: number, hi: number): NodeRef[] {
  const refs: NodeRef[] = [];
  let pos = lo;
  let remaining = hi - lo;
  while (remaining > 0) {
    let size = 1;
    let level = 0;
    while (size * 2 <= remaining) {
      size *= 2;
      level++;
    }
    refs.push({ level, index: pos / size });
    pos += size;
    remaining -= size;
  }
  return refs;
}

/** Folds the complete subtrees of a range (largest first) into its MTH: right to left. */
function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyRoot();
  let r = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) r = nodeHash(hashes[i]!, r);
  return r;
}

/** A plan whose proof elements are the MTHs of the given ranges, in order. */
function planFromRanges(ranges: readonly [number, number][]): ProofPlan {
  const groups = ranges.map(([lo, hi]) => compactRangeRefs(lo, hi));
  const refs = groups.flat();
  return {
    refs,
    assemble(hashes) {
      if (hashes.length !== refs.length) throw new RangeError(`plan needs ${refs.length} hashes, got ${hashes.length}`);
      const out: Uint8Array[] = [];
      let o = 0;
      for (const g of groups) {
        out.push(foldRange(hashes.slice(o, o + g.length)));
        o += g.length;
      }
      return out;
    },
  };
}

/** RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]) as the list of ranges whose MTHs form the path. */
function inclusionRanges(m: number, lo: number, hi: number, out: [number, number][]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    inclusionRanges(m, lo, lo + k, out);
    out.push([lo + k, hi]);
  } else {
    inclusionRanges(m - k, lo + k, hi, out);
    out.push([lo, lo + k]);
  }
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b) as ranges. */
function consistencyRanges(m: number, lo: number, hi: number, b: boolean, out: [number, number][]): void {
  const n = hi - lo;
  if (m === n) {
    if (!b) out.push([lo, hi]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    consistencyRanges(m, lo, lo + k, b, out);
    out.push([lo + k, hi]);
  } else {
    consistencyRanges(m - k, lo + k, hi, false, out);
    out.push([lo, lo + k]);
  }
}

export function inclusionPlan(index: number, size: number): ProofPlan {
  assertSize(size);
  assertSize(index, 'index');
  if (index >= size) throw new RangeError(`index ${index} is outside a tree of ${size} leaves`);
  const ranges: [number, number][] = [];
  inclusionRanges(index, 0, size, ranges);
  return planFromRanges(ranges);
}

export function consistencyPlan(size1: number, size2: number): ProofPlan {
  assertSize(size1, 'size1');
  assertSize(size2, 'size2');
  if (size1 > size2) throw new RangeError(`size1 ${size1} is larger than size2 ${size2}`);
  const ranges: [number, number][] = [];
  if (size1 > 0 && size1 < size2) consistencyRanges(size1, 0, size2, true, ranges);
  return planFromRanges(ranges);
}

export function rootPlan(size: number): ProofPlan {
  assertSize(size);
  const refs = compactRangeRefs(0, size);
  return {
    refs,
    assemble(hashes) {
      if (hashes.length !== refs.length) throw new RangeError(`plan needs ${refs.length} hashes, got ${hashes.length}`);
      return [foldRange(hashes)];
    },
  };
}

/** Node hash (level, index) straight from the leaves: O(2^level). */
function nodeFromLeaves(leafHashes: readonly Uint8Array[], ref: NodeRef): Uint8Array {
  const width = 2 ** ref.level;
  return subtreeRoot(leafHashes, ref.index * width, (ref.index + 1) * width);
}

function runPlan(plan: ProofPlan, node: (ref: NodeRef) => Uint8Array): Uint8Array[] {
  return plan.assemble(plan.refs.map(node));
}

function assertLeaves(leafHashes: readonly Uint8Array[], size: number): void {
  if (size > leafHashes.length) throw new RangeError(`size ${size} is larger than the ${leafHashes.length} leaves given`);
}

export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size: number): Uint8Array[] {
  const plan = inclusionPlan(index, size);
  assertLeaves(leafHashes, size);
  return runPlan(plan, (ref) => nodeFromLeaves(leafHashes, ref));
}

export function consistencyProof(leafHashes: readonly Uint8Array[], size1: number, size2: number): Uint8Array[] {
  const plan = consistencyPlan(size1, size2);
  assertLeaves(leafHashes, size2);
  return runPlan(plan, (ref) => nodeFromLeaves(leafHashes, ref));
}

/**
 * Every level of a tree kept in memory (about 2n hashes): node lookups are O(1), so proofs are
 * O(log n). For tests, the bench and small logs; the PostgreSQL log stores the same nodes.
 */
export class MerkleTree {
  readonly #levels: Uint8Array[][];

  constructor(leafHashes: readonly Uint8Array[]) {
    const levels: Uint8Array[][] = [leafHashes.slice()];
    for (let cur = levels[0]!; cur.length > 1; ) {
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < cur.length; i += 2) next.push(nodeHash(cur[i]!, cur[i + 1]!));
      levels.push(next);
      cur = next;
    }
    this.#levels = levels;
  }

  get size(): number {
    return this.#levels[0]!.length;
  }

  node(ref: NodeRef): Uint8Array {
    const h = this.#levels[ref.level]?.[ref.index];
    if (!h) throw new RangeError(`no complete subtree (${ref.level}, ${ref.index}) in a tree of ${this.size} leaves`);
    return h;
  }

  root(size = this.size): Uint8Array {
    assertLeaves(this.#levels[0]!, size);
    return runPlan(rootPlan(size), (r) => this.node(r))[0]!;
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    assertLeaves(this.#levels[0]!, size);
    return runPlan(inclusionPlan(index, size), (r) => this.node(r));
  }

  consistencyProof(size1: number, size2 = this.size): Uint8Array[] {
    assertLeaves(this.#levels[0]!, size2);
    return runPlan(consistencyPlan(size1, size2), (r) => this.node(r));
  }
}

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!isSafeIndex(index) || !isSafeIndex(size) || index >= size || proof.length > MAX_PROOF_LENGTH) return false;
  if (!proof.every((p) => p instanceof Uint8Array && p.length === HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(r, root);
}

/** RFC 9162 §2.1.4.2; like the Go reference, size1 = 0 (or size1 = size2 with equal roots) needs an empty proof. */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!isSafeIndex(size1) || !isSafeIndex(size2) || size1 > size2 || proof.length > MAX_PROOF_LENGTH) return false;
  if (!proof.every((p) => p instanceof Uint8Array && p.length === HASH_SIZE)) return false;
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
