// Operator management by admins: listing, reading, disabling, enabling, resetting MFA.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { adminSession, operatorSession, playerToken, signInWithTotp, totpNow, type AdminSession } from '@verity/identity/testing';

describe('identity: operator management', () => {
  let p: TestPlatform;
  let admin: AdminSession;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
    admin = await adminSession(p);
  });
  after(() => p?.stop());

  const reason = { reason: 'Ticket OPS-1234: left the company' };
  const audited = (action: string, operatorId: string) =>
    p.db.query<{ actor: string; reason: string; data: Record<string, unknown> }>('select actor, reason, data from kernel.audit_log where action = $1 and subject = $2 order by sequence', [
      action,
      `operator:${operatorId}`,
    ]);

  it('when an admin lists operators, then pages follow the cursor in creation order, filters apply, and limits are enforced', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await p.http.post('/v1/operators', { email: `assets-${i}-${crypto.randomUUID().slice(0, 6)}@verity.test`, displayName: `Asset Person ${i}`, roles: ['asset-manager'] }, admin.accessToken);
      created.push(res.body.operatorId);
    }
    const first = await p.http.get('/v1/operators?role=asset-manager&limit=2', admin.accessToken);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.headers.get('cache-control'), 'no-store');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await p.http.get(`/v1/operators?role=asset-manager&limit=2&cursor=${first.body.nextCursor}`, admin.accessToken);
    assert.equal(second.body.items.length, 1);
    assert.equal(second.body.nextCursor, undefined, 'the last page has no cursor');
    assert.deepEqual([...first.body.items, ...second.body.items].map((o: { operatorId: string }) => o.operatorId), created);
    const item = first.body.items[0];
    assert.deepEqual(
      { displayName: item.displayName, roles: item.roles, status: item.status, mfaEnabled: item.mfaEnabled, passwordChangeRequired: item.passwordChangeRequired, createdBy: item.createdBy },
      { displayName: 'Asset Person 0', roles: ['asset-manager'], status: 'active', mfaEnabled: false, passwordChangeRequired: true, createdBy: `operator:${admin.operatorId}` },
    );
    assert.match(item.email, /^assets-0-/);
    assert.ok(item.temporaryPasswordExpiresAt);

    const all = await p.http.get('/v1/operators', admin.accessToken);
    assert.ok(all.body.items.some((o: { operatorId: string; mfaEnabled: boolean }) => o.operatorId === admin.operatorId && o.mfaEnabled));
    for (const bad of ['limit=0', 'limit=101', 'limit=ten', 'role=root', 'status=deleted', 'cursor=not*a*cursor', 'cursor=abc', 'cursor=AAAAAAAAAAAAAAAAAAAAAA==', 'sort=email']) {
      const res = await p.http.get(`/v1/operators?${bad}`, admin.accessToken);
      assert.equal(res.status, 400, bad);
      assert.equal(res.headers.get('content-type'), 'application/problem+json', bad);
    }
  });

  it('when an admin reads one operator, then it is there; an unknown id or a player id is a 404', async () => {
    const operator = await operatorSession(p, ['support']);
    const res = await p.http.get(`/v1/operators/${operator.operatorId}`, admin.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.email, operator.email);
    assert.equal(res.body.mfaEnabled, true);
    assert.equal(res.body.passwordChangeRequired, false);
    assert.equal(res.body.temporaryPasswordExpiresAt, undefined);
    assert.equal((await p.http.get(`/v1/operators/${crypto.randomUUID()}`, admin.accessToken)).status, 404);
    const player = await playerToken(p.http);
    assert.equal((await p.http.get(`/v1/operators/${player.playerId}`, admin.accessToken)).status, 404);
    assert.equal((await p.http.post(`/v1/operators/${player.playerId}/disable`, reason, admin.accessToken)).status, 404, 'players are not disabled here');
  });

  it('when an admin disables an operator, then every session ends, sign-in and refresh are refused, and enabling lets them back in', async () => {
    const operator = await operatorSession(p, ['finance']);
    const second = await signInWithTotp(p.http, operator.email, operator.password, operator.totpSecret, 1);
    const disabled = await p.http.post(`/v1/operators/${operator.operatorId}/disable`, reason, admin.accessToken);
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.status, 'disabled');
    for (const refreshToken of [operator.refreshToken, second.refreshToken]) {
      assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken })).status, 401);
    }
    for (const accessToken of [operator.accessToken, second.accessToken]) {
      assert.equal((await p.http.get('/v1/me', accessToken)).status, 401, 'a disabled operator\'s access tokens stop at once');
    }
    const login = await p.http.post('/v1/auth/login', { email: operator.email, password: operator.password });
    assert.equal(login.status, 403);
    assert.equal(login.body.code, 'account-inactive');
    const [record] = await audited('identity.operator-disabled', operator.operatorId);
    assert.equal(record!.actor, `operator:${admin.operatorId}`);
    assert.equal(record!.reason, reason.reason);
    assert.deepEqual(record!.data, { before: 'active', sessionsEnded: 2 });
    assert.equal((await p.http.get(`/v1/operators?status=disabled`, admin.accessToken)).body.items.some((o: { operatorId: string }) => o.operatorId === operator.operatorId), true);
    assert.equal((await p.http.post(`/v1/operators/${operator.operatorId}/disable`, reason, admin.accessToken)).status, 200, 'disabling twice changes nothing');
    assert.equal((await audited('identity.operator-disabled', operator.operatorId)).length, 1);

    const enabled = await p.http.post(`/v1/operators/${operator.operatorId}/enable`, { reason: 'Rehired' }, admin.accessToken);
    assert.equal(enabled.body.status, 'active');
    assert.equal((await audited('identity.operator-enabled', operator.operatorId))[0]!.reason, 'Rehired');
    const back = await p.http.post('/v1/auth/login', { email: operator.email, password: operator.password });
    assert.equal(back.body.challengeName, 'MFA_REQUIRED');
  });

  it('when an admin would disable themselves or gives no reason, then 409 own-account and 400', async () => {
    const own = await p.http.post(`/v1/operators/${admin.operatorId}/disable`, reason, admin.accessToken);
    assert.equal(own.status, 409);
    assert.equal(own.body.code, 'own-account');
    const operator = await operatorSession(p, ['support']);
    for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 'ok reason', extra: true }]) {
      const res = await p.http.post(`/v1/operators/${operator.operatorId}/disable`, body, admin.accessToken);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const noBody = await p.http.request('DELETE', `/v1/operators/${operator.operatorId}/mfa`, { token: admin.accessToken });
    assert.equal(noBody.status, 400, 'resetOperatorMfa needs a reason too');
  });

  it('when an admin is disabled by another, then their still-valid access token stops working on admin routes at once', async () => {
    const other = await adminSession(p);
    const res = await p.http.post(`/v1/operators/${other.operatorId}/disable`, reason, admin.accessToken);
    assert.equal(res.status, 200);
    const attempt = await p.http.get('/v1/operators', other.accessToken);
    assert.equal(attempt.status, 401, 'disabling ended every session of the account');
    assert.equal(attempt.body.code, 'session-ended');
    assert.equal((await p.http.post(`/v1/operators/${admin.operatorId}/disable`, reason, other.accessToken)).status, 401);
  });

  it('when an admin signs out, then the access token of that session no longer manages operators', async () => {
    const other = await adminSession(p);
    await p.http.post('/v1/auth/logout', { refreshToken: other.refreshToken });
    const attempt = await p.http.get('/v1/operators', other.accessToken);
    assert.equal(attempt.status, 401);
    assert.equal(attempt.body.code, 'session-ended');
  });

  it("when an admin resets an operator's MFA, then sessions end, the old token cannot enrol, and the next sign-in is MFA_SETUP_REQUIRED", async () => {
    const operator = await operatorSession(p, ['draw-manager']);
    const res = await p.http.request('DELETE', `/v1/operators/${operator.operatorId}/mfa`, { body: { reason: 'Lost phone, verified in person' }, token: admin.accessToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.mfaEnabled, false);
    assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken: operator.refreshToken })).status, 401);
    const stolen = await p.http.post('/v1/me/mfa', {}, operator.accessToken);
    assert.equal(stolen.status, 401, 'a token of an ended session cannot enrol the next authenticator');
    assert.equal(stolen.body.code, 'session-ended');

    const login = await p.http.post('/v1/auth/login', { email: operator.email, password: operator.password });
    assert.equal(login.body.challengeName, 'MFA_SETUP_REQUIRED');
    const enrol = await p.http.post('/v1/me/mfa', { session: login.body.session });
    const verified = await p.http.post('/v1/me/mfa/verify', { session: login.body.session, code: totpNow(enrol.body.secret) });
    assert.equal(verified.status, 200);
    assert.ok(verified.body.accessToken);
    const [record] = await audited('identity.operator-mfa-reset', operator.operatorId);
    assert.equal(record!.reason, 'Lost phone, verified in person');
    assert.deepEqual(record!.data, { factorsRemoved: 1, sessionsEnded: 1 });
    const own = await p.http.request('DELETE', `/v1/operators/${admin.operatorId}/mfa`, { body: reason, token: admin.accessToken });
    assert.equal(own.body.code, 'own-account');
  });

  it('when a non-admin operator or a player calls operator management, then 403', async () => {
    const support = await operatorSession(p, ['support']);
    const player = await playerToken(p.http);
    for (const token of [support.accessToken, player.accessToken]) {
      assert.equal((await p.http.get('/v1/operators', token)).body.code, 'forbidden');
      assert.equal((await p.http.post(`/v1/operators/${admin.operatorId}/disable`, reason, token)).body.code, 'forbidden');
      assert.equal((await p.http.post(`/v1/operators/${admin.operatorId}/temporary-password`, reason, token)).body.code, 'forbidden');
    }
    assert.equal((await p.http.get('/v1/operators')).status, 401);
  });
});

