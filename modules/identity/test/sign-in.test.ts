import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { createLogger } from '@verity/kernel';
import { loginPlayer, playerToken, registerPlayer, strongPassword, totpNow } from '@verity/identity/testing';
import { purgeExpiredJob } from '../src/handlers.ts';
import { createRepository } from '../src/repository.ts';

/** Problem bodies minus what differs per request. */
const sameProblem = (body: Record<string, unknown>) => ({ ...body, instance: undefined });

describe('identity: sign-in, sessions and tokens', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
  });
  after(() => p?.stop());

  it('when a player signs in with the right password, then it gets a 15-minute EdDSA access token and a refresh token', async () => {
    const player = await registerPlayer(p.http);
    const tokens = await loginPlayer(p.http, player.email.toUpperCase(), player.password);
    assert.equal(tokens.tokenType, 'Bearer');
    assert.equal(tokens.expiresIn, 900);
    assert.match(tokens.refreshToken, /^[A-Za-z0-9_-]{43}$/);
    const claims = decodeJwt(tokens.accessToken);
    assert.equal(claims.sub, player.playerId);
    assert.equal(claims.token_use, 'access');
    assert.deepEqual(claims.roles, ['player']);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.exp! - claims.iat!, 900);
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal(decodeProtectedHeader(tokens.accessToken).alg, 'EdDSA');
    const me = await p.http.get('/v1/me', tokens.accessToken);
    assert.equal(me.status, 200);
    assert.equal(me.body.subject, player.playerId);
    assert.equal(me.body.kind, 'player');
  });

  it('when the password is wrong or the email unknown, then both get the same 401 and both are audited without the email', async () => {
    const player = await registerPlayer(p.http);
    const wrong = await p.http.post('/v1/auth/login', { email: player.email, password: 'not-the-password-at-all' });
    const unknown = await p.http.post('/v1/auth/login', { email: `nobody-${Date.now()}@example.test`, password: 'not-the-password-at-all' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(sameProblem(wrong.body), sameProblem(unknown.body));
    assert.equal(wrong.body.code, 'invalid-credentials');
    const failures = await p.db.query<{ actor: string; subject: string | null; data: unknown }>(
      "select actor, subject, data from kernel.audit_log where action = 'identity.sign-in-failed' order by sequence",
    );
    assert.ok(failures.some((f) => f.subject === `player:${player.playerId}`));
    assert.ok(failures.length >= 2);
    assert.ok(!JSON.stringify(failures).includes(player.email), 'no email in clear');
  });

  it('when sign-ins keep failing, then the account is throttled with growing delays, whether or not it exists', async () => {
    const player = await registerPlayer(p.http);
    for (const email of [player.email, `ghost-${Date.now()}@example.test`]) {
      const attempt = () => p.http.post('/v1/auth/login', { email, password: 'wrong-password-here' });
      for (let i = 0; i < 4; i++) assert.equal((await attempt()).status, 401, `attempt ${i + 1} is a plain failure`);
      const first = await attempt();
      assert.equal(first.status, 429);
      assert.equal(first.body.code, 'sign-in-throttled');
      assert.equal(first.headers.get('retry-after'), '1');
      await waitFor(async () => (await attempt()).status === 401, { timeoutMs: 5000, what: 'the first lock to end' });
      const second = await attempt();
      assert.equal(second.status, 429);
      assert.equal(second.body.retryAfterSeconds, 2, 'the next lock is twice as long');
    }
    // While locked even the right password is refused; once the lock ends it works and clears the count.
    assert.equal((await p.http.post('/v1/auth/login', { email: player.email, password: player.password })).status, 429);
    await waitFor(async () => (await p.http.post('/v1/auth/login', { email: player.email, password: player.password })).status === 200, { timeoutMs: 8000, what: 'sign-in after the lock' });
    assert.equal((await p.http.post('/v1/auth/login', { email: player.email, password: 'wrong-password-here' })).status, 401, 'count was reset');
    const throttled = await p.db.query("select 1 from kernel.audit_log where action = 'identity.sign-in-throttled'");
    assert.ok(throttled.length > 0);
  });

  it('when a player enrols TOTP, then sign-in answers MFA_REQUIRED, a code completes it, and a replayed code is refused', async () => {
    const player = await playerToken(p.http);
    const enrol = await p.http.post('/v1/me/mfa', {}, player.accessToken);
    assert.equal(enrol.status, 200);
    assert.match(enrol.body.otpauthUri, /^otpauth:\/\/totp\/Verity:.+secret=/);
    const enrolmentCode = totpNow(enrol.body.secret);
    const verified = await p.http.post('/v1/me/mfa/verify', { code: enrolmentCode }, player.accessToken);
    assert.deepEqual(verified.body, { enabled: true });
    assert.equal((await p.http.post('/v1/me/mfa', {}, player.accessToken)).body.code, 'mfa-already-enabled', 'a token alone cannot replace the factor');

    const login = await p.http.post('/v1/auth/login', { email: player.email, password: player.password });
    assert.equal(login.body.challengeName, 'MFA_REQUIRED');
    assert.equal(login.body.accessToken, undefined);
    const replay = await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_REQUIRED', session: login.body.session, code: enrolmentCode });
    assert.equal(replay.status, 401, 'the code used for enrolment cannot be used again');
    assert.equal(replay.body.code, 'invalid-mfa-code');
    const done = await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_REQUIRED', session: login.body.session, code: totpNow(enrol.body.secret, 1) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(decodeJwt(done.body.accessToken).amr, ['pwd', 'otp', 'mfa']);
    const again = await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_REQUIRED', session: login.body.session, code: totpNow(enrol.body.secret, 1) });
    assert.equal(again.body.code, 'invalid-session', 'a session answers one challenge');
    const audited = await p.db.query("select action from kernel.audit_log where subject = $1 and action like 'identity.mfa-%'", [`player:${player.playerId}`]);
    assert.deepEqual(audited.map((a) => a.action).sort(), ['identity.mfa-enabled', 'identity.mfa-enrolment-started', 'identity.mfa-failed']);
  });

  it('when a refresh token is used, then it rotates; when a used one is replayed, then the whole family is revoked', async () => {
    const player = await playerToken(p.http);
    const first = await p.http.post('/v1/auth/refresh', { refreshToken: player.refreshToken });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refreshToken, player.refreshToken);
    assert.equal(decodeJwt(first.body.accessToken).sub, player.playerId);
    const reuse = await p.http.post('/v1/auth/refresh', { refreshToken: player.refreshToken });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.code, 'invalid-refresh-token');
    const newest = await p.http.post('/v1/auth/refresh', { refreshToken: first.body.refreshToken });
    assert.equal(newest.status, 401, 'the legitimate newest token died with its family');
    const audit = await p.db.query("select actor, data from kernel.audit_log where action = 'identity.refresh-token-reused' and subject = $1", [`player:${player.playerId}`]);
    assert.equal(audit.length, 1);
    const other = await loginPlayer(p.http, player.email, player.password);
    assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken: other.refreshToken })).status, 200, 'other sign-ins are not affected');
  });

  it('when a player logs out, then the refresh token and the access token of that session stop working, here and in every other process', async () => {
    const player = await playerToken(p.http);
    const other = await loginPlayer(p.http, player.email, player.password);
    // A second platform process on the same database (the payments process of a split deployment).
    const elsewhere = await startTestPlatform({ modules: [identityModule], config: { databaseUrl: p.config.databaseUrl } });
    try {
      assert.equal((await elsewhere.http.get('/v1/me', player.accessToken)).status, 200);
      const out = await p.http.post('/v1/auth/logout', { refreshToken: player.refreshToken });
      assert.equal(out.status, 204);
      assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken: player.refreshToken })).status, 401);
      const refused = await p.http.get('/v1/me', player.accessToken);
      assert.equal(refused.status, 401, 'the access token died with its session, not 15 minutes later');
      await waitFor(async () => (await elsewhere.http.get('/v1/me', player.accessToken)).status === 401, { what: 'the other process refusing the ended session' });
      assert.equal((await p.http.get('/v1/me', other.accessToken)).status, 200, 'the other sign-in of the same player goes on');
      assert.equal((await elsewhere.http.get('/v1/me', other.accessToken)).status, 200);
    } finally {
      await elsewhere.stop();
    }
    assert.equal((await p.http.post('/v1/auth/logout', { refreshToken: player.refreshToken })).status, 204, 'logout says nothing about token validity');
  });

  it('when a password reset is requested, then a message with a link is written, and the link sets a new password and ends every session', async () => {
    const player = await playerToken(p.http);
    const mailDir = path.join(p.config.dataDir, 'mail');
    const ghost = await p.http.post('/v1/auth/password-reset', { email: `ghost-${Date.now()}@example.test` });
    const res = await p.http.post('/v1/auth/password-reset', { email: player.email });
    assert.equal(res.status, 202);
    assert.deepEqual(ghost.body, res.body, 'the same answer for an unknown email');
    const file = await waitFor(async () => (await readdir(mailDir).catch(() => [])).find((f) => f.endsWith('.json')), { what: 'the reset message' });
    const message = JSON.parse(await readFile(path.join(mailDir, file), 'utf8'));
    assert.equal(message.to, player.email);
    assert.equal(message.template, 'password-reset');
    assert.ok(message.text.includes(message.data.resetUrl));
    assert.equal((await readdir(mailDir)).length, 1, 'nothing was sent for the unknown email');

    assert.equal((await p.http.post('/v1/auth/password-reset/confirm', { token: message.data.token, newPassword: 'password1234' })).body.code, 'password-rejected');
    const newPassword = strongPassword();
    assert.equal((await p.http.post('/v1/auth/password-reset/confirm', { token: message.data.token, newPassword })).status, 204);
    assert.equal((await p.http.post('/v1/auth/password-reset/confirm', { token: message.data.token, newPassword: strongPassword() })).body.code, 'invalid-reset-token', 'single use');
    assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken: player.refreshToken })).status, 401, 'old sessions ended');
    assert.equal((await p.http.post('/v1/auth/login', { email: player.email, password: player.password })).status, 401);
    await loginPlayer(p.http, player.email, newPassword);
    const audit = await p.db.query("select action from kernel.audit_log where subject = $1 and action like 'identity.password-reset-%'", [`player:${player.playerId}`]);
    assert.deepEqual(audit.map((a) => a.action).sort(), ['identity.password-reset-completed', 'identity.password-reset-requested']);
  });

  it('when an external library verifies our token with the published JWKS, then the signature, issuer and type check out', async () => {
    const player = await playerToken(p.http);
    const discovery = await p.http.get('/.well-known/openid-configuration');
    assert.equal(discovery.status, 200);
    // The test platform listens on a random port, so fetch the keys from where it really is.
    const jwks = createRemoteJWKSet(new URL(`${p.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(player.accessToken, jwks, { issuer: discovery.body.issuer, audience: discovery.body.issuer, typ: 'at+jwt', algorithms: ['EdDSA'] });
    assert.equal(payload.sub, player.playerId);
    const keys = (await p.http.get('/.well-known/jwks.json')).body.keys;
    assert.ok(keys.some((k: { kid: string }) => k.kid === protectedHeader.kid));
    assert.ok(keys.every((k: Record<string, unknown>) => k.d === undefined), 'no private parts published');
  });

  it('when sign-in bodies are malformed, then 400 problem+json names the field', async () => {
    const extra = await p.http.post('/v1/auth/login', { email: 'a@example.test', password: 'x', admin: true });
    assert.equal(extra.status, 400);
    assert.ok(extra.body.errors.some((e: { pointer: string }) => e.pointer === '/body/admin'));
    assert.equal((await p.http.post('/v1/auth/login', { email: 'not-an-email', password: 'x' })).status, 400);
    assert.equal((await p.http.post('/v1/auth/login', { email: 'a@example.test', password: 'x'.repeat(129) })).status, 400);
    assert.equal((await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_REQUIRED', session: 'short', code: '123456' })).status, 400);
  });

  it('when sign-in records are long expired, then the daily housekeeping job deletes them', async () => {
    const player = await playerToken(p.http);
    const job = purgeExpiredJob({ repo: createRepository(p.db), clock: { now: async () => new Date(Date.now() + 100 * 86400_000) }, log: createLogger('silent') });
    assert.equal(job.cron, '17 3 * * *');
    await job.handle({}, { id: 'test-run', attempt: 1, signal: new AbortController().signal });
    const left = await p.db.query('select 1 from identity.token_families f join identity.refresh_tokens t on t.family_id = f.id where f.account_id = $1', [player.playerId]);
    assert.equal(left.length, 0);
    assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken: player.refreshToken })).status, 401);
  });
});
