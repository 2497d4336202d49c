import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { leafHash } from '@verity/evidence';
import { createDb, migrate, requestContext, type Db } from '@verity/kernel';
import { createTestDatabase } from '@verity/kernel/testing';
import { actorFromContext, auditHash, auditLeafBytes, createAuditLog, GENESIS_HASH, verifyAuditChain, verifyAuditRecords, type ChainRecord } from '../src/audit/audit.ts';
import { canonicalJson } from '../src/audit/canonical-json.ts';
import { createIntegrator } from '../src/evidence-log/integrator.ts';
import { createLogRepository } from '../src/evidence-log/repository.ts';
import { loadMigrations } from '../src/platform.ts';

/** Two records of the issue-2 hash chain, written as that code wrote them, before the log existed. */
async function writeLegacyChain(db: Db): Promise<ChainRecord[]> {
  const out: ChainRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, action] of ['identity.operator-created', 'identity.role-granted'].entries()) {
    const r: ChainRecord = {
      sequence: BigInt(i + 1), id: `0190f0a0-0000-7000-8000-00000000000${i}`, module: 'identity', actor: 'system', action, subject: 'operator:op-1',
      data: { role: 'support' }, traceId: null, recordedAt: new Date('2025-01-01T00:00:00.000Z'), prevHash,
    };
    const hash = auditHash(r);
    await db.query(
      `insert into kernel.audit_log (sequence, id, module, actor, action, subject, reason, data, trace_id, recorded_at, prev_hash, hash)
       values ($1, $2, $3, $4, $5, $6, null, $7, null, $8, $9, $10)`,
      [r.sequence, r.id, r.module, r.actor, r.action, r.subject, JSON.stringify(r.data), r.recordedAt, r.prevHash, hash],
    );
    out.push(r);
    prevHash = hash;
  }
  return out;
}