describe('identity: operator management needs a recent sign-in', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule], config: { stepUpMaxAgeS: 1 } });
  });
  after(() => p?.stop());

  it('when the admin signed in longer ago than the step-up window, then listing and disabling answer 403 step-up-required', async () => {
    // The window is one second, so on a loaded machine the sign-in can already be too old by the
    // time the operator is created: sign in again until the creation lands inside the window.
    const { admin, operator } = await waitFor(async () => {
      const session = await adminSession(p);
      const created = await p.http.post('/v1/operators', { email: `late-${crypto.randomUUID().slice(0, 8)}@verity.test`, displayName: 'Late', roles: ['support'] }, session.accessToken);
      if (created.status !== 201) assert.equal(created.body.code, 'step-up-required');
      return created.status === 201 ? { admin: session, operator: created.body as { operatorId: string } } : undefined;
    }, { timeoutMs: 15000, intervalMs: 0, what: 'an operator created inside the one-second step-up window' });
    await waitFor(async () => (await p.http.get('/v1/operators', admin.accessToken)).status === 403, { timeoutMs: 8000, intervalMs: 250, what: 'auth_time to leave the step-up window' });
    for (const res of [
      await p.http.get('/v1/operators', admin.accessToken),
      await p.http.get(`/v1/operators/${operator.operatorId}`, admin.accessToken),
      await p.http.post(`/v1/operators/${operator.operatorId}/disable`, { reason: 'late' }, admin.accessToken),
      await p.http.request('DELETE', `/v1/operators/${operator.operatorId}/mfa`, { body: { reason: 'late' }, token: admin.accessToken }),
    ]) {
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'step-up-required');
    }
  });
});

