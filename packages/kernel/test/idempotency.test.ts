import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from 'typebox';
import { DomainError, Strict, defineModule, idempotencyKeyHeaders, requestContext, type ModuleContext } from '@verity/kernel';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { purgeExpiredIdempotencyKeys } from '../src/http/idempotency.ts';

/** A command module whose side effects can be counted: each transfer inserts one row. */
async function transfersFixture() {
  const migrationsDir = await mkdtemp(path.join(os.tmpdir(), 'verity-idem-fixture-'));
  await writeFile(
    path.join(migrationsDir, '0001_effects.sql'),
    'create table fixture_idem.effects (id bigint generated always as identity primary key, label text not null);',
  );
  let crashesLeft = 0;
  const module = defineModule({
    name: 'fixture_idem',
    migrationsDir,
    remoteMethods: [],
    setup(ctx: ModuleContext) {
      const effect = async (label: string) => {
        await ctx.db.query('insert into fixture_idem.effects (label) values ($1)', [label]);
      };
      return {
        service: {},
        routes(app) {
          // Stands in for the auth guard: the caller named by a header becomes the principal.
          app.addHook('preHandler', async (req) => {
            const subject = req.headers['x-test-subject'];
            const rc = requestContext.get();
            if (typeof subject === 'string' && rc) rc.principal = { subject, kind: 'player', roles: [], permissions: new Set(), amr: ['pwd'], authTime: 0, issuer: 'test' };
          });
          const body = Strict({ label: Type.String({ maxLength: 50 }), delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 2000 })) });
          const reply201 = { 201: Strict({ transferId: Type.String(), label: Type.String(), effects: Type.Integer() }) };
          const transfer = async (req: { body: { label: string; delayMs?: number } }, reply: { code(n: number): unknown }) => {
            await effect(req.body.label);
            if (req.body.delayMs) await ctx.db.query('select pg_sleep($1)', [req.body.delayMs / 1000]);
            const { n } = await ctx.db.one<{ n: bigint }>('select count(*) as n from fixture_idem.effects');
            reply.code(201);
            return { transferId: randomUUID(), label: req.body.label, effects: Number(n) };
          };
          app.post('/v1/fixture/transfers', { schema: { operationId: 'fixtureTransfer', body, response: reply201 } }, ctx.idempotency.wrap(transfer));
          app.post('/v1/fixture/strict-transfers', { schema: { operationId: 'fixtureStrictTransfer', body, response: reply201 } }, ctx.idempotency.wrap(transfer, { required: true }));
          app.post('/v1/fixture/documented-transfers', { schema: { operationId: 'fixtureDocumentedTransfer', headers: idempotencyKeyHeaders({ required: true }), body, response: reply201 } }, ctx.idempotency.wrap(transfer, { required: true }));
          app.post('/v1/fixture/sent-transfers', { schema: { operationId: 'fixtureSentTransfer', body, response: reply201 } }, ctx.idempotency.wrap(async (req: { body: { label: string } }, reply: { code(n: number): { send(x: unknown): unknown } }) => {
            await effect(req.body.label);
            return reply.code(201).send({ transferId: randomUUID(), label: req.body.label, effects: 1 }) as never;
          }));
          app.post('/v1/fixture/refusals', { schema: { operationId: 'fixtureRefusal', body } }, ctx.idempotency.wrap(async (req: { body: { label: string } }) => {
            await effect(req.body.label);
            throw new DomainError('insufficient-funds', 409, 'Insufficient funds', 'The wallet cannot cover this.');
          }));
          app.post('/v1/fixture/crashes', { schema: { operationId: 'fixtureCrash', body, response: reply201 } }, ctx.idempotency.wrap(async (req: { body: { label: string } }, reply: { code(n: number): unknown }) => {
            await effect(req.body.label);
            if (crashesLeft-- > 0) throw new Error('the disk caught fire');
            return transfer({ body: { label: `${req.body.label}-retry` } }, reply);
          }));
        },
      };
    },
  });
  return { module, crashOnce: () => (crashesLeft = 1) };
}

