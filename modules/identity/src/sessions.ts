/**
 * Sign-in in Cognito's shape: `login` verifies the password and either returns tokens or a challenge
 * that `respondToChallenge` answers: MFA_REQUIRED and MFA_SETUP_REQUIRED with a TOTP code,
 * NEW_PASSWORD_REQUIRED (a temporary password set by an admin) with a new password. Each answer
 * leads to the next challenge (with a new session) or to tokens; see domain/sign-in.ts for the
 * order. Then rotating refresh tokens, and logout.
 */
import { DomainError, requestContext, uuidv7 } from '@verity/kernel';
import { SIGNED_IN_V1, type ChallengeDto, type LoginResult, type SignedInV1Data, type TokenSetDto } from './contracts.ts';
import { currentDevice } from './device.ts';
import { lockSecondsAfter, secondsLocked } from './domain/lockout.ts';
import { personalInputs } from './domain/password-policy.ts';
import { normalizeEmail } from './domain/registration.ts';
import { nextChallenge, temporaryPasswordExpired } from './domain/sign-in.ts';
import { decideRefresh, amrFor, newOpaqueToken, tokenHash } from './domain/tokens.ts';
import { acceptTotp } from './domain/totp.ts';
import { passwordRejected } from './passwords.ts';
import type { Account, ChallengeName, Challenge } from './repository.ts';
import { actorOf, addSeconds, emailHash, IdentityProblems, rolesOf, type Deps } from './shared.ts';

const CHALLENGE_TTL_S = 5 * 60;
/** Wrong codes a challenge session takes before it is burnt (the throttle still counts each one). */
export const CHALLENGE_ATTEMPTS_MAX = 5;
/** Refused new passwords a NEW_PASSWORD_REQUIRED session takes before it is burnt. */
export const NEW_PASSWORD_ATTEMPTS_MAX = 10;

