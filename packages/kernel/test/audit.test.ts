import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDb, migrate, requestContext, type Db } from '@verity/kernel';
import { createTestDatabase } from '@verity/kernel/testing';
import { actorFromContext, createAuditLog, GENESIS_HASH, verifyAuditChain } from '../src/audit/audit.ts';
import { loadMigrations } from '../src/platform.ts';

describe('audit log', () => {
  let db: Db;
  let otherDb: Db;
  before(async () => {
    const { url } = await createTestDatabase();
    db = createDb({ connectionString: url, max: 12 });
    otherDb = createDb({ connectionString: url, max: 2 });
    await migrate(db, await loadMigrations([]));
  });
  after(async () => {
    await db?.close();
    await otherDb?.close();
  });

  it('when a record is appended, then it carries the trace id, the database time and a link to the previous record', async () => {
    const audit = createAuditLog(db, 'identity');
    const first = await audit.record({ actor: 'system', action: 'identity.keys-rotated', data: { keyId: 'k1', count: 3n } });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const second = await requestContext.run({ requestId: 'req-audit-1', trace: { traceId, spanId: '00f067aa0ba902b7', sampled: true } }, () =>
      audit.record({ actor: 'operator:op-1', action: 'identity.operator-created', subject: 'operator:op-2', reason: 'new hire' }),
    );
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.equal(second.prevHash, first.hash);
    assert.equal(second.traceId, traceId);
    assert.equal(first.data?.count, '3');
    const row = await db.one<{ recorded_at: Date; trace_id: string }>('select recorded_at, trace_id from kernel.audit_log where id = $1', [second.id]);
    assert.equal(row.trace_id, traceId);
    assert.equal(row.recorded_at.getTime(), second.recordedAt.getTime());
    assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 2 });
  });

  it('when 40 records are appended concurrently, inside and outside transactions, then the chain stays one valid line', async () => {
    const audit = createAuditLog(db, 'payments');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? audit.record({ actor: 'system', action: 'payments.settled', subject: `transfer:${i}` })
          : db.tx(async () => {
              await db.query('select pg_sleep(0.005)');
              return audit.record({ actor: 'system', action: 'payments.reserved', subject: `transfer:${i}` });
            }),
      ),
    );
    const result = await verifyAuditChain(db);
    assert.equal(result.ok, true);
    const links = await db.one<{ n: bigint; distinct_prev: bigint }>('select count(*) as n, count(distinct prev_hash) as distinct_prev from kernel.audit_log');
    assert.equal(links.n, links.distinct_prev);
    assert.equal(BigInt(result.count), links.n);
  });

  it('when the transaction that recorded it rolls back, then the record is gone and the chain is still valid', async () => {
    const audit = createAuditLog(db, 'payments');
    await assert.rejects(
      db.tx(async () => {
        await audit.record({ actor: 'system', action: 'payments.reserved', subject: 'transfer:rolled-back' });
        throw new Error('the purchase failed');
      }),
    );
    assert.equal((await db.query("select 1 from kernel.audit_log where subject = 'transfer:rolled-back'")).length, 0);
    await audit.record({ actor: 'system', action: 'payments.voided', subject: 'transfer:after-rollback' });
    assert.equal((await verifyAuditChain(db)).ok, true);
  });

  it('when a writer reads an old head (a REPEATABLE READ snapshot), then its append fails instead of forking the chain', async () => {
    const audit = createAuditLog(db, 'payments');
    await audit.record({ actor: 'system', action: 'payments.settled', subject: 'transfer:before-snapshot' });
    await assert.rejects(
      db.tx(async () => {
        await db.query('select count(*) from kernel.audit_log'); // the snapshot is taken here
        // Another process appends and commits meanwhile.
        await createAuditLog(otherDb, 'payments').record({ actor: 'system', action: 'payments.settled', subject: 'transfer:concurrent' });
        return audit.record({ actor: 'system', action: 'payments.settled', subject: 'transfer:stale-head' });
      }, { isolation: 'repeatable read' }),
      (err: Error & { code?: string }) => err.code === '23505',
    );
    assert.equal((await verifyAuditChain(db)).ok, true);
  });

  it('when anyone tries to update, delete or truncate the audit log, then the database refuses', async () => {
    await assert.rejects(db.query("update kernel.audit_log set reason = 'edited'"), /append-only/);
    await assert.rejects(db.query('delete from kernel.audit_log'), /append-only/);
    await assert.rejects(db.query('truncate kernel.audit_log'), /append-only/);
  });

  it('when a superuser bypasses the trigger and edits a record, then verification names the first bad record', async () => {
    const audit = createAuditLog(db, 'identity');
    const victim = await audit.record({ actor: 'operator:op-9', action: 'identity.role-granted', subject: 'operator:op-10', data: { role: 'support' } });
    await audit.record({ actor: 'system', action: 'identity.session-revoked' });
    // The test database's owner is a superuser: it can switch the trigger off, as an attacker with that power could.
    await db.tx(async () => {
      await db.query('alter table kernel.audit_log disable trigger audit_log_no_update_delete');
      await db.query(`update kernel.audit_log set data = '{"role":"admin"}' where id = $1`, [victim.id]);
      await db.query('alter table kernel.audit_log enable trigger audit_log_no_update_delete');
    });
    const result = await verifyAuditChain(db);
    assert.equal(result.ok, false);
    assert.equal(result.firstBadSequence, victim.sequence);
  });

  it('when a request has a principal, then actorFromContext names it; otherwise it is anonymous', () => {
    assert.equal(actorFromContext(), 'anonymous');
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true };
    const principal = { subject: 'op-7', kind: 'operator' as const, roles: ['admin'], permissions: new Set<string>(), amr: ['pwd', 'otp'], authTime: 0, issuer: 'x' };
    assert.equal(requestContext.run({ requestId: 'r1', trace, principal }, actorFromContext), 'operator:op-7');
    assert.equal(requestContext.run({ requestId: 'r2', trace, principal: { ...principal, kind: 'service', subject: 'service:payments' } }, actorFromContext), 'service:payments');
  });

  it('when an entry is malformed, then record refuses it before touching the chain', async () => {
    const audit = createAuditLog(db, 'identity');
    await assert.rejects(audit.record({ actor: 'system', action: 'NoModulePrefix' }), /action/);
    await assert.rejects(audit.record({ actor: '', action: 'identity.x' }), /actor/);
    await assert.rejects(audit.record({ actor: 'system', action: 'identity.big', data: { blob: 'x'.repeat(20_000) } }), /data over/);
  });
});
