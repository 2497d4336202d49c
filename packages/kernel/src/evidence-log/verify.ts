/**
 * The log verifier: recomputes everything from the leaves' bytes and compares it with what is
 * stored and what was signed. Leaves must be numbered without gaps and hash to their leaf hash;
 * every stored complete subtree must equal the one recomputed (and none may be extra); every
 * checkpoint must carry a valid log signature and the root recomputed at its size. Streams in
 * batches, so its memory stays flat whatever the size of the log.
 *
 * What it catches that the database cannot: a superuser who disables the triggers and rewrites a
 * leaf (the nodes stop matching), rewrites the nodes too (the signed roots stop matching), or cuts
 * leaves off the end (a checkpoint is beyond the tree). What needs a copy held elsewhere: a log
 * rewritten together with its checkpoints re-signed by a stolen key — witnesses and anchors.
 */
import { emptyRoot, leafHash, MerkleBuilder, openNote, parseCheckpoint, type NoteVerifier } from '@verity/evidence';
import type { Db } from '../db/db.ts';
import { createLogRepository, type CheckpointRow } from './repository.ts';

const BATCH = 4096;

const bytesEqualSafe = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
const CHECKPOINT_BATCH = 1000;

export type LogFailureKind = 'gap' | 'leaf-hash' | 'node' | 'extra-nodes' | 'checkpoint-signature' | 'checkpoint-root' | 'checkpoint-beyond-tree';

export interface LogVerification {
  ok: boolean;
  /** Leaves checked. */
  size: number;
  /** Stored nodes checked. */
  nodes: number;
  /** Checkpoints whose signature and root were checked. */
  checkpoints: number;
  failure?: { kind: LogFailureKind; index?: number; detail: string };
}

class Failure extends Error {
  readonly kind: LogFailureKind;
  readonly index: number | undefined;
  constructor(kind: LogFailureKind, detail: string, index?: number) {
    super(detail);
    this.kind = kind;
    this.index = index;
  }
}

/** Completion ranges of the nodes a batch of leaves [a, b) finishes, per level. */
function completionRanges(a: number, b: number): { level: number; lo: number; hi: number }[] {
  const out: { level: number; lo: number; hi: number }[] = [];
  for (let level = 1, width = 2; width <= b; level++, width *= 2) {
    const lo = Math.ceil((a + 1) / width) - 1;
    const hi = Math.floor(b / width) - 1;
    if (lo <= hi) out.push({ level, lo, hi });
  }
  return out;
}

export async function verifyLog(db: Db, logKey: NoteVerifier): Promise<LogVerification> {
  const repo = createLogRepository(db);
  const builder = new MerkleBuilder();
  let nodes = 0;
  let checkpoints = 0;
  let pendingCps: CheckpointRow[] = [];
  let cpCursor = -1;
  let cpsExhausted = false;

  /** Checkpoints of exactly the builder's current size, with the root recomputed there (checked after the nodes). */
  async function checkpointsAtCurrentSize(): Promise<[CheckpointRow, Uint8Array][]> {
    const out: [CheckpointRow, Uint8Array][] = [];
    for (;;) {
      if (pendingCps.length === 0 && !cpsExhausted) {
        pendingCps = await repo.checkpointsFrom(cpCursor, CHECKPOINT_BATCH);
        if (pendingCps.length < CHECKPOINT_BATCH) cpsExhausted = true;
        if (pendingCps.length) cpCursor = Number(pendingCps[pendingCps.length - 1]!.size);
      }
      const next = pendingCps[0];
      if (!next || Number(next.size) !== builder.size) return out;
      pendingCps.shift();
      out.push([next, builder.size === 0 ? emptyRoot() : builder.root()]);
    }
  }

  function checkOne(cp: CheckpointRow, root: Uint8Array): void {
    const size = Number(cp.size);
    checkpoints++;
    let text: string;
    try {
      text = openNote(cp.note, [logKey]).text;
    } catch (err) {
      throw new Failure('checkpoint-signature', `checkpoint ${size}: ${(err as Error).message}`, size);
    }
    const parsed = parseCheckpoint(text);
    if (parsed.size !== size || !bytesEqualSafe(parsed.rootHash, cp.root_hash)) throw new Failure('checkpoint-signature', `checkpoint ${size}: the signed note does not match its row`, size);
    if (!bytesEqualSafe(root, cp.root_hash)) throw new Failure('checkpoint-root', `checkpoint ${size}: the signed root is not the root recomputed from the leaves`, size);
  }

  try {
    for (const [cp, root] of await checkpointsAtCurrentSize()) checkOne(cp, root);
    for (;;) {
      const rows = await repo.leavesFrom(builder.size - 1, BATCH);
      if (rows.length === 0) break;
      const a = builder.size;
      const computed = new Map<string, Uint8Array>();
      // A damaged leaf or node is named before the signed roots it also breaks.
      const signed: [CheckpointRow, Uint8Array][] = [];
      for (const row of rows) {
        const idx = Number(row.idx);
        if (idx !== builder.size) throw new Failure('gap', `leaf ${builder.size} is missing (next stored leaf is ${idx})`, builder.size);
        if (!bytesEqualSafe(leafHash(row.data), row.leaf_hash)) throw new Failure('leaf-hash', `leaf ${idx}: the stored hash is not the hash of its bytes`, idx);
        for (const n of builder.pushWithNodes(row.leaf_hash)) if (n.level > 0) computed.set(`${n.level}:${n.index}`, n.hash);
        signed.push(...(await checkpointsAtCurrentSize()));
      }
      const stored = await repo.nodesInRanges(completionRanges(a, builder.size));
      for (const s of stored) {
        const mine = computed.get(`${s.level}:${s.idx}`);
        if (!mine || !bytesEqualSafe(mine, s.hash)) throw new Failure('node', `node (${s.level}, ${s.idx}) does not match the leaves it covers`, Number(s.idx) * 2 ** s.level);
      }
      if (stored.length !== computed.size) throw new Failure('node', `${computed.size - stored.length} complete subtrees over leaves ${a}..${builder.size - 1} are missing`, a);
      nodes += stored.length;
      for (const [cp, root] of signed) checkOne(cp, root);
    }
    const storedNodes = await repo.nodeCount();
    if (storedNodes !== nodes) throw new Failure('extra-nodes', `${storedNodes - nodes} stored nodes cover leaves that do not exist`);
    if (pendingCps.length || !cpsExhausted) {
      const beyond = pendingCps[0] ?? (await repo.checkpointsFrom(cpCursor, 1))[0];
      if (beyond) throw new Failure('checkpoint-beyond-tree', `checkpoint ${beyond.size} is beyond the ${builder.size} leaves stored: leaves were removed`, Number(beyond.size));
    }
    return { ok: true, size: builder.size, nodes, checkpoints };
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    return { ok: false, size: builder.size, nodes, checkpoints, failure: { kind: err.kind, ...(err.index !== undefined ? { index: err.index } : {}), detail: err.message } };
  }
}