export function createSessions(deps: Deps) {
  const { db, repo, clock, audit, config, passwords, crypto, issuer, events, sessionEnder } = deps;

  /**
   * Counts this attempt against the identifier before the secret is checked, so parallel guesses
   * cannot all slip through one unlocked moment; success clears the count. Throws 429 when locked.
   */
  async function reserveAttempt(throttleKey: string, now: Date): Promise<void> {
    const failures = await db.tx(async () => {
      const n = await repo.countAttemptUnlessLocked(throttleKey, now);
      const lockS = n === undefined ? 0 : lockSecondsAfter(n);
      if (lockS > 0) await repo.lockUntil(throttleKey, addSeconds(now, lockS));
      return n;
    });
    if (failures !== undefined) return;
    const wait = Math.max(1, secondsLocked((await repo.throttle(throttleKey)).lockedUntil, now));
    await audit.record({ actor: 'anonymous', action: 'identity.sign-in-throttled', data: { identifierHash: throttleKey, retryAfterSeconds: wait } });
    throw IdentityProblems.signInThrottled(wait);
  }

  /** A new refresh-token family (one sign-in) and its first tokens. Joins the caller's transaction. */
  async function startSession(account: Account, amr: string[], authTime: Date, now: Date): Promise<TokenSetDto> {
    const familyId = uuidv7();
    const refreshToken = newOpaqueToken();
    await repo.insertFamily({ id: familyId, accountId: account.id, amr, authTime, expiresAt: addSeconds(now, config.refreshTokenTtlS) });
    await repo.insertRefreshToken(tokenHash(refreshToken), familyId);
    const access = await issuer.sign({ sub: account.id, roles: rolesOf(account), amr, authTime, sid: familyId }, now);
    return { accessToken: access.token, refreshToken, tokenType: 'Bearer', expiresIn: access.expiresInS };
  }

  async function signedIn(account: Account, throttleKey: string, amr: string[], now: Date): Promise<TokenSetDto> {
    return db.tx(async () => {
      await repo.clearThrottle(throttleKey);
      const tokens = await startSession(account, amr, now, now);
      await audit.record({ actor: actorOf(account), action: 'identity.signed-in', subject: actorOf(account), data: { amr } });
      if (account.kind === 'player') {
        // For AML (one device or IP behind several accounts): keyed hashes, never the address or id.
        const ip = requestContext.get()?.ip;
        const device = currentDevice();
        const data: SignedInV1Data = { accountId: account.id, ipHash: ip ? crypto.keyedHash('identity.sign-in-ip', ip) : null, deviceHash: device ? crypto.keyedHash('identity.sign-in-device', device) : null };
        await events.publish({ type: SIGNED_IN_V1, subject: account.id, data });
      }
      return tokens;
    });
  }

  async function challenge(account: Account, throttleKey: string, name: ChallengeName, now: Date, mfaVerified: boolean): Promise<ChallengeDto> {
    const session = newOpaqueToken();
    await repo.insertChallenge({
      id: uuidv7(), sessionHash: tokenHash(session), accountId: account.id, throttleKey, name, authTime: now, expiresAt: addSeconds(now, CHALLENGE_TTL_S), mfaVerified,
    });
    return { challengeName: name, session };
  }

  /**
   * The next step of a sign-in whose password is verified: another challenge, or tokens. Until the
   * last step the throttle count stays, so knowing the password does not buy unlimited code guesses.
   */
  async function proceed(account: Account, throttleKey: string, mfaVerified: boolean, now: Date): Promise<LoginResult> {
    const next = nextChallenge({ kind: account.kind, mfaActive: account.mfaActive, temporaryPassword: account.passwordExpiresAt !== null, mfaVerified });
    if (next) return challenge(account, throttleKey, next, now, mfaVerified);
    return signedIn(account, throttleKey, amrFor(mfaVerified), now);
  }

  async function login(input: { email: string; password: string }): Promise<LoginResult> {
    const throttleKey = emailHash(crypto, input.email);
    const now = await clock.now();
    await reserveAttempt(throttleKey, now);
    const account = await repo.accountByEmailHash(throttleKey);
    // Unknown email and wrong password take the same time and give the same answer.
    const ok = account ? await passwords.verify(account.passwordHash, input.password) : (await passwords.verifyNothing(input.password), false);
    if (!account || !ok) {
      await audit.record({ actor: 'anonymous', action: 'identity.sign-in-failed', ...(account ? { subject: actorOf(account) } : {}), data: { identifierHash: throttleKey, stage: 'password' } });
      throw IdentityProblems.invalidCredentials();
    }
    if (account.status !== 'active') {
      await audit.record({ actor: actorOf(account), action: 'identity.sign-in-refused', subject: actorOf(account), reason: `account ${account.status}` });
      throw IdentityProblems.accountInactive();
    }
    // Said only to whoever knows the password, so it tells a guesser nothing.
    if (temporaryPasswordExpired(account.passwordExpiresAt, now)) {
      await audit.record({ actor: actorOf(account), action: 'identity.sign-in-refused', subject: actorOf(account), reason: 'temporary password expired' });
      throw IdentityProblems.temporaryPasswordExpired();
    }
    if (passwords.needsRehash(account.passwordHash)) await repo.rehashPassword(account.id, await passwords.hash(input.password));
    return proceed(account, throttleKey, false, now);
  }

  /** A live challenge for this session, or 401. */
  async function liveChallenge(session: string, name: ChallengeName | undefined, now: Date): Promise<Challenge> {
    const c = await repo.challengeForUpdate(tokenHash(session));
    if (!c || c.completedAt || c.expiresAt.getTime() <= now.getTime() || (name && c.name !== name)) throw IdentityProblems.invalidSession();
    return c;
  }

  /** Counts a wrong code on the challenge (burning it after too many) and audits it. */
  async function wrongCode(c: Challenge): Promise<void> {
    await db.tx(async () => {
      const attempts = await repo.countChallengeAttempt(c.id);
      if (attempts >= CHALLENGE_ATTEMPTS_MAX) await repo.completeChallenge(c.id);
      await audit.record({ actor: 'anonymous', action: 'identity.mfa-failed', subject: `${c.accountKind}:${c.accountId}`, data: { challenge: c.name, attempts } });
    });
  }

  /**
   * Checks a TOTP code for the challenge's account (the active factor, or during setup the pending
   * one, which the first good code activates) and moves the sign-in on. Shared with MFA enrolment.
   */
  async function completeWithCode(session: string, name: 'MFA_REQUIRED' | 'MFA_SETUP_REQUIRED', code: string): Promise<LoginResult> {
    const now = await clock.now();
    const c = await liveChallenge(session, name, now);
    await reserveAttempt(c.throttleKey, now);
    const factor = await repo.factor(c.accountId, c.name === 'MFA_SETUP_REQUIRED' ? 'pending' : 'active');
    if (!factor) throw c.name === 'MFA_SETUP_REQUIRED' ? IdentityProblems.mfaEnrolmentNotStarted() : IdentityProblems.invalidSession();
    const step = acceptTotp(await crypto.decrypt(c.accountId, factor.secretEnc), code, now, factor.lastUsedStep);
    const result = await db.tx(async () => {
      const locked = await liveChallenge(session, name, now); // a concurrent answer may have won
      if (step === undefined || !(await repo.useFactorStep(factor.id, step))) return undefined;
      const account = (await repo.account(locked.accountId))!;
      if (account.status !== 'active') throw IdentityProblems.accountInactive();
      await repo.completeChallenge(locked.id);
      if (locked.name === 'MFA_SETUP_REQUIRED') await audit.record({ actor: actorOf(account), action: 'identity.mfa-enabled', subject: actorOf(account), data: { factor: 'totp' } });
      return proceed(account, locked.throttleKey, true, now);
    });
    if (!result) {
      await wrongCode(c);
      throw IdentityProblems.invalidMfaCode(401);
    }
    return result;
  }

  /** Refuses the temporary password itself and anything the password policy refuses. */
  async function assertNewPassword(account: Account, newPassword: string): Promise<void> {
    if (await passwords.verify(account.passwordHash, newPassword)) throw passwordRejected('unchanged', '/body/newPassword');
    const email = normalizeEmail(await crypto.decrypt(account.id, account.emailEnc));
    const operator = account.kind === 'operator' ? await repo.operator(account.id) : undefined;
    const displayName = operator ? await crypto.decrypt(account.id, operator.displayNameEnc) : undefined;
    await passwords.assertAcceptable(newPassword, personalInputs([email.split('@')[0], displayName]), '/body/newPassword');
  }

  /** NEW_PASSWORD_REQUIRED: the temporary password is replaced by one the account holder chose. */
  async function completeNewPassword(session: string, newPassword: string): Promise<LoginResult> {
    const now = await clock.now();
    const c = await liveChallenge(session, 'NEW_PASSWORD_REQUIRED', now);
    const account = await repo.account(c.accountId);
    if (!account || account.status !== 'active') throw IdentityProblems.accountInactive();
    if (temporaryPasswordExpired(account.passwordExpiresAt, now)) throw IdentityProblems.temporaryPasswordExpired();
    try {
      await assertNewPassword(account, newPassword);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'password-rejected') {
        const attempts = await repo.countChallengeAttempt(c.id);
        if (attempts >= NEW_PASSWORD_ATTEMPTS_MAX) await repo.completeChallenge(c.id);
      }
      throw err;
    }
    const passwordHash = await passwords.hash(newPassword);
    return db.tx(async () => {
      const locked = await liveChallenge(session, 'NEW_PASSWORD_REQUIRED', now);
      await repo.setPassword(account.id, passwordHash);
      await repo.completeChallenge(locked.id);
      await repo.spendResets(account.id);
      await audit.record({ actor: actorOf(account), action: 'identity.password-changed', subject: actorOf(account), data: { via: 'new-password-required' } });
      return proceed({ ...account, passwordExpiresAt: null }, locked.throttleKey, locked.mfaVerified, now);
    });
  }

  async function refresh(refreshToken: string): Promise<TokenSetDto> {
    const now = await clock.now();
    const hash = tokenHash(refreshToken);
    const tokens = await db.tx(async () => {
      const rec = await repo.refreshTokenForUpdate(hash);
      if (!rec) return undefined;
      const account = await repo.account(rec.accountId);
      const decision = decideRefresh({ usedAt: rec.usedAt, familyRevokedAt: rec.familyRevokedAt, familyExpiresAt: rec.familyExpiresAt, accountActive: account?.status === 'active' }, now);
      if (decision === 'reuse-detected') {
        // Two parties hold this family (one of them stole a token): end it for both.
        await sessionEnder.endSession(rec.familyId, 'reuse-detected');
        await audit.record({ actor: 'anonymous', action: 'identity.refresh-token-reused', subject: `${rec.accountKind}:${rec.accountId}`, data: { familyId: rec.familyId } });
        return undefined;
      }
      if (decision === 'account-inactive') await sessionEnder.endSession(rec.familyId, 'account-inactive');
      if (decision !== 'rotate' || !account) return undefined;
      await repo.markRefreshTokenUsed(hash);
      const next = newOpaqueToken();
      await repo.insertRefreshToken(tokenHash(next), rec.familyId);
      // Roles are read now, so a role change applies at the next refresh; auth_time stays the sign-in's.
      const access = await issuer.sign({ sub: account.id, roles: rolesOf(account), amr: rec.amr, authTime: rec.authTime, sid: rec.familyId }, now);
      return { accessToken: access.token, refreshToken: next, tokenType: 'Bearer' as const, expiresIn: access.expiresInS };
    });
    if (!tokens) throw IdentityProblems.invalidRefreshToken();
    return tokens;
  }

  /** Ends the session the token belongs to. Answers the same whether or not the token was valid. */
  async function logout(refreshToken: string): Promise<void> {
    await db.tx(async () => {
      const rec = await repo.refreshTokenForUpdate(tokenHash(refreshToken));
      if (!rec || rec.familyRevokedAt) return;
      await sessionEnder.endSession(rec.familyId, 'logout');
      await audit.record({ actor: `${rec.accountKind}:${rec.accountId}`, action: 'identity.signed-out', subject: `${rec.accountKind}:${rec.accountId}`, data: { familyId: rec.familyId } });
    });
  }

  return { login, completeWithCode, completeNewPassword, refresh, logout, liveChallenge, reserveAttempt, startSession };
}

export type Sessions = ReturnType<typeof createSessions>;