describe('audit log', () => {
  let db: Db;
  let legacy: ChainRecord[];
  const integrate = () => createIntegrator({ db, repo: createLogRepository(db), batchMax: 500 }).drain();

  before(async () => {
    const { url } = await createTestDatabase();
    db = createDb({ connectionString: url, max: 12 });
    const [kernel, ...rest] = await loadMigrations([]);
    // The database as issue 2 left it, with a chain in it; then the evidence-log migration.
    await migrate(db, [kernel!.filter((m) => m.version <= 2)]);
    legacy = await writeLegacyChain(db);
    await migrate(db, [kernel!, ...rest]);
  });
  after(async () => {
    await db?.close();
  });

  it('when the log migration ran over an existing chain, then the chain is still readable, verifiable and closed to new records', async () => {
    assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 2 });
    const rows = await db.query<{ id: string; hash: string | null; leaf_hash: string | null }>('select id, hash, leaf_hash from kernel.audit_log order by sequence');
    assert.deepEqual(rows.slice(0, 2).map((r) => r.id), legacy.map((r) => r.id));
    assert.ok(rows.slice(0, 2).every((r) => r.hash && r.leaf_hash === null));
    await assert.rejects(
      db.query(`insert into kernel.audit_chain (id, module, actor, action, recorded_at, prev_hash, hash) values (gen_random_uuid(), 'x', 'system', 'x.y', now(), $1, $1)`, ['f'.repeat(64)]),
      /closed/,
    );
    // New records number on after the chain, so one ordering spans both.
    const next = await createAuditLog(db, 'identity').record({ actor: 'system', action: 'identity.keys-rotated' });
    assert.ok(next.sequence > legacy[1]!.sequence);
  });

  it('when a record is appended, then it carries the trace id and the database time, and its canonical JSON becomes a log leaf', async () => {
    const audit = createAuditLog(db, 'identity');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const record = await requestContext.run({ requestId: 'req-audit-1', trace: { traceId, spanId: '00f067aa0ba902b7', sampled: true } }, () =>
      audit.record({ actor: 'operator:op-1', action: 'identity.operator-created', subject: 'operator:op-2', reason: 'new hire', data: { count: 3n } }),
    );
    assert.equal(record.traceId, traceId);
    assert.equal(record.data?.count, '3');
    const bytes = auditLeafBytes(record);
    assert.equal(record.leafHash, Buffer.from(leafHash(bytes)).toString('hex'));
    assert.equal(JSON.parse(bytes.toString()).type, 'kernel.audit.v1');
    assert.equal(bytes.toString(), canonicalJson(JSON.parse(bytes.toString())), 'the leaf is canonical JSON');

    await integrate();
    const leaf = await db.one<{ data: Buffer; kind: string; module: string; type: string; visibility: string }>(
      'select data, kind, module, type, visibility from kernel.log_leaves where leaf_hash = $1', [Buffer.from(record.leafHash, 'hex')],
    );
    assert.deepEqual(leaf.data, bytes);
    assert.deepEqual({ kind: leaf.kind, module: leaf.module, type: leaf.type, visibility: leaf.visibility }, { kind: 'audit', module: 'identity', type: 'identity.operator-created', visibility: 'restricted' });
    const row = await db.one<{ recorded_at: Date; trace_id: string; leaf_hash: string }>('select recorded_at, trace_id, leaf_hash from kernel.audit_log where id = $1', [record.id]);
    assert.equal(row.trace_id, traceId);
    assert.equal(row.leaf_hash, record.leafHash);
    assert.equal(row.recorded_at.getTime(), record.recordedAt.getTime());
  });

  it('when 40 records are appended concurrently, inside and outside transactions, then each is one leaf and every copy verifies', async () => {
    const audit = createAuditLog(db, 'payments');
    const records = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? audit.record({ actor: 'system', action: 'payments.settled', subject: `transfer:${i}` })
          : db.tx(async () => {
              await db.query('select pg_sleep(0.005)');
              return audit.record({ actor: 'system', action: 'payments.reserved', subject: `transfer:${i}` });
            }),
      ),
    );
    await integrate();
    const leaves = await db.one<{ n: bigint }>('select count(*) as n from kernel.log_leaves where leaf_hash = any($1::bytea[])', [records.map((r) => Buffer.from(r.leafHash, 'hex'))]);
    assert.equal(leaves.n, 40n);
    const result = await verifyAuditRecords(db);
    assert.equal(result.ok, true);
    assert.ok(result.count >= 40);
  });

  it('when the transaction that recorded it rolls back, then neither the record nor its log row exists', async () => {
    const audit = createAuditLog(db, 'payments');
    let leaf = '';
    await assert.rejects(
      db.tx(async () => {
        leaf = (await audit.record({ actor: 'system', action: 'payments.reserved', subject: 'transfer:rolled-back' })).leafHash;
        throw new Error('the purchase failed');
      }),
    );
    await integrate();
    assert.equal((await db.query("select 1 from kernel.audit_log where subject = 'transfer:rolled-back'")).length, 0);
    assert.equal((await db.query('select 1 from kernel.log_leaves where leaf_hash = $1 union all select 1 from kernel.log_pending where leaf_hash = $1', [Buffer.from(leaf, 'hex')])).length, 0);
  });

  it('when anyone tries to update, delete or truncate audit records, then the database refuses', async () => {
    for (const table of ['kernel.audit_records', 'kernel.audit_chain']) {
      await assert.rejects(db.query(`update ${table} set reason = 'edited'`), /append-only/);
      await assert.rejects(db.query(`delete from ${table}`), /append-only/);
      await assert.rejects(db.query(`truncate ${table}`), /append-only/);
    }
  });

  it('when a superuser bypasses the trigger and edits a record copy, then verification names it', async () => {
    const audit = createAuditLog(db, 'identity');
    const victim = await audit.record({ actor: 'operator:op-9', action: 'identity.role-granted', subject: 'operator:op-10', data: { role: 'support' } });
    await audit.record({ actor: 'system', action: 'identity.session-revoked' });
    // The test database's owner is a superuser: it can switch the trigger off, as an attacker with that power could.
    await db.tx(async () => {
      await db.query('alter table kernel.audit_records disable trigger audit_records_no_update_delete');
      await db.query(`update kernel.audit_records set data = '{"role":"admin"}' where id = $1`, [victim.id]);
      await db.query('alter table kernel.audit_records enable trigger audit_records_no_update_delete');
    });
    const result = await verifyAuditRecords(db);
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

  it('when an entry is malformed or carries personal data in clear, then record refuses it before touching the log', async () => {
    const audit = createAuditLog(db, 'identity');
    const before = await db.one<{ n: bigint }>('select count(*) as n from kernel.audit_records');
    await assert.rejects(audit.record({ actor: 'system', action: 'NoModulePrefix' }), /action/);
    await assert.rejects(audit.record({ actor: '', action: 'identity.x' }), /actor/);
    await assert.rejects(audit.record({ actor: 'system', action: 'identity.big', data: { blob: 'x'.repeat(20_000) } }), /data over/);
    await assert.rejects(audit.record({ actor: 'system', action: 'identity.x', data: { email: 'ada@example.com' } }), /data\.email looks like personal data/);
    await assert.rejects(audit.record({ actor: 'system', action: 'identity.x', data: { holder: { date_of_birth: '1990-01-01' } } }), /data\.holder\.date_of_birth/);
    assert.equal((await db.one<{ n: bigint }>('select count(*) as n from kernel.audit_records')).n, before.n);
    // Flags and keyed hashes of personal values are fine.
    await audit.record({ actor: 'system', action: 'identity.x', data: { email: 'a'.repeat(64), temporaryPassword: true, password: null } });
  });
});
