/**
 * The only file that knows the identity schema. Rows become plain DTOs here; nothing above this
 * file sees a column name. Every function joins the caller's transaction (db.tx) when there is one.
 */
import type { Db } from '@verity/kernel';
import type { ChallengeName } from './domain/sign-in.ts';

export type { ChallengeName };
export type AccountKind = 'player' | 'operator';
/** `disabled` is an operator switched off by an admin; players are suspended or closed. */
export type AccountStatus = 'active' | 'suspended' | 'closed' | 'disabled';
export type RevokeReason = 'logout' | 'reuse-detected' | 'password-reset' | 'account-inactive' | 'account-disabled' | 'mfa-reset' | 'password-reissued';

export interface Account {
  id: string;
  kind: AccountKind;
  emailEnc: string;
  passwordHash: string;
  status: AccountStatus;
  /** Operators only; players have none. */
  roles: string[];
  mfaActive: boolean;
  /** Set while the password is a temporary one (set by an admin); null for a permanent one. */
  passwordExpiresAt: Date | null;
}

export interface OperatorRecord {
  id: string;
  emailEnc: string;
  displayNameEnc: string;
  roles: string[];
  status: AccountStatus;
  mfaActive: boolean;
  passwordExpiresAt: Date | null;
  createdAt: Date;
  createdBy: string;
}

export interface PlayerProfileRecord {
  emailEnc: string;
  legalNameEnc: string;
  dateOfBirthEnc: string;
  addressEnc: string;
  country: string;
}

export interface Factor {
  id: string;
  secretEnc: string;
  lastUsedStep: bigint | null;
}

export interface Challenge {
  id: string;
  accountId: string;
  accountKind: AccountKind;
  throttleKey: string;
  name: ChallengeName;
  authTime: Date;
  attempts: number;
  expiresAt: Date;
  completedAt: Date | null;
  mfaVerified: boolean;
}

export interface RefreshTokenRecord {
  familyId: string;
  accountKind: AccountKind;
  usedAt: Date | null;
  familyRevokedAt: Date | null;
  familyExpiresAt: Date;
  amr: string[];
  authTime: Date;
  accountId: string;
}

export interface SigningKeyRecord {
  kid: string;
  alg: 'EdDSA';
  publicJwk: Record<string, unknown>;
  privateKeyEnc: string;
  createdAt: Date;
  /** When a newer key took over signing; null for the current key. */
  supersededAt: Date | null;
}

const MFA_ACTIVE = `exists (select 1 from identity.mfa_factors f where f.account_id = a.id and f.status = 'active') as mfa_active`;
const ACCOUNT_COLUMNS = `a.id, a.kind, a.email_enc, a.password_hash, a.status, a.password_expires_at, coalesce(o.roles, '{}') as roles, ${MFA_ACTIVE}`;
const OPERATOR_COLUMNS = `a.id, a.email_enc, a.status, a.password_expires_at, o.display_name_enc, o.roles, o.created_at, o.created_by, ${MFA_ACTIVE}`;

const toAccount = (r: Record<string, any>): Account => ({
  id: r.id,
  kind: r.kind,
  emailEnc: r.email_enc,
  passwordHash: r.password_hash,
  status: r.status,
  roles: r.roles,
  mfaActive: r.mfa_active,
  passwordExpiresAt: r.password_expires_at,
});

