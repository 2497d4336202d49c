import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from 'typebox';
import { defineModule, RUNTIME_CONFIG_TTL_MS, type ModuleDefinition } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { adminToken, operatorSession, playerToken } from '@verity/identity/testing';

interface ProbeService {
  maxTickets(): Promise<number>;
  rules(): Promise<{ minAnswers: number; label: string }>;
}

/** A module that declares two keys, as a game module does at setup. */
const probe: ModuleDefinition<ProbeService> = defineModule<ProbeService>({
  name: 'probe_cfg',
  migrationsDir: path.join(os.tmpdir(), 'verity-no-migrations'),
  remoteMethods: [],
  setup(ctx) {
    const maxTickets = ctx.runtimeConfig.define('limits.max-tickets', Type.Integer({ minimum: 1, maximum: 100, description: 'Tickets per order' }), 10);
    const rules = ctx.runtimeConfig.define('rules', Type.Object({ minAnswers: Type.Integer({ minimum: 1 }), label: Type.String({ maxLength: 20 }) }, { additionalProperties: false }), { minAnswers: 5, label: 'default' });
    return { service: { maxTickets: () => maxTickets.get(), rules: () => rules.get() } };
  },
});

const KEY = '/v1/config/probe_cfg/limits.max-tickets';

describe('runtime configuration', () => {
  let p: TestPlatform;
  let admin: string;

  before(async () => {
    p = await startTestPlatform({ modules: [identityModule, probe] });
    admin = await adminToken(p);
  });
  after(() => p?.stop());

  const put = (token: string, url: string, body: unknown) => p.http.request('PUT', url, { token, body });

  it('when no one set a key, then its default applies and it is listed at version 0 with its schema', async () => {
    assert.equal(await p.service<ProbeService>('probe_cfg').maxTickets(), 10);
    const list = await p.http.get('/v1/config', admin);
    assert.equal(list.status, 200);
    const entry = list.body.items.find((i: { module: string; key: string }) => i.module === 'probe_cfg' && i.key === 'limits.max-tickets');
    assert.equal(entry.version, 0);
    assert.equal(entry.value, 10);
    assert.equal(entry.schema.maximum, 100);
    assert.equal(entry.description, 'Tickets per order');
  });

  it('when an operator with settings:manage changes a value with a reason, then the module reads it, the history says who and why, and it is audited', async () => {
    const res = await put(admin, KEY, { value: 25, version: 0, reason: 'Christmas promotion' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.version, 1);
    assert.equal(await p.service<ProbeService>('probe_cfg').maxTickets(), 25);
    const got = await p.http.get(KEY, admin);
    assert.equal(got.body.entry.value, 25);
    assert.equal(got.body.history[0].reason, 'Christmas promotion');
    assert.match(got.body.history[0].changedBy, /^operator:/);
    const audit = await p.db.one<{ actor: string; reason: string; data: Record<string, unknown> }>(
      "select actor, reason, data from kernel.audit_log where action = 'kernel.runtime-config-changed' and subject = 'config:probe_cfg/limits.max-tickets' order by sequence desc limit 1",
    );
    assert.equal(audit.reason, 'Christmas promotion');
    assert.deepEqual([audit.data.value, audit.data.previousValue, audit.data.version], [25, 10, 1]);
    assert.equal(audit.actor, got.body.history[0].changedBy);
  });

  it('when a change is based on a version that is no longer current, then it is refused with 409 and nothing changes', async () => {
    const current = (await p.http.get(KEY, admin)).body.entry.version as number;
    assert.equal((await put(admin, KEY, { value: 30, version: current, reason: 'first editor' })).status, 200);
    const stale = await put(admin, KEY, { value: 40, version: current, reason: 'second editor, stale' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.code, 'config-version-conflict');
    assert.equal(stale.body.currentVersion, current + 1);
    assert.match(stale.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(await p.service<ProbeService>('probe_cfg').maxTickets(), 30);
  });

  it('when two operators change the same version at once, then exactly one change is kept', async () => {
    const current = (await p.http.get(KEY, admin)).body.entry.version as number;
    const results = await Promise.all([50, 60, 70].map((value) => put(admin, KEY, { value, version: current, reason: `race ${value}` })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409]);
    const winner = results.find((r) => r.status === 200)!.body.value;
    assert.equal(await p.service<ProbeService>('probe_cfg').maxTickets(), winner);
  });

  it('when a value does not fit the key\'s schema, then a 400 problem points into the value', async () => {
    const rules = '/v1/config/probe_cfg/rules';
    const res = await put(admin, rules, { value: { minAnswers: 0, label: 'x', extra: true }, version: 0, reason: 'bad value' });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'validation-failed');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer).sort();
    assert.deepEqual(pointers, ['/body/value/extra', '/body/value/minAnswers']);
    const wrongType = await put(admin, KEY, { value: '12', version: 0, reason: 'a string' });
    assert.equal(wrongType.status, 400);
    assert.deepEqual(wrongType.body.errors.map((e: { pointer: string }) => e.pointer), ['/body/value']);
    assert.deepEqual(await p.service<ProbeService>('probe_cfg').rules(), { minAnswers: 5, label: 'default' });
  });

  it('when the reason is missing or the key unknown, then the answer is a problem, not a change', async () => {
    const noReason = await put(admin, KEY, { value: 5, version: 0 });
    assert.equal(noReason.status, 400);
    assert.ok(noReason.body.errors.some((e: { pointer: string }) => e.pointer === '/body/reason'));
    const unknown = await put(admin, '/v1/config/probe_cfg/no-such-key', { value: 5, version: 0, reason: 'typo' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'config-key-not-found');
  });

  it('when a player or an operator without settings:manage tries a change, then it is forbidden', async () => {
    const player = await playerToken(p.http);
    assert.equal((await put(player.accessToken, KEY, { value: 5, version: 0, reason: 'mine now' })).status, 403);
    const support = await operatorSession(p, ['support']);
    const res = await put(support.accessToken, KEY, { value: 5, version: 0, reason: 'mine now' });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'forbidden');
    assert.equal((await p.http.get(KEY, support.accessToken)).status, 200);
  });

  it('when another process changes a value, then this process reads it well before the cache TTL (notified at commit)', async () => {
    const other = await startTestPlatform({ modules: [identityModule, probe], config: { databaseUrl: p.config.databaseUrl } });
    try {
      const otherAdmin = await adminToken(other);
      // Read (and cached) here just before the change: without the notification it would stay for the whole TTL.
      assert.equal(await p.service<ProbeService>('probe_cfg').rules().then((r) => r.label), 'default');
      const res = await other.http.request('PUT', '/v1/config/probe_cfg/rules', { token: otherAdmin, body: { value: { minAnswers: 9, label: 'elsewhere' }, version: 0, reason: 'set in another process' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const started = performance.now();
      await waitFor(async () => (await p.service<ProbeService>('probe_cfg').rules()).label === 'elsewhere', { timeoutMs: RUNTIME_CONFIG_TTL_MS / 2, intervalMs: 10, what: 'the change to reach the first process' });
      assert.ok(performance.now() - started < RUNTIME_CONFIG_TTL_MS / 2);
    } finally {
      await other.stop();
    }
  });
});