describe('identity: operators managed by an admin of a Cognito pool that enforces MFA', () => {
  let p: TestPlatform;
  let pool: http.Server;
  let issuer: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'pool-1', alg: 'RS256', use: 'sig' };
    pool = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => pool.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(pool.address() as AddressInfo).port}/eu-west-2_Enforced`;
    // Cognito access tokens: no amr, groups as roles, auth_time of the sign-in.
    sign = (claims) =>
      new SignJWT({ token_use: 'access', client_id: 'verity-console', auth_time: Math.floor(Date.now() / 1000), ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'pool-1' }).setIssuer(issuer).setSubject('c0901e00-0000-4000-8000-00000000abcd').setIssuedAt().setExpirationTime('10m').sign(privateKey);
    p = await startTestPlatform({ modules: [identityModule], config: { oidcIssuers: [{ issuer, jwksUri: `${issuer}/.well-known/jwks.json`, rolesClaim: 'cognito:groups', mfa: 'enforced' }] } });
  });
  after(async () => {
    await p?.stop();
    await new Promise((r) => pool?.close(r));
  });

  it('when its admin token (no amr) manages operators, then the MFA guard passes, the actor is the Cognito subject, and step-up still applies', async () => {
    const token = await sign({ 'cognito:groups': ['admin'] });
    const me = await p.http.get('/v1/me', token);
    assert.deepEqual(me.body.amr, ['mfa']);
    assert.equal(me.body.mfaEnabled, undefined, 'no account here: its MFA lives at the provider');
    const created = await p.http.post('/v1/operators', { email: `pool-${crypto.randomUUID().slice(0, 8)}@verity.test`, displayName: 'From Pool', roles: ['support'] }, token);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const disabled = await p.http.post(`/v1/operators/${created.body.operatorId}/disable`, { reason: 'Provisioned by mistake' }, token);
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.createdBy, 'operator:c0901e00-0000-4000-8000-00000000abcd');
    const stale = await sign({ 'cognito:groups': ['admin'], auth_time: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal((await p.http.get('/v1/operators', stale)).body.code, 'step-up-required');
  });
});
