// Pure rules of identity, with plain values (no database).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FREE_FAILURES, LOCK_SECONDS_MAX, lockSecondsAfter, secondsLocked } from '../src/domain/lockout.ts';
import { decodeCursor, encodeCursor, normalizeRoles, roleChangeRefusal } from '../src/domain/operators.ts';
import { nextChallenge, temporaryPasswordExpired, type SignInState } from '../src/domain/sign-in.ts';
import { offlineRefusal, personalInputs, rangeContains, rangeQuery } from '../src/domain/password-policy.ts';
import { dateOfBirthProblem, normalizeEmail } from '../src/domain/registration.ts';
import { decideRefresh, tokenHash, newOpaqueToken, OPAQUE_TOKEN } from '../src/domain/tokens.ts';
import { acceptTotp, newTotpSecret, totpCode, TOTP_PERIOD_S } from '../src/domain/totp.ts';

describe('identity domain rules', () => {
  it('when failures accumulate, then the first are free and each later one locks twice as long, up to the cap', () => {
    for (let n = 0; n <= FREE_FAILURES; n++) assert.equal(lockSecondsAfter(n), 0);
    const delays = [1, 2, 3, 4, 5].map((k) => lockSecondsAfter(FREE_FAILURES + k));
    assert.deepEqual(delays, [1, 2, 4, 8, 16]);
    assert.equal(lockSecondsAfter(100), LOCK_SECONDS_MAX);
    const now = new Date('2030-01-01T00:00:00Z');
    assert.equal(secondsLocked(new Date(now.getTime() + 1500), now), 2);
    assert.equal(secondsLocked(new Date(now.getTime() - 1), now), 0);
    assert.equal(secondsLocked(null, now), 0);
  });

  it('when a TOTP code is checked, then codes one step either side are accepted once and replays are refused', () => {
    const secret = newTotpSecret();
    const now = new Date('2030-01-01T00:00:10Z');
    const step = BigInt(Math.floor(now.getTime() / 1000 / TOTP_PERIOD_S));
    assert.equal(acceptTotp(secret, totpCode(secret, now), now, null), step);
    assert.equal(acceptTotp(secret, totpCode(secret, now), now, step), undefined, 'same step again is a replay');
    const next = new Date(now.getTime() + TOTP_PERIOD_S * 1000);
    assert.equal(acceptTotp(secret, totpCode(secret, next), now, step), step + 1n, 'the next step is still fresh');
    const old = new Date(now.getTime() - 3 * TOTP_PERIOD_S * 1000);
    assert.equal(acceptTotp(secret, totpCode(secret, old), now, null), undefined, 'outside the window');
    assert.equal(acceptTotp(secret, '12345', now, null), undefined);
  });

  it('when a date of birth is checked, then only real past dates after 1900 pass, minors included', () => {
    const today = new Date('2030-06-15T12:00:00Z');
    assert.equal(dateOfBirthProblem('1990-04-12', today), undefined);
    assert.equal(dateOfBirthProblem('2020-06-14', today), undefined, 'a child is KYC\'s refusal, not registration\'s');
    assert.match(dateOfBirthProblem('1990-02-30', today)!, /calendar/);
    assert.match(dateOfBirthProblem('2030-06-15', today)!, /past/);
    assert.match(dateOfBirthProblem('1899-12-31', today)!, /1900/);
    assert.match(dateOfBirthProblem('19900412', today)!, /YYYY-MM-DD/);
    assert.equal(normalizeEmail('  Ada.Lovelace@Example.TEST '), 'ada.lovelace@example.test');
  });

  it('when passwords are judged offline, then short, common and self-referential ones are refused', async () => {
    assert.equal(await offlineRefusal('short', []), 'too-short');
    assert.equal(await offlineRefusal('password1234', []), 'too-guessable');
    assert.equal(await offlineRefusal('qwertyuiop123', []), 'too-guessable');
    assert.equal(await offlineRefusal('AdaLovelace1990', personalInputs(['ada', 'Ada Lovelace'])), 'personal-info');
    assert.equal(await offlineRefusal('violet-tractor-umbrella-93', []), undefined);
  });

  it('when a k-anonymity range answer is read, then only a listed suffix with a positive count is a breach', () => {
    const { prefix, suffix } = rangeQuery('password');
    assert.equal(prefix, '5BAA6');
    assert.equal(suffix, '1E4C9B93F3F0682250B6CF8331B7EE68FD8');
    assert.equal(rangeContains(`0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n${suffix}:9545824\r\n`, suffix), true);
    assert.equal(rangeContains(`${suffix}:0\r\n`, suffix), false, 'padding entries have count 0');
    assert.equal(rangeContains('', suffix), false);
  });

  it('when a refresh token is presented, then a used one is reuse and a revoked or expired family is over', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const later = new Date('2030-02-01T00:00:00Z');
    const base = { usedAt: null, familyRevokedAt: null, familyExpiresAt: later, accountActive: true };
    assert.equal(decideRefresh(base, now), 'rotate');
    assert.equal(decideRefresh({ ...base, usedAt: now }, now), 'reuse-detected');
    assert.equal(decideRefresh({ ...base, familyRevokedAt: now, usedAt: now }, now), 'family-ended');
    assert.equal(decideRefresh({ ...base, familyExpiresAt: now }, now), 'family-ended');
    assert.equal(decideRefresh({ ...base, accountActive: false }, now), 'account-inactive');
    const token = newOpaqueToken();
    assert.match(token, OPAQUE_TOKEN);
    assert.match(tokenHash(token), /^[0-9a-f]{64}$/);
  });

  it('when operator roles are given, then they are de-duplicated, checked against the catalogue, and an admin keeps their own admin role', () => {
    assert.deepEqual(normalizeRoles(['support', 'finance', 'support']), { roles: ['finance', 'support'] });
    assert.deepEqual(normalizeRoles(['finance', 'root']), { unknown: 'root' });
    assert.deepEqual(normalizeRoles(['player']), { unknown: 'player' }, 'player is not an operator role');
    assert.ok(roleChangeRefusal('a', 'a', ['finance']));
    assert.equal(roleChangeRefusal('a', 'a', ['admin', 'finance']), undefined);
    assert.equal(roleChangeRefusal('a', 'b', ['finance']), undefined);
  });

  it('when a sign-in moves on, then a known factor comes before a new password, a new password before MFA setup, and players without MFA get tokens', () => {
    const op = (o: Partial<SignInState>): SignInState => ({ kind: 'operator', mfaActive: false, temporaryPassword: false, mfaVerified: false, ...o });
    assert.equal(nextChallenge(op({ temporaryPassword: true })), 'NEW_PASSWORD_REQUIRED', 'a new operator');
    assert.equal(nextChallenge(op({})), 'MFA_SETUP_REQUIRED', 'after the new password, or after an MFA reset');
    assert.equal(nextChallenge(op({ mfaActive: true, temporaryPassword: true })), 'MFA_REQUIRED', 'a reissued password waits for the factor');
    assert.equal(nextChallenge(op({ mfaActive: true, temporaryPassword: true, mfaVerified: true })), 'NEW_PASSWORD_REQUIRED');
    assert.equal(nextChallenge(op({ mfaActive: true, mfaVerified: true })), undefined);
    assert.equal(nextChallenge({ kind: 'player', mfaActive: false, temporaryPassword: false, mfaVerified: false }), undefined);
    assert.equal(nextChallenge({ kind: 'player', mfaActive: true, temporaryPassword: false, mfaVerified: false }), 'MFA_REQUIRED');
    const now = new Date('2030-01-01T00:00:00Z');
    assert.equal(temporaryPasswordExpired(null, now), false);
    assert.equal(temporaryPasswordExpired(now, now), true);
    assert.equal(temporaryPasswordExpired(new Date(now.getTime() + 1), now), false);
  });

  it('when a list cursor is made and read back, then it round-trips an id and anything else is refused', () => {
    const id = '0192f0c4-7a1b-7c3d-8e4f-5a6b7c8d9e0f';
    const cursor = encodeCursor(id);
    assert.match(cursor, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(decodeCursor(cursor), id);
    for (const bad of ['', 'abc', `${cursor}A`, `${cursor.slice(0, 21)}_`, 'AAAAAAAAAAAAAAAAAAAAA=']) assert.equal(decodeCursor(bad), undefined, bad);
  });
});
