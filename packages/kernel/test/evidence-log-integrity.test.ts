/**
 * What the log verifier catches when someone with superuser rights edits the tables behind the
 * triggers, and crash safety: appends committed while no integrator ran, and a batch cut off mid-
 * transaction, are integrated by the next process to start.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MerkleBuilder } from '@verity/evidence';
import { createDb, type Db } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { createAppender } from '../src/evidence-log/append.ts';
import { createLogRepository } from '../src/evidence-log/repository.ts';

const RECORDS = 40;

async function appendCommitted(db: Db, n: number, tag: string): Promise<void> {
  const append = createAppender(db, 'draws', () => {});
  for (let i = 0; i < n; i++) await db.tx(() => append({ type: 'draws.test-record.v1', data: { tag, i } }));
}

/** As an attacker with superuser rights would: triggers off, change, triggers on. */
async function behindTriggers(db: Db, fn: () => Promise<unknown>): Promise<void> {
  await db.tx(async () => {
    await db.query('alter table kernel.log_leaves disable trigger log_leaves_no_update_delete');
    await db.query('alter table kernel.log_nodes disable trigger log_nodes_no_update_delete');
    await fn();
    await db.query('alter table kernel.log_leaves enable trigger log_leaves_no_update_delete');
    await db.query('alter table kernel.log_nodes enable trigger log_nodes_no_update_delete');
  });
}

/** Every stored node recomputed from the stored leaves (what a careful attacker would write back). */
async function recomputeNodes(db: Db): Promise<void> {
  const leaves = await db.query<{ leaf_hash: Buffer }>('select leaf_hash from kernel.log_leaves order by idx');
  const b = new MerkleBuilder();
  for (const l of leaves) {
    for (const n of b.pushWithNodes(l.leaf_hash)) {
      if (n.level > 0) await db.query('update kernel.log_nodes set hash = $3 where level = $1 and idx = $2', [n.level, n.index, Buffer.from(n.hash)]);
    }
  }
}

describe('evidence log integrity', () => {
  const platforms: TestPlatform[] = [];
  after(async () => {
    for (const p of platforms) await p.stop();
  });

  it('when a superuser rewrites a leaf, then its nodes; or cuts leaves off the end, then the verifier names what broke', async () => {
    const p = await startTestPlatform({ modules: [] });
    platforms.push(p);
    await appendCommitted(p.db, RECORDS, 'tamper');
    const log = p.evidenceLog.forModule('draws');
    await log.checkpoint({ atLeast: RECORDS });
    assert.equal((await p.evidenceLog.verify()).ok, true);

    const original = await p.db.one<{ data: Buffer }>('select data from kernel.log_leaves where idx = 7');
    const forged = Buffer.from(original.data.toString().replace('"tamper"', '"forged"'));
    await assert.rejects(p.db.query('update kernel.log_leaves set data = $1 where idx = 7', [forged]), /append-only/);
    // The database also refuses a leaf hash that is not the hash of the bytes, so the forger sets both.
    await behindTriggers(p.db, () => p.db.query('update kernel.log_leaves set data = $1, leaf_hash = kernel.log_leaf_hash($1) where idx = 7', [forged]));
    let result = await p.evidenceLog.verify();
    assert.equal(result.ok, false);
    assert.deepEqual(result.failure && { kind: result.failure.kind, index: result.failure.index }, { kind: 'node', index: 6 });
    await assert.rejects(log.inclusionProof(7, RECORDS), /does not verify/, 'a damaged log serves no proof');

    await behindTriggers(p.db, () => recomputeNodes(p.db));
    result = await p.evidenceLog.verify();
    assert.equal(result.failure?.kind, 'checkpoint-root', 'consistent leaves and nodes, but not what was signed');

    await behindTriggers(p.db, async () => {
      await p.db.query('update kernel.log_leaves set data = $1, leaf_hash = kernel.log_leaf_hash($1) where idx = 7', [original.data]);
      await recomputeNodes(p.db);
    });
    assert.equal((await p.evidenceLog.verify()).ok, true, 'restored');

    // Cutting the last leaves (and the nodes over them) off: the signed checkpoint is beyond the tree.
    await behindTriggers(p.db, async () => {
      await p.db.query('delete from kernel.log_leaves where idx >= $1', [RECORDS - 3]);
      await p.db.query('delete from kernel.log_nodes where (idx + 1) * (1::bigint << level) > $1', [RECORDS - 3]);
    });
    result = await p.evidenceLog.verify();
    assert.equal(result.failure?.kind, 'checkpoint-beyond-tree');
  });

  it('when appends committed while no integrator ran and a batch died mid-transaction, then the next process integrates all of them once', async () => {
    const first = await startTestPlatform({ modules: [] });
    await first.evidenceLog.forModule('draws').checkpoint();
    const config = first.config;
    await first.stop();

    const db = createDb({ connectionString: config.databaseUrl!, max: 4 });
    try {
      await appendCommitted(db, 120, 'crash');
      // A batch that had taken the lock and moved rows when its process died: its connection is cut.
      const doomed = await db.pool.connect();
      doomed.on('error', () => {}); // it is about to be cut off
      await doomed.query('begin');
      await doomed.query('select pg_advisory_xact_lock($1)', [0x766c6f67]);
      const moved = await doomed.query(
        `with b as (delete from kernel.log_pending where seq in (select seq from kernel.log_pending order by seq limit 50) returning *)
         insert into kernel.log_leaves (idx, pending_id, leaf_hash, data, kind, module, type, visibility, recorded_at)
         select row_number() over (order by seq) - 1, id, leaf_hash, data, kind, module, type, visibility, created_at from b`,
      );
      assert.equal(moved.rowCount, 50);
      const pid = (await doomed.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      await db.query('select pg_terminate_backend($1)', [pid]);
      doomed.release(true);
      assert.equal(Number((await db.one<{ n: bigint }>('select count(*) as n from kernel.log_pending')).n), 120, 'the cut batch rolled back');

      const second = await startTestPlatform({ modules: [], config: { databaseUrl: config.databaseUrl!, keyFile: config.keyFile } });
      platforms.push(second);
      const repo = createLogRepository(db);
      await waitFor(async () => !(await repo.hasPending()) && (await repo.treeSize()) >= 120, { timeoutMs: 10_000, what: 'the restarted process to integrate' });
      const records = await db.one<{ n: bigint; distinct: bigint }>(
        `select count(*) as n, count(distinct data) as distinct from kernel.log_leaves where type = 'draws.test-record.v1'`,
      );
      assert.deepEqual(records, { n: 120n, distinct: 120n }, 'each record once');
      await second.evidenceLog.forModule('draws').checkpoint({ atLeast: 120 });
      const verified = await second.evidenceLog.verify();
      assert.equal(verified.ok, true, JSON.stringify(verified.failure));
      assert.equal(verified.size, await repo.treeSize());
    } finally {
      await db.close();
    }
  });
});
