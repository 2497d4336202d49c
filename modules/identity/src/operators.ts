/**
 * Operator accounts, managed by admins: creation with a temporary password, roles, a new temporary
 * password, disable and enable, MFA reset, and the listing. Every change is audited with the acting
 * admin and the reason given, and ends the target's sessions when it changes how they sign in.
 *
 * Access tokens live up to 15 minutes after their sign-in ended; these use cases are where that
 * matters most, so they also check that the acting admin's own account is active and its session
 * (the token's `sid`) not ended. A disabled admin's token stops working here at once.
 */
import { Problems, uuidv7, type Principal } from '@verity/kernel';
import { OPERATOR_CREATED_V1, type OperatorCreatedV1Data, type OperatorDto, type OperatorPageDto } from './contracts.ts';
import { decodeCursor, encodeCursor, normalizeRoles, roleChangeRefusal } from './domain/operators.ts';
import { personalInputs } from './domain/password-policy.ts';
import { normalizeEmail } from './domain/registration.ts';
import { TEMPORARY_PASSWORD_TTL_S } from './domain/sign-in.ts';
import { newTotpSecret } from './domain/totp.ts';
import type { BootstrapAdminResult } from './index.ts';
import type { OperatorRecord } from './repository.ts';
import { addSeconds, emailHash, IdentityProblems, insertOrConflict, principalActor, randomPassword, type Deps } from './shared.ts';

export const OPERATORS_PAGE_MAX = 100;
export const OPERATORS_PAGE_DEFAULT = 25;

export interface OperatorQuery {
  limit?: number;
  cursor?: string;
  role?: string;
  status?: 'active' | 'disabled';
}