describe('Idempotency-Key on commands', () => {
  let p: TestPlatform;
  let fixture: Awaited<ReturnType<typeof transfersFixture>>;
  const effects = async (label: string) =>
    Number((await p.db.one<{ n: bigint }>('select count(*) as n from fixture_idem.effects where label like $1', [`${label}%`])).n);
  const post = (route: string, body: unknown, key?: string, subject?: string) =>
    p.http.post(`/v1/fixture/${route}`, body, undefined, { ...(key ? { 'idempotency-key': key } : {}), ...(subject ? { 'x-test-subject': subject } : {}) });

  before(async () => {
    fixture = await transfersFixture();
    p = await startTestPlatform({ modules: [fixture.module] });
  });
  after(() => p?.stop());

  it('when a handler returns reply.code().send(), then the answer is stored and replayed (no hang)', async () => {
    const key = randomUUID();
    const first = await post('sent-transfers', { label: 'sent' }, key);
    const second = await post('sent-transfers', { label: 'sent' }, key);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(await effects('sent'), 1);
  });

  it('when the same key and body are sent again, then the first answer is replayed and the work is done once', async () => {
    const key = randomUUID();
    const first = await post('transfers', { label: 'replay' }, key);
    const second = await post('transfers', { label: 'replay' }, key);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.body, first.body);
    assert.match(second.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(await effects('replay'), 1);
  });

  it('when the same key comes with another body, then the answer is 422 idempotency-key-reused and nothing is done', async () => {
    const key = randomUUID();
    assert.equal((await post('transfers', { label: 'mismatch-a' }, key)).status, 201);
    const res = await post('transfers', { label: 'mismatch-b' }, key);
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(res.body.type, '/problems/idempotency-key-reused');
    assert.equal(await effects('mismatch-b'), 0);
  });

  it('when 20 identical requests with one key arrive at once, then the work is done once and all 20 get the same answer', async () => {
    const key = randomUUID();
    // The first holds its transaction open for 300 ms, so the others arrive while it is in flight.
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('transfers', { label: 'burst', delayMs: 300 }, key)));
    assert.equal(await effects('burst'), 1);
    for (const a of answers) {
      assert.equal(a.status, 201);
      assert.deepEqual(a.body, answers[0]!.body);
    }
    const replays = answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length;
    assert.equal(replays, 19);
  });

  it('when a command requires a key and none is sent, then the answer is 400 and nothing is done', async () => {
    const res = await post('strict-transfers', { label: 'keyless' });
    assert.equal(res.status, 400);
    assert.equal(res.body.type, '/problems/idempotency-key-required');
    assert.equal(await effects('keyless'), 0);
    const withKey = await post('strict-transfers', { label: 'keyless' }, randomUUID());
    assert.equal(withKey.status, 201);
  });

  it('when the key is too short or not visible ASCII, then the answer is 400 idempotency-key-invalid', async () => {
    for (const key of ['short', 'has space inside', 'x'.repeat(256)]) {
      const res = await post('transfers', { label: 'badkey' }, key);
      assert.equal(res.status, 400, key);
      assert.equal(res.body.type, '/problems/idempotency-key-invalid');
    }
    assert.equal(await effects('badkey'), 0);
  });

  it('when the command refuses with a 4xx, then its writes roll back and a retry gets the same problem', async () => {
    const key = randomUUID();
    const first = await post('refusals', { label: 'refused' }, key);
    const retry = await post('refusals', { label: 'refused' }, key);
    assert.equal(first.status, 409);
    assert.equal(first.body.type, '/problems/insufficient-funds');
    assert.equal(retry.status, 409);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.match(retry.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.deepEqual(retry.body, first.body);
    assert.equal(await effects('refused'), 0);
  });

  it('when the command fails unexpectedly, then nothing is stored and a retry with the same key does the work', async () => {
    const key = randomUUID();
    fixture.crashOnce();
    const crashed = await post('crashes', { label: 'crash' }, key);
    assert.equal(crashed.status, 500);
    assert.equal(await effects('crash'), 0);
    const retry = await post('crashes', { label: 'crash' }, key);
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), null);
    assert.equal(await effects('crash'), 2); // the command's own effect and its inner transfer, once
  });

  it('when two callers use the same key, then each gets an answer of their own', async () => {
    const key = randomUUID();
    const alice = await post('transfers', { label: 'scoped' }, key, 'player-alice');
    const bob = await post('transfers', { label: 'scoped' }, key, 'player-bob');
    assert.equal(bob.headers.get('idempotent-replayed'), null);
    assert.notEqual(alice.body.transferId, bob.body.transferId);
    assert.equal(await effects('scoped'), 2);
  });

  it('when a key is older than 24 hours, then the purge removes it and the key starts a new command', async () => {
    const key = randomUUID();
    await post('transfers', { label: 'expired' }, key);
    await p.db.query("update kernel.idempotency_keys set created_at = created_at - interval '25 hours' where key = $1", [key]);
    const reused = await post('transfers', { label: 'expired' }, key);
    assert.equal(reused.headers.get('idempotent-replayed'), null);
    assert.equal(await effects('expired'), 2);
    await p.db.query("update kernel.idempotency_keys set created_at = created_at - interval '25 hours' where key = $1", [key]);
    assert.ok((await purgeExpiredIdempotencyKeys(p.db)) >= 1);
    assert.equal((await p.db.query('select 1 from kernel.idempotency_keys where key = $1', [key])).length, 0);
  });

  it('when a route declares the header, then the OpenAPI document shows it and a bad key is a field error', async () => {
    const doc = (await p.http.get('/openapi.json')).body;
    const param = doc.paths['/v1/fixture/documented-transfers'].post.parameters.find((x: { name: string }) => x.name === 'idempotency-key');
    assert.equal(param.in, 'header');
    assert.equal(param.required, true);
    const res = await post('documented-transfers', { label: 'documented' }, 'short');
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].pointer, '/headers/idempotency-key');
    assert.equal((await post('documented-transfers', { label: 'documented' }, randomUUID())).status, 201);
    assert.equal(await effects('documented'), 1);
  });

  it('when no key is sent to an optional command, then it simply runs each time', async () => {
    await post('transfers', { label: 'unkeyed' });
    await post('transfers', { label: 'unkeyed' });
    assert.equal(await effects('unkeyed'), 2);
  });
});
