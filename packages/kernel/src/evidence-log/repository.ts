/**
 * The only file that writes SQL for the log's tables (migration kernel/0003_evidence_log.sql).
 * Hashes are bytea here and Uint8Array/Buffer in code; indexes and sizes leave as numbers.
 */
import type { Db } from '../db/db.ts';
import type { LeafVisibility } from './types.ts';

/** Advisory lock key of the integrator ("vlog"): one process sequences at a time. */
export const INTEGRATOR_LOCK = 0x766c6f67;

export interface PendingInsert {
  id: string;
  leafHash: Uint8Array;
  data: Uint8Array;
  kind: 'audit' | 'record';
  module: string;
  type: string;
  visibility: LeafVisibility;
}

export interface LeafRow {
  idx: bigint;
  leaf_hash: Buffer;
  data: Buffer;
  kind: 'audit' | 'record';
  module: string;
  type: string;
  visibility: LeafVisibility;
  recorded_at: Date;
  integrated_at: Date;
  [k: string]: unknown;
}

export interface CheckpointRow {
  size: bigint;
  root_hash: Buffer;
  note: string;
  signed_at: Date;
  [k: string]: unknown;
}

export interface NodeRefRow {
  level: number;
  index: number;
}

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export const INSERT_PENDING_SQL = `insert into kernel.log_pending (id, leaf_hash, data, kind, module, type, visibility) values ($1, $2, $3, $4, $5, $6, $7)`;
export const pendingParams = (p: PendingInsert): unknown[] => [p.id, buf(p.leafHash), buf(p.data), p.kind, p.module, p.type, p.visibility];

