/**
 * The integrator: gives committed pending rows their contiguous indexes and writes the complete
 * subtrees they finish. One batch = one transaction holding the integrator's advisory lock, so one
 * process integrates at a time and a crash mid-batch leaves the rows pending for the next pass.
 * Rows are numbered in the order they were appended among those committed at the time of the pass
 * (a row whose transaction commits later simply gets a later index).
 */
import { MerkleBuilder, rootPlan } from '@verity/evidence';
import type { Db } from '../db/db.ts';
import type { LogRepository } from './repository.ts';

export interface Tree {
  size: number;
  root: Uint8Array;
  /** Compact range of [0, size): what the next batch resumes from. */
  range: Uint8Array[];
}

export interface BatchResult {
  /** False when another process holds the integrator lock. */
  locked: boolean;
  integrated: number;
  tree?: Tree;
}

export function createIntegrator(opts: { db: Db; repo: LogRepository; batchMax: number }) {
  const { db, repo, batchMax } = opts;
  // The right edge of the tree after our last batch; reused when no other process integrated since.
  let cached: Tree | undefined;

  async function builderAt(size: number): Promise<MerkleBuilder> {
    if (cached?.size === size) return MerkleBuilder.resume(size, cached.range);
    const hashes = await repo.nodeHashes(rootPlan(size).refs);
    return MerkleBuilder.resume(size, hashes);
  }

  /** One transaction: lock, number up to batchMax rows, write their leaves and the new nodes. */
  async function batch(): Promise<BatchResult> {
    return db.tx(async () => {
      if (!(await repo.tryIntegratorLock())) return { locked: false, integrated: 0 };
      const size = await repo.treeSize();
      const builder = await builderAt(size);
      const leaves = await repo.integrateBatch(size, batchMax);
      const nodes: { level: number; index: number; hash: Uint8Array }[] = [];
      leaves.forEach((leaf, i) => {
        // The numbering is ours: assert it rather than trust it.
        if (leaf.idx !== size + i) throw new Error(`evidence log: leaf ${leaf.idx} integrated where ${size + i} was expected`);
        for (const n of builder.pushWithNodes(leaf.leafHash)) if (n.level > 0) nodes.push(n);
      });
      await repo.insertNodes(nodes);
      const tree: Tree = { size: builder.size, root: builder.root(), range: builder.compactRange() };
      return { locked: true, integrated: leaves.length, tree };
    }).then((r) => {
      if (r.tree) cached = r.tree;
      return r;
    });
  }

  return {
    /** Batches until nothing committed is pending (or the lock is elsewhere). */
    async drain(): Promise<BatchResult> {
      let total = 0;
      for (;;) {
        const r = await batch();
        total += r.integrated;
        if (!r.locked || r.integrated < batchMax) return { ...r, integrated: total };
      }
    },
    /** Root hash of the tree of `size` leaves (from our cache, or ≤ 64 stored nodes). */
    async rootAt(size: number): Promise<Uint8Array> {
      if (cached?.size === size) return cached.root;
      const plan = rootPlan(size);
      return plan.assemble(await repo.nodeHashes(plan.refs))[0]!;
    },
  };
}

export type Integrator = ReturnType<typeof createIntegrator>;
