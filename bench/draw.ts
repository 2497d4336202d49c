/**
 * Draw benchmark (docs/draw-protocol.md): the evidence work of a draw over 10 million entries, next to
 * raw SHA-256 over the same bytes in the same run, the uniformity of the selection, and log proofs.
 *
 *   node bench/draw.ts [--entries N] [--quick]     prints one JSON document (progress on stderr)
 *   runDrawBench({ entries, quick })                the same object, for bench/run.ts
 *
 * a) entries root + winner selection over N entries streamed from a generator (O(log N) memory), with
 *    the time to generate the entries alone, and raw SHA-256 (node:crypto) over exactly the bytes the
 *    root hashed: as 16 KiB messages (openssl-speed style throughput) and as messages of the tree's
 *    own sizes (59 and 65 bytes), with the ratios;
 * b) χ² uniformity of the selection: N = 10 with one winner (100 000 draws), N = 7 with 3 winners,
 *    each draw position and the 210 ordered triples; p-values from the regularized incomplete gamma;
 * c) proofs at 1 M leaves: tree build, inclusion and consistency proof generation and verification.
 */
import { hash } from 'node:crypto';
import os from 'node:os';
import {
  consistencyProof,
  entriesRoot,
  inclusionProof,
  leafHash,
  MerkleTree,
  selectWinners,
  sha256,
  u64be,
  verifyConsistency,
  verifyInclusion,
  type CanonicalEntry,
} from '@verity/evidence';
import { chiSquareUniform } from '../packages/evidence/test/support/stats.ts';