export function createOperators(deps: Deps) {
  const { db, repo, crypto, clock, audit, events, passwords, config, sessionEnder } = deps;

  /** The acting admin is still active and still signed in (see the file comment). */
  async function assertActorSignedIn(actor: Principal): Promise<void> {
    // A token of an external issuer (Cognito) has no account or session here: its issuer ends those.
    if (actor.issuer !== config.publicUrl) return;
    const account = await repo.account(actor.subject);
    if (!account || account.status !== 'active') throw IdentityProblems.accountInactive();
    if (!actor.sessionId || !(await repo.familyLive(actor.sessionId, actor.subject))) throw IdentityProblems.sessionEnded();
  }

  const notOwn = (actor: Principal, operatorId: string, detail: string) => {
    if (actor.issuer === config.publicUrl && actor.subject === operatorId) throw IdentityProblems.ownAccount(detail);
  };

  async function toDto(o: OperatorRecord): Promise<OperatorDto> {
    const [email, displayName] = await Promise.all([crypto.decrypt(o.id, o.emailEnc), crypto.decrypt(o.id, o.displayNameEnc)]);
    const dto: OperatorDto = {
      operatorId: o.id,
      email,
      displayName,
      roles: o.roles,
      status: o.status === 'active' ? 'active' : 'disabled',
      mfaEnabled: o.mfaActive,
      passwordChangeRequired: o.passwordExpiresAt !== null,
      createdAt: o.createdAt.toISOString(),
      createdBy: o.createdBy,
    };
    if (o.passwordExpiresAt) dto.temporaryPasswordExpiresAt = o.passwordExpiresAt.toISOString();
    return dto;
  }

  async function dtoOf(operatorId: string): Promise<OperatorDto> {
    const o = await repo.operator(operatorId);
    if (!o) throw Problems.notFound('operator');
    return toDto(o);
  }

  /** One operator account; `totpSecret` makes its factor active at once (bootstrap only). */
  async function insertOperator(input: {
    email: string; displayName: string; roles: string[]; password: string; passwordExpiresAt?: Date; createdBy: string; totpSecret?: string;
  }): Promise<string> {
    const email = normalizeEmail(input.email);
    const hash = emailHash(crypto, email);
    if (await repo.emailHashTaken(hash)) throw IdentityProblems.emailUnavailable();
    const operatorId = uuidv7();
    const passwordHash = await passwords.hash(input.password);
    const [emailEnc, displayNameEnc, secretEnc] = await Promise.all([
      crypto.encrypt(operatorId, email),
      crypto.encrypt(operatorId, input.displayName),
      input.totpSecret ? crypto.encrypt(operatorId, input.totpSecret) : undefined,
    ]);
    await insertOrConflict(deps, operatorId, async () => {
      await repo.insertAccount({ id: operatorId, kind: 'operator', emailHash: hash, emailEnc, passwordHash, ...(input.passwordExpiresAt ? { passwordExpiresAt: input.passwordExpiresAt } : {}) });
      const createdAt = await repo.insertOperator({ accountId: operatorId, displayNameEnc, roles: input.roles, createdBy: input.createdBy });
      if (secretEnc) await repo.insertActiveFactor(operatorId, uuidv7(), secretEnc);
      const data: OperatorCreatedV1Data = { operatorId, roles: input.roles, createdAt: createdAt.toISOString() };
      await events.publish({ type: OPERATOR_CREATED_V1, subject: operatorId, data });
      await audit.record({
        actor: input.createdBy, action: 'identity.operator-created', subject: `operator:${operatorId}`,
        data: { roles: input.roles, mfaEnrolled: Boolean(secretEnc), temporaryPassword: Boolean(input.passwordExpiresAt) },
      });
    });
    return operatorId;
  }

  async function createOperator(actor: Principal, input: { email: string; displayName: string; roles: string[] }) {
    await assertActorSignedIn(actor);
    const normalized = normalizeRoles(input.roles);
    if ('unknown' in normalized) throw Problems.validation([{ pointer: '/body/roles', detail: `unknown role "${normalized.unknown}"` }]);
    const temporaryPassword = randomPassword();
    const expiresAt = addSeconds(await clock.now(), TEMPORARY_PASSWORD_TTL_S);
    const operatorId = await insertOperator({ ...input, roles: normalized.roles, password: temporaryPassword, passwordExpiresAt: expiresAt, createdBy: principalActor(actor) });
    return { operatorId, temporaryPassword, temporaryPasswordExpiresAt: expiresAt.toISOString() };
  }

  async function setOperatorRoles(actor: Principal, operatorId: string, roles: string[]): Promise<{ operatorId: string; roles: string[] }> {
    await assertActorSignedIn(actor);
    const normalized = normalizeRoles(roles);
    if ('unknown' in normalized) throw Problems.validation([{ pointer: '/body/roles', detail: `unknown role "${normalized.unknown}"` }]);
    const refusal = roleChangeRefusal(actor.subject, operatorId, normalized.roles);
    if (refusal) throw IdentityProblems.ownAdminRole(refusal);
    await db.tx(async () => {
      const before = await repo.operatorRolesForUpdate(operatorId);
      if (!before) throw Problems.notFound('operator');
      await repo.setOperatorRoles(operatorId, normalized.roles);
      await audit.record({ actor: principalActor(actor), action: 'identity.operator-roles-changed', subject: `operator:${operatorId}`, data: { before, after: normalized.roles } });
    });
    return { operatorId, roles: normalized.roles };
  }

  /** A new temporary password (the operator forgot theirs, or never used the first within 7 days). */
  async function resetOperatorPassword(actor: Principal, operatorId: string, reason: string) {
    await assertActorSignedIn(actor);
    notOwn(actor, operatorId, 'Use the password reset of the sign-in page for your own account.');
    const target = await repo.operator(operatorId);
    if (!target) throw Problems.notFound('operator');
    const throttleKey = emailHash(crypto, await crypto.decrypt(operatorId, target.emailEnc));
    const temporaryPassword = randomPassword();
    const passwordHash = await passwords.hash(temporaryPassword);
    const expiresAt = addSeconds(await clock.now(), TEMPORARY_PASSWORD_TTL_S);
    await db.tx(async () => {
      if (!(await repo.operatorForUpdate(operatorId))) throw Problems.notFound('operator');
      await repo.setTemporaryPassword(operatorId, passwordHash, expiresAt);
      await repo.spendResets(operatorId);
      await repo.endChallenges(operatorId);
      const sessionsEnded = await sessionEnder.endAccountSessions(operatorId, 'password-reissued');
      // Failed guesses at the old password must not lock the operator out of the new one.
      await repo.clearThrottle(throttleKey);
      await audit.record({
        actor: principalActor(actor), action: 'identity.operator-password-reissued', subject: `operator:${operatorId}`, reason,
        data: { sessionsEnded, expiresAt: expiresAt.toISOString() },
      });
    });
    return { operatorId, temporaryPassword, temporaryPasswordExpiresAt: expiresAt.toISOString() };
  }

  async function setEnabled(actor: Principal, operatorId: string, enabled: boolean, reason: string): Promise<OperatorDto> {
    await assertActorSignedIn(actor);
    if (!enabled) notOwn(actor, operatorId, 'You cannot disable your own account. Ask another admin.');
    await db.tx(async () => {
      const before = await repo.setStatus(operatorId, 'operator', enabled ? 'active' : 'disabled');
      if (!before) throw Problems.notFound('operator');
      if (before === (enabled ? 'active' : 'disabled')) return; // nothing changed, nothing to record
      const data: Record<string, unknown> = { before };
      if (!enabled) {
        await repo.endChallenges(operatorId);
        data.sessionsEnded = await sessionEnder.endAccountSessions(operatorId, 'account-disabled');
      }
      await audit.record({ actor: principalActor(actor), action: enabled ? 'identity.operator-enabled' : 'identity.operator-disabled', subject: `operator:${operatorId}`, reason, data });
    });
    return dtoOf(operatorId);
  }

  /** Removes the operator's authenticator: the next sign-in is MFA_SETUP_REQUIRED (lost phone). */
  async function resetOperatorMfa(actor: Principal, operatorId: string, reason: string): Promise<OperatorDto> {
    await assertActorSignedIn(actor);
    notOwn(actor, operatorId, 'Your own authenticator cannot be reset with a token alone. Ask another admin.');
    await db.tx(async () => {
      if (!(await repo.operatorForUpdate(operatorId))) throw Problems.notFound('operator');
      const factorsRemoved = await repo.deleteFactors(operatorId);
      await repo.endChallenges(operatorId);
      const sessionsEnded = await sessionEnder.endAccountSessions(operatorId, 'mfa-reset');
      await audit.record({ actor: principalActor(actor), action: 'identity.operator-mfa-reset', subject: `operator:${operatorId}`, reason, data: { factorsRemoved, sessionsEnded } });
    });
    return dtoOf(operatorId);
  }

  async function listOperators(actor: Principal, q: OperatorQuery): Promise<OperatorPageDto> {
    await assertActorSignedIn(actor);
    const limit = Math.min(Math.max(q.limit ?? OPERATORS_PAGE_DEFAULT, 1), OPERATORS_PAGE_MAX);
    const afterId = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (q.cursor !== undefined && afterId === undefined) throw IdentityProblems.invalidCursor();
    const rows = await repo.listOperators({
      limit: limit + 1, ...(afterId ? { afterId } : {}), ...(q.role ? { role: q.role } : {}), ...(q.status ? { status: q.status } : {}),
    });
    const page = rows.slice(0, limit);
    const out: OperatorPageDto = { items: await Promise.all(page.map(toDto)) };
    if (rows.length > limit) out.nextCursor = encodeCursor(page.at(-1)!.id);
    return out;
  }

  async function getOperator(actor: Principal, operatorId: string): Promise<OperatorDto> {
    await assertActorSignedIn(actor);
    return dtoOf(operatorId);
  }

  async function bootstrapAdmin(input: { email: string; password?: string }): Promise<BootstrapAdminResult> {
    const email = normalizeEmail(input.email);
    if (input.password !== undefined) await passwords.assertAcceptable(input.password, personalInputs([email.split('@')[0]]), '/password');
    const password = input.password ?? randomPassword();
    const totpSecret = newTotpSecret();
    // A permanent password and an active factor: the person starting a demo signs in at once.
    const operatorId = await insertOperator({ email, displayName: 'Administrator', roles: ['admin'], password, createdBy: 'system', totpSecret });
    return { operatorId, email, password, totpSecret };
  }

  return {
    createOperator, setOperatorRoles, resetOperatorPassword, resetOperatorMfa, listOperators, getOperator, bootstrapAdmin,
    disableOperator: (actor: Principal, operatorId: string, reason: string) => setEnabled(actor, operatorId, false, reason),
    enableOperator: (actor: Principal, operatorId: string, reason: string) => setEnabled(actor, operatorId, true, reason),
  };
}

export type Operators = ReturnType<typeof createOperators>;
