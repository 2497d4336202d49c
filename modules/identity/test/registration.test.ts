import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { identityModule, PLAYER_REGISTERED_V1, type IdentityService } from '@verity/identity';
import { playerBody, registerPlayer, strongPassword } from '@verity/identity/testing';
import { createLogger } from '@verity/kernel';
import { rangeApiClient } from '../src/adapters/breached-passwords.ts';
import { rangeQuery } from '../src/domain/password-policy.ts';

describe('identity: player registration', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
  });
  after(() => p?.stop());

  it('when a player registers with valid details, then 201 with its id, and the service summarises it without personal data', async () => {
    const res = await p.http.post('/v1/players', playerBody({ country: 'IE' }));
    assert.equal(res.status, 201);
    assert.match(res.body.playerId, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.status, 'active');
    const summary = await p.service<IdentityService>('identity').getPlayerSummary(res.body.playerId);
    assert.equal(summary.playerId, res.body.playerId);
    assert.equal(summary.status, 'active');
    assert.equal(summary.country, 'IE');
    assert.ok(summary.createdAt instanceof Date);
    await assert.rejects(p.service<IdentityService>('identity').getPlayerSummary('not-a-uuid'), { code: 'not-found' });
  });

  it('when a player is stored, then name, date of birth, address and email are not in clear in any column', async () => {
    const player = await registerPlayer(p.http, { legalName: 'Grace Brewster Hopper', dateOfBirth: '1906-12-09', address: { line1: '1 Navy Yard Lane', city: 'Arlington', postcode: 'VA 22202', country: 'US' } });
    const rows = await p.db.query(
      'select a.*, p.* from identity.accounts a join identity.players p on p.account_id = a.id where a.id = $1',
      [player.playerId],
    );
    assert.equal(rows.length, 1);
    const stored = JSON.stringify(rows[0], (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    for (const clear of ['Grace', 'Hopper', '1906-12-09', 'Navy Yard', 'Arlington', player.email, player.email.split('@')[0]!]) {
      assert.ok(!stored.toLowerCase().includes(clear.toLowerCase()), `"${clear}" must not be stored in clear`);
    }
    const row = rows[0]!;
    for (const column of ['email_enc', 'legal_name_enc', 'date_of_birth_enc', 'address_enc']) assert.match(String(row[column]), /^v1\./, column);
    assert.match(String(row.email_hash), /^[0-9a-f]{64}$/);
    assert.match(String(row.password_hash), /^\$argon2id\$/);
  });

  it('when registration succeeds, then a player-registered event without personal data is in the outbox, and it is audited', async () => {
    const player = await registerPlayer(p.http);
    const events = await p.db.query<{ type: string; data: Record<string, unknown> }>('select type, data from identity.outbox where subject = $1', [player.playerId]);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, PLAYER_REGISTERED_V1);
    assert.deepEqual(Object.keys(events[0]!.data).sort(), ['country', 'playerId', 'registeredAt']);
    const audit = await p.db.query("select actor from kernel.audit_log where action = 'identity.player-registered' and subject = $1", [`player:${player.playerId}`]);
    assert.equal(audit.length, 1);
  });

  it('when the password is common, short, or built on the player\'s own name, then 400 password-rejected at /body/password', async () => {
    for (const [password, reason] of [['password1234', 'too-guessable'], ['qwertyuiop12', 'too-guessable'], ['AdaLovelace1990', 'personal-info']] as const) {
      const res = await p.http.post('/v1/players', playerBody({ password, legalName: 'Ada Lovelace' }));
      assert.equal(res.status, 400, password);
      assert.equal(res.body.code, 'password-rejected');
      assert.equal(res.body.reason, reason, password);
      assert.equal(res.body.errors[0].pointer, '/body/password');
    }
    assert.equal((await p.http.post('/v1/players', playerBody({ password: 'short' }))).status, 400);
  });

  it('when the date of birth is not a real past date, then 400 at /body/dateOfBirth; an under-18 date is accepted for KYC to judge', async () => {
    for (const dateOfBirth of ['1990-02-30', '2999-01-01', '1850-01-01', '12-04-1990']) {
      const res = await p.http.post('/v1/players', playerBody({ dateOfBirth }));
      assert.equal(res.status, 400, dateOfBirth);
      assert.ok(res.body.errors.some((e: { pointer: string }) => e.pointer === '/body/dateOfBirth'), dateOfBirth);
    }
    const tenYearsAgo = new Date(Date.now() - 10 * 365.25 * 86400_000).toISOString().slice(0, 10);
    assert.equal((await p.http.post('/v1/players', playerBody({ dateOfBirth: tenYearsAgo }))).status, 201);
  });

  it('when the email is already registered in any letter case, then 409 email-unavailable that reveals nothing about the account', async () => {
    const first = await registerPlayer(p.http);
    const res = await p.http.post('/v1/players', playerBody({ email: first.email.toUpperCase() }));
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'email-unavailable');
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes(first.playerId) && !text.includes('Ada'), 'no id or personal data of the existing account');
    const concurrent = playerBody();
    const results = await Promise.all([p.http.post('/v1/players', concurrent), p.http.post('/v1/players', { ...concurrent, password: strongPassword() })]);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409], 'a race for one email has one winner');
  });

  it('when a body has unknown fields, wrong types or oversized strings, then 400 with pointers, never a 5xx', async () => {
    const unknown = await p.http.post('/v1/players', { ...playerBody(), isAdmin: true });
    assert.equal(unknown.status, 400);
    assert.ok(unknown.body.errors.some((e: { pointer: string }) => e.pointer === '/body/isAdmin'));
    const nested = await p.http.post('/v1/players', playerBody({ address: { line1: 'x', city: 'y', postcode: 'z', country: 'GB', planet: 'Mars' } }));
    assert.equal(nested.status, 400);
    assert.equal((await p.http.post('/v1/players', playerBody({ legalName: 'x'.repeat(201) }))).status, 400);
    assert.equal((await p.http.post('/v1/players', playerBody({ country: 'gb' }))).status, 400);
    assert.equal((await p.http.post('/v1/players', playerBody({ email: 42 }))).status, 400);
    assert.equal((await p.http.post('/v1/players', playerBody({ password: 'x'.repeat(129) }))).status, 400);
  });

  it('when registration is retried with the same Idempotency-Key, then the first answer is replayed; another body is a 422', async () => {
    const body = playerBody();
    const headers = { 'idempotency-key': `reg-${Date.now()}-abcdef` };
    const first = await p.http.post('/v1/players', body, undefined, headers);
    const again = await p.http.post('/v1/players', body, undefined, headers);
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.body.playerId, first.body.playerId);
    assert.equal((await p.http.post('/v1/players', playerBody(), undefined, headers)).status, 422);
  });
});

