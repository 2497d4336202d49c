import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule, OPERATOR_CREATED_V1 } from '@verity/identity';
import { adminSession, operatorSession, playerToken, signInWithTotp, strongPassword, totpNow } from '@verity/identity/testing';

/** A Cognito user pool as seen by a verifier: a JWKS URL and RS256 access tokens with `cognito:groups`. */
async function fakeCognito(): Promise<{ issuer: string; jwksUri: string; token(groups: string[], extra?: Record<string, unknown>): Promise<string>; close(): Promise<void> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'cognito-1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((req, res) => {
    res.writeHead(req.url?.endsWith('/.well-known/jwks.json') ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eu-west-2_VerityTest`;
  const sign = (claims: Record<string, unknown>, key: CryptoKey) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'cognito-1' }).setIssuer(issuer).setSubject('6f1c2d3e-0000-4000-8000-00000000c0de').setIssuedAt().setExpirationTime('10m').sign(key);
  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    token: (groups, extra = {}) => sign({ token_use: 'access', client_id: 'verity-console', 'cognito:groups': groups, auth_time: Math.floor(Date.now() / 1000), ...extra }, privateKey),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('identity: operators, MFA and step-up', () => {
  let p: TestPlatform;
  let cognito: Awaited<ReturnType<typeof fakeCognito>>;
  before(async () => {
    cognito = await fakeCognito();
    p = await startTestPlatform({ modules: [identityModule], config: { oidcIssuers: [{ issuer: cognito.issuer, jwksUri: cognito.jwksUri, rolesClaim: 'cognito:groups' }] } });
  });
  after(async () => {
    await p?.stop();
    await cognito?.close();
  });

  it('when an admin creates an operator, then the operator must replace the temporary password and enrol TOTP at first sign-in and then holds only its roles', async () => {
    const admin = await adminSession(p);
    assert.deepEqual(decodeJwt(admin.accessToken).amr, ['pwd', 'otp', 'mfa']);
    const email = `analyst-${Date.now()}@verity.test`;
    const created = await p.http.post('/v1/operators', { email, displayName: 'Alan Analyst', roles: ['compliance-analyst'] }, admin.accessToken);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok(created.body.temporaryPassword.length >= 20);

    const first = await p.http.post('/v1/auth/login', { email, password: created.body.temporaryPassword });
    assert.equal(first.body.challengeName, 'NEW_PASSWORD_REQUIRED', 'a temporary password only buys choosing a new one');
    assert.equal(first.body.accessToken, undefined);
    const login = await p.http.post('/v1/auth/challenge', { challengeName: 'NEW_PASSWORD_REQUIRED', session: first.body.session, newPassword: strongPassword() });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.challengeName, 'MFA_SETUP_REQUIRED', 'no tokens for an operator without MFA');
    const early = await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_SETUP_REQUIRED', session: login.body.session, code: '123456' });
    assert.equal(early.body.code, 'mfa-enrolment-not-started');
    const enrol = await p.http.post('/v1/me/mfa', { session: login.body.session });
    assert.equal(enrol.status, 200);
    const wrong = await p.http.post('/v1/me/mfa/verify', { session: login.body.session, code: totpNow(enrol.body.secret, -5) });
    assert.equal(wrong.status, 401);
    const verified = await p.http.post('/v1/me/mfa/verify', { session: login.body.session, code: totpNow(enrol.body.secret) });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(verified.body.enabled, true);
    const me = await p.http.get('/v1/me', verified.body.accessToken);
    assert.equal(me.body.kind, 'operator');
    assert.deepEqual(me.body.roles, ['compliance-analyst']);
    assert.ok(me.body.permissions.includes('kyc:review'));
    assert.ok(!me.body.permissions.includes('operators:manage'));
    assert.equal((await p.http.post('/v1/operators', { email: 'x@verity.test', displayName: 'X', roles: ['admin'] }, verified.body.accessToken)).body.code, 'forbidden');

    const event = await p.db.query<{ data: Record<string, unknown> }>('select data from identity.outbox where type = $1 and subject = $2', [OPERATOR_CREATED_V1, created.body.operatorId]);
    assert.deepEqual(event[0]?.data.roles, ['compliance-analyst']);
    const audit = await p.db.query<{ actor: string; action: string }>("select actor, action from kernel.audit_log where subject = $1 order by sequence", [`operator:${created.body.operatorId}`]);
    assert.deepEqual(audit.map((a) => a.action).slice(0, 1), ['identity.operator-created']);
    assert.equal(audit[0]!.actor, `operator:${admin.operatorId}`);
    assert.ok(audit.some((a) => a.action === 'identity.mfa-enabled'));
    assert.ok(audit.some((a) => a.action === 'identity.signed-in'));
  });

  it('when a player or an operator without MFA calls operator routes, then 403 forbidden and 403 mfa-required', async () => {
    const player = await playerToken(p.http);
    const asPlayer = await p.http.post('/v1/operators', { email: 'y@verity.test', displayName: 'Y', roles: ['support'] }, player.accessToken);
    assert.equal(asPlayer.status, 403);
    assert.equal(asPlayer.body.code, 'forbidden');
    const noMfaAdmin = await cognito.token(['admin']);
    const res = await p.http.post('/v1/operators', { email: 'y@verity.test', displayName: 'Y', roles: ['support'] }, noMfaAdmin);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'mfa-required');
  });

  it('when a token comes from a configured external OIDC issuer (Cognito), then it is accepted with roles from cognito:groups', async () => {
    const token = await cognito.token(['finance', 'Everyone'], { amr: ['pwd', 'otp'] });
    const me = await p.http.get('/v1/me', token);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.issuer, cognito.issuer);
    assert.equal(me.body.kind, 'operator');
    assert.deepEqual(me.body.roles, ['finance']);
    assert.ok(me.body.permissions.includes('payouts:approve'));
    assert.equal((await p.http.post('/v1/me/mfa', {}, token)).body.code, 'external-account', 'its MFA is managed at the provider');
  });

  it("when an admin changes an operator's roles, then the next refresh carries them and the change is audited with before and after", async () => {
    const admin = await adminSession(p);
    const operator = await operatorSession(p, ['support']);
    const res = await p.http.request('PUT', `/v1/operators/${operator.operatorId}/roles`, { body: { roles: ['finance', 'support'] }, token: admin.accessToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.roles, ['finance', 'support']);
    const refreshed = await p.http.post('/v1/auth/refresh', { refreshToken: operator.refreshToken });
    assert.deepEqual(decodeJwt(refreshed.body.accessToken).roles, ['finance', 'support']);
    const audit = await p.db.query<{ data: { before: string[]; after: string[] } }>("select data from kernel.audit_log where action = 'identity.operator-roles-changed' and subject = $1", [`operator:${operator.operatorId}`]);
    assert.deepEqual(audit[0]?.data, { before: ['support'], after: ['finance', 'support'] });

    const own = await p.http.request('PUT', `/v1/operators/${admin.operatorId}/roles`, { body: { roles: ['support'] }, token: admin.accessToken });
    assert.equal(own.status, 409);
    assert.equal(own.body.code, 'own-admin-role');
    const unknown = await p.http.request('PUT', `/v1/operators/${crypto.randomUUID()}/roles`, { body: { roles: ['support'] }, token: admin.accessToken });
    assert.equal(unknown.status, 404);
    const badRole = await p.http.request('PUT', `/v1/operators/${operator.operatorId}/roles`, { body: { roles: ['root'] }, token: admin.accessToken });
    assert.equal(badRole.status, 400);
  });

  it('when an operator email is taken, then 409; and an operator signs in later with MFA_REQUIRED', async () => {
    const admin = await adminSession(p);
    const operator = await operatorSession(p, ['draw-manager']);
    const dup = await p.http.post('/v1/operators', { email: operator.email.toUpperCase(), displayName: 'Dup', roles: ['support'] }, admin.accessToken);
    assert.equal(dup.status, 409);
    const again = await signInWithTotp(p.http, operator.email, operator.password, operator.totpSecret, 1);
    assert.deepEqual(decodeJwt(again.accessToken).roles, ['draw-manager']);
  });
});

describe('identity: step-up for privileged actions', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule], config: { stepUpMaxAgeS: 2 } });
  });
  after(() => p?.stop());

  it('when the admin signed in longer ago than the step-up window, then 403 step-up-required; a fresh sign-in passes', async () => {
    const admin = await adminSession(p);
    const body = () => ({ email: `late-${Date.now()}-${Math.random()}@verity.test`, displayName: 'Late', roles: ['support'] });
    const stale = await waitFor(async () => {
      const res = await p.http.post('/v1/operators', body(), admin.accessToken);
      return res.status === 403 ? res : undefined;
    }, { timeoutMs: 8000, intervalMs: 250, what: 'auth_time to fall outside the step-up window' });
    assert.equal(stale.body.code, 'step-up-required');
    const refreshed = await p.http.post('/v1/auth/refresh', { refreshToken: admin.refreshToken });
    assert.equal((await p.http.post('/v1/operators', body(), refreshed.body.accessToken)).body.code, 'step-up-required', 'refreshing does not renew auth_time');
    const fresh = await signInWithTotp(p.http, admin.email, admin.password, admin.totpSecret, 1);
    assert.equal((await p.http.post('/v1/operators', body(), fresh.accessToken)).status, 201);
  });
});

describe('identity: first start of a demo installation', () => {
  it('when SEED_DEMO is on and no operator exists, then admin@verity.local is created and its secrets printed once', async () => {
    const printed: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void printed.push(args.join(' '));
    let p: TestPlatform | undefined;
    try {
      p = await startTestPlatform({ modules: [identityModule], env: { SEED_DEMO: 'true' } });
    } finally {
      console.log = original;
    }
    try {
      const out = printed.join('\n');
      assert.match(out, /admin@verity\.local/);
      assert.match(out, /ONCE/);
      const password = /password\s+(\S+)/.exec(out)![1]!;
      const secret = /TOTP secret\s+([A-Z2-7]+)/.exec(out)![1]!;
      assert.match(out, /otpauth:\/\/totp\//);
      const tokens = await signInWithTotp(p.http, 'admin@verity.local', password, secret);
      assert.deepEqual(decodeJwt(tokens.accessToken).roles, ['admin']);
      const stored = JSON.stringify(await p.db.query('select * from identity.accounts'));
      assert.ok(!stored.includes(password) && !stored.includes('admin@verity.local'), 'nothing of it in clear');
    } finally {
      await p.stop();
    }
  });
});
