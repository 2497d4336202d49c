/**
 * Password reset through the notification port. The request answers the same whether or not the
 * email belongs to an account, and sends the message after the answer so its timing says nothing
 * either. Completing a reset ends every session of the account and clears its sign-in throttle.
 */
import { normalizeEmail } from './domain/registration.ts';
import { personalInputs } from './domain/password-policy.ts';
import { newOpaqueToken, tokenHash } from './domain/tokens.ts';
import { actorOf, addSeconds, emailHash, IdentityProblems, type Deps } from './shared.ts';

const RESET_TTL_S = 30 * 60;

export function createPasswordReset(deps: Deps) {
  const { db, repo, crypto, clock, audit, config, passwords, notifier, log, sessionEnder } = deps;

  async function request(email: string): Promise<void> {
    const hash = emailHash(crypto, email);
    const account = await repo.accountByEmailHash(hash);
    if (!account || account.status !== 'active') {
      await audit.record({ actor: 'anonymous', action: 'identity.password-reset-requested', data: { identifierHash: hash, matched: false } });
      return;
    }
    const token = newOpaqueToken();
    const now = await clock.now();
    await db.tx(async () => {
      await repo.insertReset(tokenHash(token), account.id, addSeconds(now, RESET_TTL_S));
      await audit.record({ actor: 'anonymous', action: 'identity.password-reset-requested', subject: actorOf(account), data: { identifierHash: hash, matched: true } });
    });
    const to = await crypto.decrypt(account.id, account.emailEnc);
    const resetUrl = `${config.publicUrl}/reset-password#token=${token}`;
    void notifier
      .send({
        to,
        template: 'password-reset',
        subject: 'Reset your Verity password',
        text: `Someone asked to reset the password of your Verity account.\n\nTo choose a new password, open this link within 30 minutes:\n${resetUrl}\n\nIf it was not you, ignore this message: your password stays as it is.`,
        data: { token, resetUrl },
      })
      .catch((err: Error) => log.error({ err: err.message }, 'password reset message could not be sent'));
  }

  async function confirm(token: string, newPassword: string): Promise<void> {
    const now = await clock.now();
    const reset = await repo.resetForUpdate(tokenHash(token));
    if (!reset || reset.usedAt || reset.expiresAt.getTime() <= now.getTime()) throw IdentityProblems.invalidResetToken();
    const account = await repo.account(reset.accountId);
    if (!account || account.status !== 'active') throw IdentityProblems.invalidResetToken();
    const email = normalizeEmail(await crypto.decrypt(account.id, account.emailEnc));
    await passwords.assertAcceptable(newPassword, personalInputs([email.split('@')[0]]), '/body/newPassword');
    const passwordHash = await passwords.hash(newPassword);
    await db.tx(async () => {
      const locked = await repo.resetForUpdate(tokenHash(token));
      if (!locked || locked.usedAt) throw IdentityProblems.invalidResetToken();
      await repo.setPassword(account.id, passwordHash);
      await repo.spendResets(account.id);
      const sessionsEnded = await sessionEnder.endAccountSessions(account.id, 'password-reset');
      await repo.clearThrottle(emailHash(crypto, email));
      await audit.record({ actor: actorOf(account), action: 'identity.password-reset-completed', subject: actorOf(account), data: { sessionsEnded } });
    });
  }

  return { request, confirm };
}

export type PasswordReset = ReturnType<typeof createPasswordReset>;