describe('identity: registration with a breached-password API', () => {
  let p: TestPlatform;
  let api: http.Server;
  const breached = 'violet-tractor-umbrella-93';
  let requestedPrefixes: string[] = [];

  before(async () => {
    // The range API answers the suffixes of one "breached" password, padded like Have I Been Pwned.
    api = http.createServer((req, res) => {
      const prefix = (req.url ?? '').split('/').pop()!;
      requestedPrefixes.push(prefix);
      const { prefix: bp, suffix } = rangeQuery(breached);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(prefix === bp ? `0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n${suffix}:42\r\n` : '0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n');
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    p = await startTestPlatform({ modules: [identityModule], env: { BREACHED_PASSWORD_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}` } });
  });
  after(async () => {
    await p?.stop();
    api?.closeAllConnections();
    await new Promise((r) => api?.close(r));
  });

  it('when the API lists the password, then registration is refused; only a 5-character hash prefix was sent', async () => {
    requestedPrefixes = [];
    const res = await p.http.post('/v1/players', playerBody({ password: breached }));
    assert.equal(res.status, 400);
    assert.equal(res.body.reason, 'breached');
    assert.deepEqual(requestedPrefixes, [rangeQuery(breached).prefix]);
    assert.equal((await p.http.post('/v1/players', playerBody())).status, 201, 'an unlisted password passes');
  });

  it('when the API does not answer in time, then the check gives up quickly and leaves the offline check in charge', async () => {
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const hanging = http.createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    try {
      const client = rangeApiClient(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, createLogger('silent'), 200);
      const started = performance.now();
      assert.equal(await client.isBreached(breached), undefined);
      assert.ok(performance.now() - started < 2000);
      assert.equal(await rangeApiClient(base, createLogger('silent')).isBreached(breached), true);
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  });
});