export function createLogRepository(db: Db) {
  return {
    async insertPending(p: PendingInsert): Promise<void> {
      await db.query(INSERT_PENDING_SQL, pendingParams(p));
    },

    async hasPending(): Promise<boolean> {
      return (await db.maybeOne('select 1 from kernel.log_pending limit 1')) !== undefined;
    },

    /** Inside a transaction: true when this transaction now holds the integrator lock. */
    async tryIntegratorLock(): Promise<boolean> {
      return (await db.one<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [INTEGRATOR_LOCK])).ok;
    },

    /** Leaves integrated so far (index of the next leaf). */
    async treeSize(): Promise<number> {
      const row = await db.one<{ size: bigint }>('select coalesce(max(idx) + 1, 0)::bigint as size from kernel.log_leaves');
      return Number(row.size);
    },

    /**
     * Moves up to `limit` committed pending rows into the leaves, numbered from `base` in the order
     * they were appended; returns their leaf hashes in index order. Needs the integrator lock.
     */
    async integrateBatch(base: number, limit: number): Promise<{ idx: number; leafHash: Buffer }[]> {
      const rows = await db.query<{ idx: bigint; leaf_hash: Buffer }>(
        `with batch as (
           delete from kernel.log_pending
            where seq in (select seq from kernel.log_pending order by seq limit $2)
           returning seq, id, leaf_hash, data, kind, module, type, visibility, created_at
         ), ins as (
           insert into kernel.log_leaves (idx, pending_id, leaf_hash, data, kind, module, type, visibility, recorded_at)
           select $1::bigint + row_number() over (order by seq) - 1, id, leaf_hash, data, kind, module, type, visibility, created_at
             from batch
           returning idx, leaf_hash
         )
         select idx, leaf_hash from ins order by idx`,
        [base, limit],
      );
      return rows.map((r) => ({ idx: Number(r.idx), leafHash: r.leaf_hash }));
    },

    async insertNodes(nodes: readonly { level: number; index: number; hash: Uint8Array }[]): Promise<void> {
      if (nodes.length === 0) return;
      await db.query(
        'insert into kernel.log_nodes (level, idx, hash) select * from unnest($1::smallint[], $2::bigint[], $3::bytea[])',
        [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => buf(n.hash))],
      );
    },

    /** Hashes of complete subtrees (level 0 = leaves), in the order asked; throws if one is missing. */
    async nodeHashes(refs: readonly NodeRefRow[]): Promise<Buffer[]> {
      if (refs.length === 0) return [];
      const rows = await db.query<{ ord: bigint; hash: Buffer | null }>(
        `select r.ord, coalesce(l.leaf_hash, n.hash) as hash
           from unnest($1::int[], $2::bigint[]) with ordinality as r(level, idx, ord)
           left join kernel.log_leaves l on r.level = 0 and l.idx = r.idx
           left join kernel.log_nodes n on r.level > 0 and n.level = r.level and n.idx = r.idx
          order by r.ord`,
        [refs.map((r) => r.level), refs.map((r) => r.index)],
      );
      return rows.map((r, i) => {
        if (!r.hash) throw new Error(`evidence log: node (${refs[i]!.level}, ${refs[i]!.index}) is missing`);
        return r.hash;
      });
    },

    async leaf(index: number): Promise<LeafRow | undefined> {
      return db.maybeOne<LeafRow>('select * from kernel.log_leaves where idx = $1', [index]);
    },

    async leafIndexByHash(leafHash: Uint8Array): Promise<number | undefined> {
      const row = await db.maybeOne<{ idx: bigint }>('select idx from kernel.log_leaves where leaf_hash = $1 order by idx limit 1', [buf(leafHash)]);
      return row ? Number(row.idx) : undefined;
    },

    async leafIndexByPendingId(pendingId: string): Promise<number | undefined> {
      const row = await db.maybeOne<{ idx: bigint }>('select idx from kernel.log_leaves where pending_id = $1', [pendingId]);
      return row ? Number(row.idx) : undefined;
    },

    async leavesFrom(afterIdx: number, limit: number): Promise<{ idx: bigint; leaf_hash: Buffer; data: Buffer }[]> {
      return db.query('select idx, leaf_hash, data from kernel.log_leaves where idx > $1 order by idx limit $2', [afterIdx, limit]);
    },

    /** Stored nodes at the given levels whose index lies in [lo, hi] per level. */
    async nodesInRanges(ranges: readonly { level: number; lo: number; hi: number }[]): Promise<{ level: number; idx: bigint; hash: Buffer }[]> {
      if (ranges.length === 0) return [];
      return db.query(
        `select n.level, n.idx, n.hash
           from unnest($1::smallint[], $2::bigint[], $3::bigint[]) as r(level, lo, hi)
           join kernel.log_nodes n on n.level = r.level and n.idx between r.lo and r.hi
          order by n.level, n.idx`,
        [ranges.map((r) => r.level), ranges.map((r) => r.lo), ranges.map((r) => r.hi)],
      );
    },

    async nodeCount(): Promise<number> {
      return Number((await db.one<{ n: bigint }>('select count(*) as n from kernel.log_nodes')).n);
    },

    async latestCheckpoint(): Promise<(CheckpointRow & { now: Date }) | undefined> {
      return db.maybeOne('select c.*, clock_timestamp() as now from kernel.log_checkpoints c order by size desc limit 1');
    },

    async checkpointAt(size: number): Promise<CheckpointRow | undefined> {
      return db.maybeOne('select * from kernel.log_checkpoints where size = $1', [size]);
    },

    /** The smallest checkpoint of at least `size` leaves. */
    async checkpointCovering(size: number): Promise<CheckpointRow | undefined> {
      return db.maybeOne('select * from kernel.log_checkpoints where size >= $1 order by size limit 1', [size]);
    },

    async checkpointsFrom(afterSize: number, limit: number): Promise<CheckpointRow[]> {
      return db.query('select * from kernel.log_checkpoints where size > $1 order by size limit $2', [afterSize, limit]);
    },

    /** Inserts the checkpoint unless one of that size exists (the same key signs the same bytes). */
    async insertCheckpoint(c: { size: number; rootHash: Uint8Array; note: string }): Promise<boolean> {
      const rows = await db.query('insert into kernel.log_checkpoints (size, root_hash, note) values ($1, $2, $3) on conflict (size) do nothing returning size', [
        c.size, buf(c.rootHash), c.note,
      ]);
      return rows.length === 1;
    },

    async signingKey(): Promise<{ origin: string; vkey: string; private_key_enc: string } | undefined> {
      return db.maybeOne('select origin, vkey, private_key_enc from kernel.log_keys');
    },

    async insertSigningKey(k: { origin: string; vkey: string; privateKeyEnc: string }): Promise<void> {
      await db.query('insert into kernel.log_keys (origin, vkey, private_key_enc) values ($1, $2, $3) on conflict do nothing', [k.origin, k.vkey, k.privateKeyEnc]);
    },

    async witnesses(afterName: string, limit: number): Promise<{ name: string; vkey: string; registered_by: string; registered_at: Date }[]> {
      return db.query('select name, vkey, registered_by, registered_at from kernel.log_witnesses where name > $1 order by name limit $2', [afterName, limit]);
    },

    async witness(name: string): Promise<{ name: string; vkey: string } | undefined> {
      return db.maybeOne('select name, vkey from kernel.log_witnesses where name = $1', [name]);
    },

    async insertWitness(w: { name: string; vkey: string; registeredBy: string }): Promise<{ registered_at: Date } | undefined> {
      return db.maybeOne('insert into kernel.log_witnesses (name, vkey, registered_by) values ($1, $2, $3) on conflict do nothing returning registered_at', [w.name, w.vkey, w.registeredBy]);
    },

    async insertCosignature(c: { size: number; witness: string; line: string; cosignedAt: Date }): Promise<boolean> {
      const rows = await db.query(
        'insert into kernel.log_cosignatures (checkpoint_size, witness, line, cosigned_at) values ($1, $2, $3, $4) on conflict do nothing returning witness',
        [c.size, c.witness, c.line, c.cosignedAt],
      );
      return rows.length === 1;
    },

    async cosignatures(size: number): Promise<{ witness: string; line: string; cosigned_at: Date }[]> {
      return db.query('select witness, line, cosigned_at from kernel.log_cosignatures where checkpoint_size = $1 order by witness limit 32', [size]);
    },

    /** When `anchor` last got a checkpoint (to space anchoring out). */
    async lastAnchoredAt(anchor: string): Promise<{ created_at: Date; now: Date } | undefined> {
      return db.maybeOne('select created_at, clock_timestamp() as now from kernel.log_anchors where anchor = $1 order by created_at desc limit 1', [anchor]);
    },

    async insertAnchor(size: number, anchor: string): Promise<boolean> {
      const rows = await db.query('insert into kernel.log_anchors (checkpoint_size, anchor) values ($1, $2) on conflict do nothing returning anchor', [size, anchor]);
      return rows.length === 1;
    },

    async anchor(size: number, anchor: string): Promise<{ status: string; attempts: number } | undefined> {
      return db.maybeOne('select status, attempts from kernel.log_anchors where checkpoint_size = $1 and anchor = $2', [size, anchor]);
    },

    async anchorSucceeded(size: number, anchor: string, receipt: string | null): Promise<void> {
      await db.query(
        `update kernel.log_anchors set status = 'anchored', attempts = attempts + 1, receipt = $3, last_error = null, anchored_at = clock_timestamp()
          where checkpoint_size = $1 and anchor = $2`,
        [size, anchor, receipt],
      );
    },

    async anchorFailed(size: number, anchor: string, error: string): Promise<void> {
      await db.query('update kernel.log_anchors set attempts = attempts + 1, last_error = $3 where checkpoint_size = $1 and anchor = $2', [size, anchor, error.slice(0, 1000)]);
    },
  };
}

export type LogRepository = ReturnType<typeof createLogRepository>;