const progress = (msg: string) => process.stderr.write(`# bench draw: ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const seconds = (t0: number) => (performance.now() - t0) / 1000;
/** CPU seconds of this process since `c0`: on a shared machine, closer to the work done than wall time. */
const cpuSeconds = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
};

const LEAF_INPUT_BYTES = 59; // 0x00 ‖ 58-byte entry
const NODE_INPUT_BYTES = 65; // 0x01 ‖ left ‖ right
const POOL = 4096;

/** Entry strings from a small pool (hashing cost does not depend on their uniqueness); numbers ascend. */
function entryPool(): { ids: string[]; holders: string[] } {
  const ids: string[] = [];
  const holders: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const h = Buffer.from(sha256(u64be(i))).toString('hex');
    ids.push(`${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`);
    holders.push(Buffer.from(sha256(u64be(i + POOL))).toString('hex'));
  }
  return { ids, holders };
}

function* entries(n: number, pool: { ids: string[]; holders: string[] }): Generator<CanonicalEntry> {
  for (let i = 0; i < n; i++) {
    yield { entryId: pool.ids[i % POOL]!, number: i + 1, kind: i % 20 === 19 ? 'postal' : 'paid', holder: pool.holders[(i * 7) % POOL]! };
  }
}

/** SHA-256 over `total` bytes as messages of `size` bytes, one-shot node:crypto calls; seconds. */
function rawSha256(total: number, size: number): number {
  const buf = Buffer.alloc(size, 0xa5);
  const calls = Math.ceil(total / size);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) hash('sha256', buf, 'buffer');
  return seconds(t0);
}

async function drawPhase(n: number, winners: number) {
  const pool = entryPool();
  progress(`generating ${n} entries alone`);
  let t0 = performance.now();
  let sink = 0;
  for (const e of entries(n, pool)) sink += e.number;
  const generationS = seconds(t0);
  progress(`entries root over ${n} entries`);
  t0 = performance.now();
  let c0 = process.cpuUsage();
  const { root, count } = entriesRoot(entries(n, pool));
  const rootS = seconds(t0);
  const rootCpuS = cpuSeconds(c0);
  progress(`selecting ${winners} winners`);
  t0 = performance.now();
  const picked = selectWinners({ beaconRandomness: sha256(u64be(1)), operatorSecret: sha256(u64be(2)), drawId: 'bench-draw', entriesRoot: root, count, winners });
  const selectionS = seconds(t0);
  t0 = performance.now();
  selectWinners({ beaconRandomness: sha256(u64be(1)), operatorSecret: sha256(u64be(2)), drawId: 'bench-draw', entriesRoot: root, count, winners: 10_000 });
  const selection10kS = seconds(t0);
  const hashedBytes = n * LEAF_INPUT_BYTES + (n - 1) * NODE_INPUT_BYTES;
  progress(`raw SHA-256 over the same ${hashedBytes} bytes`);
  c0 = process.cpuUsage();
  const raw16k = rawSha256(hashedBytes, 16 * 1024);
  const raw16kCpuS = cpuSeconds(c0);
  const rawTreeSized = rawSha256(n * LEAF_INPUT_BYTES, LEAF_INPUT_BYTES) + rawSha256((n - 1) * NODE_INPUT_BYTES, NODE_INPUT_BYTES);
  const mb = hashedBytes / 1e6;
  return {
    entries: n,
    winners: picked.length,
    sanity: sink > 0 && picked.every((i) => i >= 0 && i < n),
    generationS: round(generationS),
    rootS: round(rootS),
    rootCpuS: round(rootCpuS),
    selectionS: round(selectionS, 6),
    selection10kWinnersS: round(selection10kS, 4),
    rootPlusSelectionS: round(rootS + selectionS),
    hashedBytes,
    hashCalls: 2 * n - 1,
    rawSha256: {
      messages16KiB: { seconds: round(raw16k), cpuS: round(raw16kCpuS), mbPerS: round(mb / raw16k, 1) },
      treeSizedMessages: { seconds: round(rawTreeSized), mbPerS: round(mb / rawTreeSized, 1), note: 'the same 2n−1 one-shot calls of 59 and 65 bytes, nothing else' },
    },
    rootMbPerS: round(mb / rootS, 1),
    ratioRootTo16KiB: round(rootS / raw16k, 2),
    ratioRootTo16KiBCpu: round(rootCpuS / raw16kCpuS, 2),
    ratioRootToTreeSized: round(rootS / rawTreeSized, 2),
  };
}

function drawIndexes(i: number, count: number, winners: number): number[] {
  return selectWinners({ beaconRandomness: sha256(u64be(i)), operatorSecret: sha256(u64be(0xc0ffee)), drawId: 'chi2', entriesRoot: sha256(u64be(count)), count, winners });
}

function uniformityPhase(draws: number) {
  progress(`χ²: ${draws} draws of 1 winner among 10`);
  const single = new Array(10).fill(0);
  for (let i = 0; i < draws; i++) single[drawIndexes(i, 10, 1)[0]!]++;
  progress(`χ²: ${draws} draws of 3 winners among 7`);
  const positions = [0, 1, 2].map(() => new Array(7).fill(0));
  const triples = new Map<string, number>();
  for (let i = 0; i < draws; i++) {
    const w = drawIndexes(1_000_000 + i, 7, 3);
    w.forEach((idx, p) => positions[p]![idx]++);
    triples.set(w.join(','), (triples.get(w.join(',')) ?? 0) + 1);
  }
  const tripleCounts = Array.from({ length: 210 }, (_, k) => [...triples.values()][k] ?? 0);
  const fmt = (r: ReturnType<typeof chiSquareUniform>) => ({ chi2: round(r.chi2, 2), dof: r.dof, pValue: round(r.pValue, 4) });
  return {
    n10winners1: { draws, counts: single, ...fmt(chiSquareUniform(single)) },
    n7winners3: {
      draws,
      positions: positions.map((c, p) => ({ position: p, counts: c, ...fmt(chiSquareUniform(c)) })),
      orderedTriples: { cells: 210, seen: triples.size, ...fmt(chiSquareUniform(tripleCounts)) },
    },
    note: 'p-values are uniform on [0, 1] under the null; a p-value below 0.001 would be evidence of bias',
  };
}

function proofPhase(size: number, samples: number) {
  progress(`proofs at ${size} leaves`);
  const leaves = Array.from({ length: size }, (_, i) => leafHash(u64be(i)));
  let t0 = performance.now();
  const tree = new MerkleTree(leaves);
  const buildS = seconds(t0);
  const root = tree.root();
  const idx = Array.from({ length: samples }, (_, i) => Number((BigInt(i) * 2654435761n) % BigInt(size)));
  t0 = performance.now();
  const proofs = idx.map((i) => tree.inclusionProof(i));
  const incGenUs = ((performance.now() - t0) * 1000) / samples;
  t0 = performance.now();
  const incOk = idx.every((i, k) => verifyInclusion(leaves[i]!, i, size, proofs[k]!, root));
  const incVerUs = ((performance.now() - t0) * 1000) / samples;
  const sizes = idx.map((i) => Math.max(1, i));
  const oldRoots = sizes.map((m) => tree.root(m));
  t0 = performance.now();
  const cons = sizes.map((m) => tree.consistencyProof(m));
  const conGenUs = ((performance.now() - t0) * 1000) / samples;
  t0 = performance.now();
  const conOk = sizes.every((m, k) => verifyConsistency(m, size, oldRoots[k]!, root, cons[k]!));
  const conVerUs = ((performance.now() - t0) * 1000) / samples;
  t0 = performance.now();
  inclusionProof(leaves, 123_457 % size, size);
  const statelessS = seconds(t0);
  t0 = performance.now();
  consistencyProof(leaves, Math.floor(size / 3), size);
  const statelessConS = seconds(t0);
  return {
    leaves: size,
    samples,
    allVerified: incOk && conOk,
    treeBuildS: round(buildS),
    inclusion: { generateUs: round(incGenUs, 1), verifyUs: round(incVerUs, 1), proofLength: proofs[0]!.length },
    consistency: { generateUs: round(conGenUs, 1), verifyUs: round(conVerUs, 1) },
    statelessFromLeaves: { inclusionS: round(statelessS), consistencyS: round(statelessConS), note: 'inclusionProof(leafHashes, …) recomputes the subtrees it needs: O(n); the log serves proofs from stored nodes (ProofPlan)' },
  };
}

export async function runDrawBench(opts: { entries?: number; quick?: boolean } = {}): Promise<object> {
  const quick = opts.quick ?? false;
  const n = opts.entries ?? (quick ? 1_000_000 : 10_000_000);
  const started = performance.now();
  const loadBefore = os.loadavg()[0]!;
  const draw = await drawPhase(n, 100);
  const uniformity = uniformityPhase(quick ? 20_000 : 100_000);
  const proofs = proofPhase(quick ? 100_000 : 1_000_000, quick ? 200 : 1000);
  return {
    benchmark: 'verity-draw',
    summary: {
      entries: n,
      rootPlusSelectionS: draw.rootPlusSelectionS,
      rawSha256SameBytes16KiBS: draw.rawSha256.messages16KiB.seconds,
      rootCpuS: draw.rootCpuS,
      ratioRootTo16KiB: draw.ratioRootTo16KiB,
      ratioRootTo16KiBCpu: draw.ratioRootTo16KiBCpu,
      ratioRootToTreeSized: draw.ratioRootToTreeSized,
      chi2PValues: [uniformity.n10winners1.pValue, ...uniformity.n7winners3.positions.map((p) => p.pValue), uniformity.n7winners3.orderedTriples.pValue],
      inclusionProofAt1MGenerateUs: proofs.inclusion.generateUs,
      inclusionProofAt1MVerifyUs: proofs.inclusion.verifyUs,
    },
    draw,
    uniformity,
    proofs,
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverage1m: { before: round(loadBefore, 2), after: round(os.loadavg()[0]!, 2) } },
    notes: {
      root: 'entriesRoot hashes in plain JS over 32-bit words (no allocation per hash); node:crypto pays a native call per 59/65-byte message, which is what treeSizedMessages measures',
      rawSha256: 'openssl-speed style: the same total bytes through node:crypto (OpenSSL) as 16 KiB messages',
    },
    totalDurationS: round(seconds(started), 1),
  };
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--entries');
  const entriesArg = at >= 0 ? Number(argv[at + 1]) : undefined;
  runDrawBench({ entries: entriesArg, quick: argv.includes('--quick') })
    .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`bench draw failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
}
