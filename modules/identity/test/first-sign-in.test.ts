// Temporary passwords: an operator's first sign-in (NEW_PASSWORD_REQUIRED), their expiry, and an
// admin issuing a new one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { adminSession, firstSignIn, operatorSession, signInWithTotp, strongPassword, totpNow } from '@verity/identity/testing';

const DAY_MS = 86_400_000;
/** Rows as text (int8 columns come back as bigint), to look for a secret anywhere in them. */
const dump = (rows: unknown) => JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('identity: temporary passwords and NEW_PASSWORD_REQUIRED', () => {
  let p: TestPlatform;
  let admin: Awaited<ReturnType<typeof adminSession>>;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
    admin = await adminSession(p);
  });
  after(() => p?.stop());

  const createOperator = async (roles = ['support']) => {
    const email = `new-${crypto.randomUUID().slice(0, 8)}@verity.test`;
    const res = await p.http.post('/v1/operators', { email, displayName: 'Nora Newcomer', roles }, admin.accessToken);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { email, operatorId: res.body.operatorId as string, temporaryPassword: res.body.temporaryPassword as string, reply: res };
  };

  it('when an operator is created, then the temporary password is valid 7 days, is never cached, and the audit says so without the secret', async () => {
    const startedMs = Date.now();
    const { operatorId, temporaryPassword, reply } = await createOperator();
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    const expiresInMs = Date.parse(reply.body.temporaryPasswordExpiresAt) - startedMs;
    assert.ok(Math.abs(expiresInMs - 7 * DAY_MS) < 60_000, `expires in ${expiresInMs} ms`);
    const audit = await p.db.query<{ data: unknown }>("select data from kernel.audit_log where action = 'identity.operator-created' and subject = $1", [`operator:${operatorId}`]);
    assert.deepEqual(audit[0]?.data, { roles: ['support'], mfaEnrolled: false, temporaryPassword: true });
    assert.ok(!dump(await p.db.query('select * from kernel.audit_log')).includes(temporaryPassword));
  });

  it('when the operator signs in with it, then NEW_PASSWORD_REQUIRED refuses the temporary password itself and weak ones, and a good one leads to MFA_SETUP_REQUIRED', async () => {
    const { email, operatorId, temporaryPassword } = await createOperator();
    const login = await p.http.post('/v1/auth/login', { email, password: temporaryPassword });
    assert.equal(login.status, 200);
    assert.equal(login.body.challengeName, 'NEW_PASSWORD_REQUIRED');
    assert.equal(login.body.accessToken, undefined);
    const answer = (newPassword: string) => p.http.post('/v1/auth/challenge', { challengeName: 'NEW_PASSWORD_REQUIRED', session: login.body.session, newPassword });

    const same = await answer(temporaryPassword);
    assert.equal(same.status, 400);
    assert.equal(same.body.reason, 'unchanged');
    const weak = await answer('password1234');
    assert.equal(weak.body.code, 'password-rejected');
    assert.equal(weak.body.reason, 'too-guessable');
    assert.equal(weak.body.errors[0].pointer, '/body/newPassword');
    const personal = await answer('NoraNewcomer2024');
    assert.equal(personal.body.reason, 'personal-info', 'the display name counts as personal');
    const wrongShape = await p.http.post('/v1/auth/challenge', { challengeName: 'NEW_PASSWORD_REQUIRED', session: login.body.session, code: '123456' });
    assert.equal(wrongShape.status, 400, 'NEW_PASSWORD_REQUIRED takes a newPassword, not a code');
    const asMfa = await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_REQUIRED', session: login.body.session, code: '123456' });
    assert.equal(asMfa.body.code, 'invalid-session', 'a session answers only its own challenge');

    const newPassword = strongPassword();
    const changed = await answer(newPassword);
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.challengeName, 'MFA_SETUP_REQUIRED');
    assert.notEqual(changed.body.session, login.body.session, 'each step has its own session');
    assert.equal((await answer(strongPassword())).body.code, 'invalid-session', 'the NEW_PASSWORD_REQUIRED session is spent');

    assert.equal((await p.http.post('/v1/auth/login', { email, password: temporaryPassword })).status, 401, 'the temporary password is gone');
    const again = await p.http.post('/v1/auth/login', { email, password: newPassword });
    assert.equal(again.body.challengeName, 'MFA_SETUP_REQUIRED', 'the new password is permanent: no second NEW_PASSWORD_REQUIRED');
    const audit = await p.db.query<{ data: unknown }>("select data from kernel.audit_log where action = 'identity.password-changed' and subject = $1", [`operator:${operatorId}`]);
    assert.deepEqual(audit.map((a) => a.data), [{ via: 'new-password-required' }]);
  });

  it('when the temporary password is older than 7 days, then the right password gets 401 temporary-password-expired and a wrong one the usual answer', async () => {
    const { email, operatorId, temporaryPassword } = await createOperator();
    await p.db.query("update identity.accounts set password_expires_at = now() - interval '1 second' where id = $1", [operatorId]);
    const expired = await p.http.post('/v1/auth/login', { email, password: temporaryPassword });
    assert.equal(expired.status, 401);
    assert.equal(expired.headers.get('content-type'), 'application/problem+json');
    assert.equal(expired.body.code, 'temporary-password-expired');
    assert.match(expired.body.detail, /administrator/);
    const wrong = await p.http.post('/v1/auth/login', { email, password: 'not-the-temporary-one' });
    assert.equal(wrong.body.code, 'invalid-credentials', 'a guesser does not learn that the account waits for its first sign-in');
    const refused = await p.db.query<{ reason: string }>("select reason from kernel.audit_log where action = 'identity.sign-in-refused' and subject = $1", [`operator:${operatorId}`]);
    assert.deepEqual(refused.map((r) => r.reason), ['temporary password expired']);
  });

  it('when an admin reissues a temporary password, then the operator\'s sessions end and the next sign-in is MFA_REQUIRED, then NEW_PASSWORD_REQUIRED', async () => {
    const operator = await operatorSession(p, ['finance']);
    const reissue = (operatorId: string, body: unknown = { reason: 'Forgot password; identity checked on a video call' }) =>
      p.http.post(`/v1/operators/${operatorId}/temporary-password`, body, admin.accessToken);
    const res = await reissue(operator.operatorId);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.body.operatorId, operator.operatorId);
    assert.ok(res.body.temporaryPassword.length >= 20);

    assert.equal((await p.http.post('/v1/auth/refresh', { refreshToken: operator.refreshToken })).status, 401, 'sessions ended');
    assert.equal((await p.http.post('/v1/auth/login', { email: operator.email, password: operator.password })).status, 401, 'the old password is gone');
    const login = await p.http.post('/v1/auth/login', { email: operator.email, password: res.body.temporaryPassword });
    assert.equal(login.body.challengeName, 'MFA_REQUIRED', 'the temporary password alone cannot even choose the next password');
    const mfa = await p.http.post('/v1/auth/challenge', { challengeName: 'MFA_REQUIRED', session: login.body.session, code: totpNow(operator.totpSecret, 1) });
    assert.equal(mfa.status, 200, JSON.stringify(mfa.body));
    assert.equal(mfa.body.challengeName, 'NEW_PASSWORD_REQUIRED');
    const done = await p.http.post('/v1/auth/challenge', { challengeName: 'NEW_PASSWORD_REQUIRED', session: mfa.body.session, newPassword: strongPassword() });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(decodeJwt(done.body.accessToken).amr, ['pwd', 'otp', 'mfa'], 'the code given earlier in this sign-in counts');

    const audit = await p.db.query<{ actor: string; reason: string; data: { sessionsEnded: number } }>(
      "select actor, reason, data from kernel.audit_log where action = 'identity.operator-password-reissued' and subject = $1",
      [`operator:${operator.operatorId}`],
    );
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor, `operator:${admin.operatorId}`);
    assert.equal(audit[0]!.reason, 'Forgot password; identity checked on a video call');
    assert.equal(audit[0]!.data.sessionsEnded, 1);
    assert.ok(!dump(await p.db.query('select * from kernel.audit_log')).includes(res.body.temporaryPassword));

    assert.equal((await reissue(admin.operatorId)).body.code, 'own-account');
    assert.equal((await reissue(crypto.randomUUID())).status, 404);
    const missingReason = await reissue(operator.operatorId, {});
    assert.equal(missingReason.status, 400);
    assert.ok(missingReason.body.errors.some((e: { pointer: string }) => e.pointer === '/body/reason'));
  });

  it('when createOperator carries an Idempotency-Key, then its answer is not stored: the temporary password is nowhere at rest and a retry is a 409', async () => {
    const email = `retry-${crypto.randomUUID().slice(0, 8)}@verity.test`;
    const headers = { 'idempotency-key': `create-${crypto.randomUUID()}` };
    const body = { email, displayName: 'Rita Retry', roles: ['support'] };
    const first = await p.http.post('/v1/operators', body, admin.accessToken, headers);
    assert.equal(first.status, 201);
    const retry = await p.http.post('/v1/operators', body, admin.accessToken, headers);
    assert.equal(retry.status, 409, 'a duplicate email, never a replay of the secret');
    assert.equal(retry.body.code, 'email-unavailable');
    assert.equal(retry.headers.get('idempotent-replayed'), null);
    const stored = dump(await p.db.query('select * from kernel.idempotency_keys'));
    assert.ok(!stored.includes(first.body.temporaryPassword));
    const accounts = dump(await p.db.query('select * from identity.accounts'));
    assert.ok(!accounts.includes(first.body.temporaryPassword), 'only its argon2id hash is kept');
    // The way out of a lost reply: the operator exists (409), so an admin issues a new password.
    const operatorId = first.body.operatorId;
    const reissued = await p.http.post(`/v1/operators/${operatorId}/temporary-password`, { reason: 'Reply of createOperator lost' }, admin.accessToken);
    const signedIn = await firstSignIn(p.http, email, reissued.body.temporaryPassword);
    assert.equal(decodeJwt(signedIn.accessToken).sub, operatorId);
  });

  it('when a bootstrap admin (as the demo seed makes it) signs in, then its permanent password leads straight to MFA_REQUIRED, no NEW_PASSWORD_REQUIRED', async () => {
    const fresh = await signInWithTotp(p.http, admin.email, admin.password, admin.totpSecret, 1);
    assert.deepEqual(decodeJwt(fresh.accessToken).roles, ['admin']);
  });
});
