// The own account: getMe with the decrypted profile and MFA status, and a player's address change.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { identityModule, PLAYER_ADDRESS_CHANGED_V1 } from '@verity/identity';
import { operatorSession, playerToken, totpNow } from '@verity/identity/testing';

const dump = (rows: unknown) => JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('identity: own profile', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
  });
  after(() => p?.stop());

  it('when a player asks getMe, then it answers their own decrypted profile and MFA status, never cached', async () => {
    const player = await playerToken(p.http, { legalName: 'Mary Somerville', dateOfBirth: '1980-12-26', country: 'IE' });
    const me = await p.http.get('/v1/me', player.accessToken);
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('cache-control'), 'no-store');
    assert.deepEqual(me.body.player, {
      email: player.email,
      legalName: 'Mary Somerville',
      dateOfBirth: '1980-12-26',
      address: { line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
      country: 'IE',
    });
    assert.equal(me.body.mfaEnabled, false);
    assert.equal(me.body.operator, undefined);
    const enrol = await p.http.post('/v1/me/mfa', {}, player.accessToken);
    await p.http.post('/v1/me/mfa/verify', { code: totpNow(enrol.body.secret) }, player.accessToken);
    assert.equal((await p.http.get('/v1/me', player.accessToken)).body.mfaEnabled, true);
  });

  it('when an operator asks getMe, then it answers their name, email, roles and MFA status, and no player profile', async () => {
    const operator = await operatorSession(p, ['compliance-manager', 'support']);
    const me = await p.http.get('/v1/me', operator.accessToken);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.operator, { email: operator.email, displayName: 'Test Operator' });
    assert.deepEqual(me.body.roles, ['compliance-manager', 'support']);
    assert.equal(me.body.mfaEnabled, true);
    assert.equal(me.body.player, undefined);
  });

  it('when a player changes their address, then getMe shows it, it is stored encrypted, and the audit record and event carry no address', async () => {
    const player = await playerToken(p.http);
    const address = { line1: '7 Rue de la Paix', line2: 'Bâtiment B', city: 'Paris', postcode: '75002', country: 'FR' };
    const res = await p.http.request('PATCH', '/v1/me/address', { body: address, token: player.accessToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { address });
    const me = await p.http.get('/v1/me', player.accessToken);
    assert.deepEqual(me.body.player.address, address);
    assert.equal(me.body.player.country, 'GB', 'the jurisdiction of registration does not follow the postal address');

    const stored = await p.db.query<{ address_enc: string }>('select address_enc from identity.players where account_id = $1', [player.playerId]);
    assert.match(stored[0]!.address_enc, /^v1\./);
    assert.ok(!dump(stored).includes('Rue de la Paix'));
    const audit = await p.db.query<{ actor: string; data: unknown }>("select actor, data from kernel.audit_log where action = 'identity.player-address-changed' and subject = $1", [`player:${player.playerId}`]);
    assert.deepEqual(audit, [{ actor: `player:${player.playerId}`, data: { countryChanged: true } }]);
    const events = await p.db.query<{ data: Record<string, unknown> }>('select data from identity.outbox where type = $1 and subject = $2', [PLAYER_ADDRESS_CHANGED_V1, player.playerId]);
    assert.deepEqual(Object.keys(events[0]!.data).sort(), ['changedAt', 'playerId']);
    assert.ok(!dump(await p.db.query('select * from kernel.audit_log')).includes('Paris'));
  });

  it('when the address body is wrong or the caller is not a player, then 4xx problems and nothing changes', async () => {
    const player = await playerToken(p.http);
    const patch = (body: unknown, token?: string) => p.http.request('PATCH', '/v1/me/address', { body, ...(token ? { token } : {}) });
    const good = { line1: '1 High Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' };
    for (const body of [{ ...good, planet: 'Mars' }, { ...good, line1: '' }, { ...good, city: 'x'.repeat(101) }, { ...good, country: 'gb' }, { line1: 'x' }]) {
      const res = await patch(body, player.accessToken);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
    }
    assert.equal((await patch(good)).status, 401);
    const operator = await operatorSession(p, ['support']);
    assert.equal((await patch(good, operator.accessToken)).status, 403);
    assert.equal((await p.http.get('/v1/me', player.accessToken)).body.player.address.city, 'London');
  });
});