const toOperator = (r: Record<string, any>): OperatorRecord => ({
  id: r.id,
  emailEnc: r.email_enc,
  displayNameEnc: r.display_name_enc,
  roles: r.roles,
  status: r.status,
  mfaActive: r.mfa_active,
  passwordExpiresAt: r.password_expires_at,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export function createRepository(db: Db) {
  return {
    // ---- accounts -------------------------------------------------------------------------------
    async insertAccount(a: { id: string; kind: AccountKind; emailHash: string; emailEnc: string; passwordHash: string; passwordExpiresAt?: Date }): Promise<void> {
      await db.query('insert into identity.accounts (id, kind, email_hash, email_enc, password_hash, password_expires_at) values ($1, $2, $3, $4, $5, $6)', [
        a.id, a.kind, a.emailHash, a.emailEnc, a.passwordHash, a.passwordExpiresAt ?? null,
      ]);
    },
    async insertPlayer(p: { accountId: string; legalNameEnc: string; dateOfBirthEnc: string; addressEnc: string; country: string }): Promise<Date> {
      const row = await db.one<{ registered_at: Date }>(
        'insert into identity.players (account_id, legal_name_enc, date_of_birth_enc, address_enc, country) values ($1, $2, $3, $4, $5) returning registered_at',
        [p.accountId, p.legalNameEnc, p.dateOfBirthEnc, p.addressEnc, p.country],
      );
      return row.registered_at;
    },
    async insertOperator(o: { accountId: string; displayNameEnc: string; roles: readonly string[]; createdBy: string }): Promise<Date> {
      const row = await db.one<{ created_at: Date }>(
        'insert into identity.operators (account_id, display_name_enc, roles, created_by) values ($1, $2, $3, $4) returning created_at',
        [o.accountId, o.displayNameEnc, o.roles, o.createdBy],
      );
      return row.created_at;
    },
    async accountByEmailHash(emailHash: string): Promise<Account | undefined> {
      const r = await db.maybeOne(`select ${ACCOUNT_COLUMNS} from identity.accounts a left join identity.operators o on o.account_id = a.id where a.email_hash = $1`, [emailHash]);
      return r ? toAccount(r) : undefined;
    },
    async account(id: string): Promise<Account | undefined> {
      const r = await db.maybeOne(`select ${ACCOUNT_COLUMNS} from identity.accounts a left join identity.operators o on o.account_id = a.id where a.id = $1`, [id]);
      return r ? toAccount(r) : undefined;
    },
    async emailHashTaken(emailHash: string): Promise<boolean> {
      return (await db.maybeOne('select 1 from identity.accounts where email_hash = $1', [emailHash])) !== undefined;
    },
    /** A password the account holder chose: permanent. */
    async setPassword(accountId: string, passwordHash: string): Promise<void> {
      await db.query('update identity.accounts set password_hash = $2, password_expires_at = null, password_changed_at = clock_timestamp() where id = $1', [accountId, passwordHash]);
    },
    /** A password an admin set: works until `expiresAt`, and only to choose a new one. */
    async setTemporaryPassword(accountId: string, passwordHash: string, expiresAt: Date): Promise<void> {
      await db.query('update identity.accounts set password_hash = $2, password_expires_at = $3, password_changed_at = clock_timestamp() where id = $1', [accountId, passwordHash, expiresAt]);
    },
    /** The same password under today's hashing parameters: temporary stays temporary. */
    async rehashPassword(accountId: string, passwordHash: string): Promise<void> {
      await db.query('update identity.accounts set password_hash = $2 where id = $1', [accountId, passwordHash]);
    },
    /** Locks the account row; the status before the change, or undefined when there is no such account. */
    async setStatus(accountId: string, kind: AccountKind, status: AccountStatus): Promise<AccountStatus | undefined> {
      const before = await db.maybeOne<{ status: AccountStatus }>('select status from identity.accounts where id = $1 and kind = $2 for update', [accountId, kind]);
      if (before && before.status !== status) await db.query('update identity.accounts set status = $2 where id = $1', [accountId, status]);
      return before?.status;
    },
    async operatorCount(): Promise<number> {
      return Number((await db.one<{ n: bigint }>('select count(*) as n from identity.operators')).n);
    },
    /** Locks the operator row; undefined when there is no such operator. */
    async operatorRolesForUpdate(accountId: string): Promise<string[] | undefined> {
      return (await db.maybeOne<{ roles: string[] }>('select roles from identity.operators where account_id = $1 for update', [accountId]))?.roles;
    },
    async setOperatorRoles(accountId: string, roles: readonly string[]): Promise<void> {
      await db.query('update identity.operators set roles = $2 where account_id = $1', [accountId, roles]);
    },
    /** Locks the operator's rows (account and operator) for the rest of the transaction. */
    async operatorForUpdate(id: string): Promise<OperatorRecord | undefined> {
      const r = await db.maybeOne(`select ${OPERATOR_COLUMNS} from identity.accounts a join identity.operators o on o.account_id = a.id where a.id = $1 for update of a, o`, [id]);
      return r ? toOperator(r) : undefined;
    },
    async operator(id: string): Promise<OperatorRecord | undefined> {
      const r = await db.maybeOne(`select ${OPERATOR_COLUMNS} from identity.accounts a join identity.operators o on o.account_id = a.id where a.id = $1`, [id]);
      return r ? toOperator(r) : undefined;
    },
    /** One page of operators in creation order (ids are UUIDv7), after `afterId`. */
    async listOperators(q: { limit: number; afterId?: string; role?: string; status?: AccountStatus }): Promise<OperatorRecord[]> {
      const rows = await db.query(
        `select ${OPERATOR_COLUMNS} from identity.accounts a join identity.operators o on o.account_id = a.id
          where ($1::uuid is null or a.id > $1::uuid) and ($2::text is null or $2::text = any (o.roles)) and ($3::text is null or a.status = $3::text)
          order by a.id limit $4`,
        [q.afterId ?? null, q.role ?? null, q.status ?? null, q.limit],
      );
      return rows.map(toOperator);
    },
    async playerProfile(id: string): Promise<PlayerProfileRecord | undefined> {
      const r = await db.maybeOne<Record<string, any>>(
        'select a.email_enc, p.legal_name_enc, p.date_of_birth_enc, p.address_enc, p.country from identity.accounts a join identity.players p on p.account_id = a.id where a.id = $1',
        [id],
      );
      return r ? { emailEnc: r.email_enc, legalNameEnc: r.legal_name_enc, dateOfBirthEnc: r.date_of_birth_enc, addressEnc: r.address_enc, country: r.country } : undefined;
    },
    /** The account and its player or operator profile in one round trip (GET /v1/me). */
    async accountWithProfile(id: string): Promise<{ account: Account; player?: PlayerProfileRecord; operator?: { emailEnc: string; displayNameEnc: string } } | undefined> {
      const r = await db.maybeOne<Record<string, any>>(
        `select ${ACCOUNT_COLUMNS}, o.display_name_enc, p.account_id as player_id, p.legal_name_enc, p.date_of_birth_enc, p.address_enc, p.country
           from identity.accounts a left join identity.operators o on o.account_id = a.id left join identity.players p on p.account_id = a.id
          where a.id = $1`,
        [id],
      );
      if (!r) return undefined;
      const account = toAccount(r);
      if (account.kind === 'player') {
        return r.player_id
          ? { account, player: { emailEnc: r.email_enc, legalNameEnc: r.legal_name_enc, dateOfBirthEnc: r.date_of_birth_enc, addressEnc: r.address_enc, country: r.country } }
          : { account };
      }
      return r.display_name_enc != null ? { account, operator: { emailEnc: r.email_enc, displayNameEnc: r.display_name_enc } } : { account };
    },
    async setPlayerAddress(id: string, addressEnc: string): Promise<boolean> {
      return (await db.query('update identity.players set address_enc = $2 where account_id = $1 returning 1', [id, addressEnc])).length === 1;
    },
    async playerSummary(id: string): Promise<{ playerId: string; status: AccountStatus; country: string; registeredAt: Date } | undefined> {
      const r = await db.maybeOne<{ id: string; status: AccountStatus; country: string; registered_at: Date }>(
        'select a.id, a.status, p.country, p.registered_at from identity.accounts a join identity.players p on p.account_id = a.id where a.id = $1',
        [id],
      );
      return r ? { playerId: r.id, status: r.status, country: r.country, registeredAt: r.registered_at } : undefined;
    },

    // ---- sign-in throttle -------------------------------------------------------------------------
    async throttle(keyHash: string): Promise<{ failures: number; lockedUntil: Date | null }> {
      const r = await db.maybeOne<{ failures: number; locked_until: Date | null }>('select failures, locked_until from identity.sign_in_throttle where key_hash = $1', [keyHash]);
      return { failures: r?.failures ?? 0, lockedUntil: r?.locked_until ?? null };
    },
    /**
     * Counts one more attempt unless the identifier is locked at `now` (then undefined). One
     * statement, so of concurrent attempts each sees the count and lock the previous one left. A
     * count idle for a day starts again.
     */
    async countAttemptUnlessLocked(keyHash: string, now: Date): Promise<number | undefined> {
      const r = await db.maybeOne<{ failures: number }>(
        `insert into identity.sign_in_throttle as t (key_hash, failures, last_attempt_at) values ($1, 1, $2)
         on conflict (key_hash) do update
           set failures = case when t.last_attempt_at < $2::timestamptz - interval '1 day' then 1 else t.failures + 1 end, last_attempt_at = $2
           where t.locked_until is null or t.locked_until <= $2
         returning failures`,
        [keyHash, now],
      );
      return r?.failures;
    },
    async lockUntil(keyHash: string, until: Date | null): Promise<void> {
      await db.query('update identity.sign_in_throttle set locked_until = $2 where key_hash = $1', [keyHash, until]);
    },
    async clearThrottle(keyHash: string): Promise<void> {
      await db.query('delete from identity.sign_in_throttle where key_hash = $1', [keyHash]);
    },

    // ---- MFA factors ----------------------------------------------------------------------------
    async factor(accountId: string, status: 'pending' | 'active'): Promise<Factor | undefined> {
      const r = await db.maybeOne<{ id: string; secret_enc: string; last_used_step: bigint | null }>(
        'select id, secret_enc, last_used_step from identity.mfa_factors where account_id = $1 and status = $2',
        [accountId, status],
      );
      return r ? { id: r.id, secretEnc: r.secret_enc, lastUsedStep: r.last_used_step } : undefined;
    },
    async replacePendingFactor(accountId: string, id: string, secretEnc: string): Promise<void> {
      await db.query("delete from identity.mfa_factors where account_id = $1 and status = 'pending'", [accountId]);
      await db.query("insert into identity.mfa_factors (id, account_id, secret_enc, status) values ($1, $2, $3, 'pending')", [id, accountId, secretEnc]);
    },
    /** Removes every factor, active or pending: the next sign-in enrols a new one. */
    async deleteFactors(accountId: string): Promise<number> {
      return (await db.query('delete from identity.mfa_factors where account_id = $1 returning id', [accountId])).length;
    },
    async insertActiveFactor(accountId: string, id: string, secretEnc: string): Promise<void> {
      await db.query(
        "insert into identity.mfa_factors (id, account_id, secret_enc, status, activated_at) values ($1, $2, $3, 'active', clock_timestamp())",
        [id, accountId, secretEnc],
      );
    },
    /**
     * Records `step` as used, only if it is later than the last used step: of two concurrent
     * requests with the same code, exactly one wins. Activates a pending factor on first use.
     */
    async useFactorStep(factorId: string, step: bigint): Promise<boolean> {
      const rows = await db.query(
        `update identity.mfa_factors set last_used_step = $2, status = 'active', activated_at = coalesce(activated_at, clock_timestamp())
         where id = $1 and (last_used_step is null or last_used_step < $2) returning id`,
        [factorId, step],
      );
      return rows.length === 1;
    },

    // ---- challenges -----------------------------------------------------------------------------
    async insertChallenge(c: { id: string; sessionHash: string; accountId: string; throttleKey: string; name: ChallengeName; authTime: Date; expiresAt: Date; mfaVerified: boolean }): Promise<void> {
      await db.query(
        'insert into identity.challenges (id, session_hash, account_id, throttle_key, name, auth_time, expires_at, mfa_verified) values ($1, $2, $3, $4, $5, $6, $7, $8)',
        [c.id, c.sessionHash, c.accountId, c.throttleKey, c.name, c.authTime, c.expiresAt, c.mfaVerified],
      );
    },
    /** Ends every sign-in in progress of the account (its password or factor just changed). */
    async endChallenges(accountId: string): Promise<void> {
      await db.query('update identity.challenges set completed_at = clock_timestamp() where account_id = $1 and completed_at is null', [accountId]);
    },
    async challengeForUpdate(sessionHash: string): Promise<Challenge | undefined> {
      const r = await db.maybeOne<Record<string, any>>(`select c.*, a.kind as account_kind from identity.challenges c join identity.accounts a on a.id = c.account_id
         where c.session_hash = $1 for update of c`, [sessionHash]);
      if (!r) return undefined;
      return {
        id: r.id, accountId: r.account_id, accountKind: r.account_kind, throttleKey: r.throttle_key, name: r.name, authTime: r.auth_time,
        attempts: r.attempts, expiresAt: r.expires_at, completedAt: r.completed_at, mfaVerified: r.mfa_verified,
      };
    },
    async countChallengeAttempt(id: string): Promise<number> {
      return (await db.one<{ attempts: number }>('update identity.challenges set attempts = attempts + 1 where id = $1 returning attempts', [id])).attempts;
    },
    async completeChallenge(id: string): Promise<void> {
      await db.query('update identity.challenges set completed_at = clock_timestamp() where id = $1', [id]);
    },

    // ---- refresh-token families -------------------------------------------------------------------
    async insertFamily(f: { id: string; accountId: string; amr: readonly string[]; authTime: Date; expiresAt: Date }): Promise<void> {
      await db.query('insert into identity.token_families (id, account_id, amr, auth_time, expires_at) values ($1, $2, $3, $4, $5)', [
        f.id, f.accountId, f.amr, f.authTime, f.expiresAt,
      ]);
    },
    async insertRefreshToken(tokenHash: string, familyId: string): Promise<void> {
      await db.query('insert into identity.refresh_tokens (token_hash, family_id) values ($1, $2)', [tokenHash, familyId]);
    },
    /** Locks the family row, so concurrent refreshes of one family run one after the other. */
    async refreshTokenForUpdate(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
      const r = await db.maybeOne<Record<string, any>>(
        `select t.family_id, t.used_at, f.revoked_at, f.expires_at, f.amr, f.auth_time, f.account_id, a.kind as account_kind
         from identity.refresh_tokens t join identity.token_families f on f.id = t.family_id join identity.accounts a on a.id = f.account_id
         where t.token_hash = $1 for update of f`,
        [tokenHash],
      );
      if (!r) return undefined;
      return {
        familyId: r.family_id, accountKind: r.account_kind, usedAt: r.used_at, familyRevokedAt: r.revoked_at, familyExpiresAt: r.expires_at,
        amr: r.amr, authTime: r.auth_time, accountId: r.account_id,
      };
    },
    async markRefreshTokenUsed(tokenHash: string): Promise<void> {
      await db.query('update identity.refresh_tokens set used_at = clock_timestamp() where token_hash = $1', [tokenHash]);
    },
    async revokeFamily(familyId: string, reason: RevokeReason): Promise<void> {
      await db.query('update identity.token_families set revoked_at = clock_timestamp(), revoked_reason = $2 where id = $1 and revoked_at is null', [familyId, reason]);
    },
    /** True while the sign-in (refresh-token family) of an access token has not been ended. */
    async familyLive(familyId: string, accountId: string): Promise<boolean> {
      return (await db.maybeOne('select 1 from identity.token_families where id = $1 and account_id = $2 and revoked_at is null', [familyId, accountId])) !== undefined;
    },
    /** Ends every live sign-in of the account; the ended families' ids (the tokens' `sid`s). */
    async revokeAccountFamilies(accountId: string, reason: RevokeReason): Promise<string[]> {
      const rows = await db.query<{ id: string }>(
        'update identity.token_families set revoked_at = clock_timestamp(), revoked_reason = $2 where account_id = $1 and revoked_at is null returning id',
        [accountId, reason],
      );
      return rows.map((r) => r.id);
    },

    // ---- password resets ------------------------------------------------------------------------
    async insertReset(tokenHash: string, accountId: string, expiresAt: Date): Promise<void> {
      await db.query('insert into identity.password_resets (token_hash, account_id, expires_at) values ($1, $2, $3)', [tokenHash, accountId, expiresAt]);
    },
    async resetForUpdate(tokenHash: string): Promise<{ accountId: string; expiresAt: Date; usedAt: Date | null } | undefined> {
      const r = await db.maybeOne<{ account_id: string; expires_at: Date; used_at: Date | null }>(
        'select account_id, expires_at, used_at from identity.password_resets where token_hash = $1 for update',
        [tokenHash],
      );
      return r ? { accountId: r.account_id, expiresAt: r.expires_at, usedAt: r.used_at } : undefined;
    },
    /** Spends every open reset token of the account, not only the one used. */
    async spendResets(accountId: string): Promise<void> {
      await db.query('update identity.password_resets set used_at = clock_timestamp() where account_id = $1 and used_at is null', [accountId]);
    },

    // ---- signing keys ---------------------------------------------------------------------------
    /** Serialises key creation across processes for the rest of the transaction. */
    async lockSigningKeys(): Promise<void> {
      await db.query("select pg_advisory_xact_lock(hashtext('identity.signing-keys'))");
    },
    /** Keys not yet retired (the ones to publish), newest first. */
    async signingKeys(): Promise<SigningKeyRecord[]> {
      const rows = await db.query<Record<string, any>>(
        'select kid, alg, public_jwk, private_key_enc, created_at, superseded_at from identity.signing_keys where retired_at is null order by created_at desc limit 20',
      );
      return rows.map((r) => ({ kid: r.kid, alg: r.alg, publicJwk: r.public_jwk, privateKeyEnc: r.private_key_enc, createdAt: r.created_at, supersededAt: r.superseded_at }));
    },
    async supersedeCurrentKey(): Promise<string[]> {
      const rows = await db.query<{ kid: string }>('update identity.signing_keys set superseded_at = clock_timestamp() where superseded_at is null and retired_at is null returning kid');
      return rows.map((r) => r.kid);
    },
    /** Retires keys superseded at or before `supersededBefore`: no token they signed is still valid. */
    async retireSigningKeys(supersededBefore: Date): Promise<string[]> {
      const rows = await db.query<{ kid: string }>(
        'update identity.signing_keys set retired_at = clock_timestamp() where retired_at is null and superseded_at <= $1 returning kid',
        [supersededBefore],
      );
      return rows.map((r) => r.kid);
    },
    async insertSigningKey(k: { kid: string; alg: 'EdDSA'; publicJwk: object; privateKeyEnc: string }): Promise<void> {
      await db.query('insert into identity.signing_keys (kid, alg, public_jwk, private_key_enc) values ($1, $2, $3, $4)', [k.kid, k.alg, JSON.stringify(k.publicJwk), k.privateKeyEnc]);
    },

    // ---- housekeeping ---------------------------------------------------------------------------
    async purgeExpired(now: Date): Promise<number> {
      const rows = await db.query<{ n: bigint }>(
        `with c as (delete from identity.challenges where expires_at < $1::timestamptz - interval '1 day' returning 1),
              r as (delete from identity.password_resets where expires_at < $1::timestamptz - interval '1 day' returning 1),
              f as (delete from identity.token_families where expires_at < $1::timestamptz - interval '7 days' returning 1)
         select (select count(*) from c) + (select count(*) from r) + (select count(*) from f) as n`,
        [now],
      );
      return Number(rows[0]?.n ?? 0n);
    },
  };
}

export type Repository = ReturnType<typeof createRepository>;
