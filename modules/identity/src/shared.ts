/** What the identity use cases share: their dependencies, errors, and small helpers. */
import { randomBytes } from 'node:crypto';
import { DomainError, pgCode, PgError, Problems, type AuditLog, type Clock, type Config, type Db, type EventPublisher, type FieldCrypto, type Logger, type Principal } from '@verity/kernel';
import type { Notifier } from './adapters/notifier.ts';
import { normalizeEmail } from './domain/registration.ts';
import type { Passwords } from './passwords.ts';
import type { Account, Repository } from './repository.ts';
import type { SessionEnder } from './session-revocation.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface Deps {
  db: Db;
  repo: Repository;
  crypto: FieldCrypto;
  clock: Clock;
  audit: AuditLog;
  events: EventPublisher;
  config: Config;
  log: Logger;
  issuer: TokenIssuer;
  passwords: Passwords;
  notifier: Notifier;
  sessionEnder: SessionEnder;
}

export const IdentityProblems = {
  invalidCredentials: () => new DomainError('invalid-credentials', 401, 'Sign-in failed', 'The email or password is incorrect.'),
  signInThrottled: (retryAfterS: number) =>
    new DomainError('sign-in-throttled', 429, 'Too many failed sign-ins', `Too many failed attempts for this account. Retry in ${retryAfterS} seconds.`, { retryAfterSeconds: retryAfterS }),
  accountInactive: () => new DomainError('account-inactive', 403, 'Account not active', 'This account is suspended or closed. Contact support.'),
  invalidSession: () => new DomainError('invalid-session', 401, 'Sign-in session not valid', 'The session has expired, was already used, or is for another challenge. Sign in again.'),
  invalidMfaCode: (status: 400 | 401) => new DomainError('invalid-mfa-code', status, 'Code not accepted', 'The code is wrong, expired, or was already used. Wait for the next code and try again.'),
  invalidRefreshToken: () => new DomainError('invalid-refresh-token', 401, 'Refresh token not valid', 'The refresh token is not valid any more. Sign in again.'),
  emailUnavailable: () => new DomainError('email-unavailable', 409, 'Email address not available', 'This email address cannot be used to register. If it is yours, sign in or reset your password.'),
  mfaAlreadyEnabled: () => new DomainError('mfa-already-enabled', 409, 'MFA already enabled', 'This account already has an authenticator. Contact support to replace it.'),
  mfaEnrolmentNotStarted: () => new DomainError('mfa-enrolment-not-started', 409, 'No MFA enrolment in progress', 'Start with POST /v1/me/mfa to get a secret, then verify a code of it.'),
  externalAccount: () => new DomainError('external-account', 403, 'Managed by your identity provider', 'Your sign-in is managed by an external identity provider; change it there.'),
  invalidResetToken: () => new DomainError('invalid-reset-token', 400, 'Reset link not valid', 'The password reset link has expired or was already used. Ask for a new one.'),
  ownAdminRole: (detail: string) => new DomainError('own-admin-role', 409, 'Role change refused', detail),
  ownAccount: (detail: string) => new DomainError('own-account', 409, 'Not on your own account', detail),
  temporaryPasswordExpired: () =>
    new DomainError('temporary-password-expired', 401, 'Temporary password expired', 'The temporary password has expired. Ask an administrator to issue a new one.'),
  sessionEnded: () => Problems.sessionEnded(),
  invalidCursor: () => new DomainError('validation-failed', 400, 'Your request parameters did not validate', 'The cursor is not one this list gave out.', {}, [{ pointer: '/query/cursor', detail: 'is not a valid cursor' }]),
} as const;

/** The keyed hash that finds an account by email (and names it in audit records without the email). */
export const emailHash = (crypto: FieldCrypto, email: string): string => crypto.keyedHash('identity.email', normalizeEmail(email));

export const actorOf = (account: Pick<Account, 'kind' | 'id'>): string => `${account.kind}:${account.id}`;
export const principalActor = (p: Principal): string => `${p.kind}:${p.subject}`;

/** A strong random password for new operators and the bootstrap admin (144 bits). */
export const randomPassword = (): string => `${randomBytes(18).toString('base64url')}`;

export const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);

export const rolesOf = (account: Pick<Account, 'kind' | 'roles'>): string[] => (account.kind === 'operator' ? account.roles : ['player']);

/** Unique-email races end as the same 409 as the early check; the orphaned data key is destroyed. */
export async function insertOrConflict<T>(deps: Pick<Deps, 'db' | 'crypto'>, subjectId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await deps.db.tx(work);
  } catch (err) {
    if (pgCode(err) !== PgError.uniqueViolation) throw err;
    await deps.crypto.destroySubjectKey(subjectId).catch(() => {});
    throw IdentityProblems.emailUnavailable();
  }
}
