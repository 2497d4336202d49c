/**
 * TOTP enrolment: a signed-in player adds an authenticator with a bearer token; an operator at
 * first sign-in (MFA_SETUP_REQUIRED) does it with the challenge session, and the first good code
 * both activates the factor and completes the sign-in.
 */
import { uuidv7, type Principal } from '@verity/kernel';
import type { ChallengeDto, TokenSetDto } from './contracts.ts';
import { acceptTotp, newTotpSecret, otpauthUri } from './domain/totp.ts';
import type { Account } from './repository.ts';
import type { Sessions } from './sessions.ts';
import { actorOf, IdentityProblems, type Deps } from './shared.ts';

/** Who enrols: the bearer of a token of our own issuer, or the holder of an MFA_SETUP_REQUIRED session. */
export type Enroller = { principal: Principal } | { session: string };

export function createMfa(deps: Deps, sessions: Sessions) {
  const { db, repo, crypto, clock, audit, config } = deps;

  async function accountOf(who: Enroller): Promise<Account> {
    let accountId: string;
    if ('session' in who) {
      accountId = (await sessions.liveChallenge(who.session, 'MFA_SETUP_REQUIRED', await clock.now())).accountId;
    } else {
      if (who.principal.issuer !== config.publicUrl) throw IdentityProblems.externalAccount();
      accountId = who.principal.subject;
      // An access token outlives its session by up to 15 minutes: after an MFA reset or a disable,
      // such a token must not enrol the next authenticator.
      const sid = who.principal.sessionId;
      if (!sid || !(await repo.familyLive(sid, accountId))) throw IdentityProblems.sessionEnded();
    }
    const account = await repo.account(accountId);
    if (!account) throw IdentityProblems.externalAccount();
    if (account.status !== 'active') throw IdentityProblems.accountInactive();
    // Replacing a factor with only a bearer token would let a stolen token take over the account.
    if (account.mfaActive) throw IdentityProblems.mfaAlreadyEnabled();
    return account;
  }

  async function enroll(who: Enroller): Promise<{ secret: string; otpauthUri: string }> {
    const account = await accountOf(who);
    const secret = newTotpSecret();
    const secretEnc = await crypto.encrypt(account.id, secret);
    const label = await crypto.decrypt(account.id, account.emailEnc);
    await db.tx(async () => {
      await repo.replacePendingFactor(account.id, uuidv7(), secretEnc);
      await audit.record({ actor: actorOf(account), action: 'identity.mfa-enrolment-started', subject: actorOf(account), data: { factor: 'totp' } });
    });
    return { secret, otpauthUri: otpauthUri(secret, label) };
  }

  async function verify(who: Enroller, code: string): Promise<{ enabled: true } & Partial<TokenSetDto & ChallengeDto>> {
    if ('session' in who) return { enabled: true, ...(await sessions.completeWithCode(who.session, 'MFA_SETUP_REQUIRED', code)) };
    const account = await accountOf(who);
    const factor = await repo.factor(account.id, 'pending');
    if (!factor) throw IdentityProblems.mfaEnrolmentNotStarted();
    const step = acceptTotp(await crypto.decrypt(account.id, factor.secretEnc), code, await clock.now(), null);
    const enabled = await db.tx(async () => {
      if (step === undefined || !(await repo.useFactorStep(factor.id, step))) return false;
      await audit.record({ actor: actorOf(account), action: 'identity.mfa-enabled', subject: actorOf(account), data: { factor: 'totp' } });
      return true;
    });
    if (!enabled) throw IdentityProblems.invalidMfaCode(400);
    return { enabled: true };
  }

  return { enroll, verify };
}

export type Mfa = ReturnType<typeof createMfa>;
