/**
 * The only SQL of the AML part: compliance's own aggregates of payments and sign-in events, the
 * queries rules evaluate (always "as of" a moment, for live runs and back-tests alike), rule
 * versions and alerts.
 */
import type { Db } from '@verity/kernel';
import type { Trigger, TriggerKind } from './rules/types.ts';

export interface MoneyFact {
  id: string;
  playerId: string;
  amountMinor: bigint;
  currency: string;
  eurMinor: bigint | null;
  eventId: string;
  occurredAt: Date;
}

export interface RuleVersionRow {
  ruleId: string;
  version: number;
  logicVersion: number;
  parameters: Record<string, number>;
  status: 'draft' | 'active' | 'retired';
  reason: string;
  createdBy: string;
  createdAt: Date;
  activatedBy: string | null;
  activatedAt: Date | null;
  retiredAt: Date | null;
}

export interface AlertRow {
  id: string;
  ruleId: string;
  ruleVersion: number;
  logicVersion: number;
  playerId: string;
  dedupeKey: string;
  triggerRef: string;
  facts: Record<string, unknown>;
  caseId: string | null;
  triggeredAt: Date;
  createdAt: Date;
}

const VERSION_COLUMNS = `rule_id as "ruleId", version, logic_version as "logicVersion", parameters, status, reason, created_by as "createdBy", created_at as "createdAt",
  activated_by as "activatedBy", activated_at as "activatedAt", retired_at as "retiredAt"`;
const ALERT_COLUMNS = `id, rule_id as "ruleId", rule_version as "ruleVersion", logic_version as "logicVersion", player_id as "playerId", dedupe_key as "dedupeKey",
  trigger_ref as "triggerRef", facts, case_id as "caseId", triggered_at as "triggeredAt", created_at as "createdAt"`;

/** Read queries the rules evaluate: windows are (from, to], the trigger's own moment included. */
export function createAmlQueries(db: Db) {
  return {
    async depositTotals(playerId: string, from: Date, to: Date): Promise<{ count: number; eurMinor: bigint; unconverted: number }> {
      const r = await db.one<{ count: number; eurMinor: bigint; unconverted: number }>(
        `select count(*)::int as count, coalesce(sum(amount_eur_minor), 0)::bigint as "eurMinor", count(*) filter (where amount_eur_minor is null)::int as unconverted
           from compliance.aml_deposits where player_id = $1 and occurred_at > $2 and occurred_at <= $3`,
        [playerId, from, to],
      );
      return r;
    },
    async depositAmounts(playerId: string, from: Date, to: Date): Promise<bigint[]> {
      const rows = await db.query<{ eur: bigint }>(
        'select amount_eur_minor as eur from compliance.aml_deposits where player_id = $1 and occurred_at > $2 and occurred_at <= $3 and amount_eur_minor is not null order by occurred_at',
        [playerId, from, to],
      );
      return rows.map((r) => r.eur);
    },
    async firstDepositAt(playerId: string, before: Date): Promise<Date | null> {
      const r = await db.one<{ first: Date | null }>('select min(occurred_at) as first from compliance.aml_deposits where player_id = $1 and occurred_at <= $2', [playerId, before]);
      return r.first;
    },
    async playTotal(playerId: string, from: Date, to: Date): Promise<bigint> {
      const r = await db.one<{ eur: bigint }>(
        'select coalesce(sum(amount_eur_minor), 0)::bigint as eur from compliance.aml_purchases where player_id = $1 and not cancelled and occurred_at > $2 and occurred_at <= $3',
        [playerId, from, to],
      );
      return r.eur;
    },
    /** Distinct players seen signing in with this device or IP hash in the window (at most `limit`). */
    async accountsOn(kind: 'device' | 'ip', hash: string, from: Date, to: Date, limit: number): Promise<string[]> {
      const column = kind === 'device' ? 'device_hash' : 'ip_hash';
      const rows = await db.query<{ playerId: string }>(
        `select player_id as "playerId" from compliance.aml_sign_ins where ${column} = $1 and occurred_at > $2 and occurred_at <= $3
          group by player_id order by min(occurred_at) limit $4`,
        [hash, from, to, limit],
      );
      return rows.map((r) => r.playerId);
    },
  };
}

export type AmlQueries = ReturnType<typeof createAmlQueries>;

const TRIGGER_SELECTS: Record<TriggerKind, string> = {
  deposit: `select 'deposit' as kind, 'deposit:' || deposit_id as ref, player_id, occurred_at, amount_eur_minor as eur, null::text as ip, null::text as device, null::numeric as score, null::text as method from compliance.aml_deposits`,
  withdrawal: `select 'withdrawal', 'withdrawal:' || withdrawal_id, player_id, occurred_at, amount_eur_minor, null, null, null, null from compliance.aml_withdrawals`,
  'sign-in': `select 'sign-in', 'sign-in:' || event_id, player_id, occurred_at, null, ip_hash, device_hash, null, null from compliance.aml_sign_ins`,
  'payment-method': `select 'payment-method', 'payment-method:' || id, player_id, occurred_at, null, null, null, name_score, provider || ':' || method_ref from compliance.aml_payment_methods`,
};

interface TriggerRow {
  kind: TriggerKind;
  ref: string;
  player_id: string;
  occurred_at: Date;
  eur: bigint | null;
  ip: string | null;
  device: string | null;
  score: string | null;
  method: string | null;
}

const toTrigger = (r: TriggerRow): Trigger => ({
  kind: r.kind, ref: r.ref, playerId: r.player_id, occurredAt: r.occurred_at,
  ...(r.kind === 'deposit' || r.kind === 'withdrawal' ? { eurMinor: r.eur } : {}),
  ...(r.kind === 'sign-in' ? { ipHash: r.ip, deviceHash: r.device } : {}),
  ...(r.kind === 'payment-method' ? { nameScore: Number(r.score), methodKey: r.method ?? '' } : {}),
});

export function createAmlRepository(db: Db) {
  return {
    /**
     * Serialises one player's facts: two deliveries stored in parallel would each evaluate without
     * the other's uncommitted row (two linked deposits, neither seeing the pair).
     */
    async lockPlayer(playerId: string): Promise<void> {
      await db.query("select pg_advisory_xact_lock(hashtext('compliance.aml-player:' || $1))", [playerId]);
    },
    async insertDeposit(d: MoneyFact): Promise<boolean> {
      const rows = await db.query(
        `insert into compliance.aml_deposits (deposit_id, player_id, amount_minor, currency, amount_eur_minor, event_id, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (deposit_id) do nothing returning deposit_id`,
        [d.id, d.playerId, d.amountMinor, d.currency, d.eurMinor, d.eventId, d.occurredAt],
      );
      return rows.length === 1;
    },
    async insertWithdrawal(w: MoneyFact): Promise<boolean> {
      const rows = await db.query(
        `insert into compliance.aml_withdrawals (withdrawal_id, player_id, amount_minor, currency, amount_eur_minor, event_id, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (withdrawal_id) do nothing returning withdrawal_id`,
        [w.id, w.playerId, w.amountMinor, w.currency, w.eurMinor, w.eventId, w.occurredAt],
      );
      return rows.length === 1;
    },
    /** A reservation and its void travel separately: each waits for the other's transaction. */
    async lockTransfer(transferId: string): Promise<void> {
      await db.query("select pg_advisory_xact_lock(hashtext('compliance.aml-transfer:' || $1))", [transferId]);
    },
    async insertPurchase(p: Omit<MoneyFact, 'eventId'>): Promise<void> {
      await db.query(
        `insert into compliance.aml_purchases (transfer_id, player_id, amount_minor, currency, amount_eur_minor, occurred_at, cancelled)
         values ($1, $2, $3, $4, $5, $6, exists (select 1 from compliance.aml_purchase_cancellations where transfer_id = $1))
         on conflict (transfer_id) do nothing`,
        [p.id, p.playerId, p.amountMinor, p.currency, p.eurMinor, p.occurredAt],
      );
    },
    /** A void or expiry: the reservation did not become play (remembered if it has not arrived yet). */
    async cancelPurchase(transferId: string, at: Date): Promise<void> {
      await db.query('insert into compliance.aml_purchase_cancellations (transfer_id, cancelled_at) values ($1, $2) on conflict do nothing', [transferId, at]);
      await db.query('update compliance.aml_purchases set cancelled = true where transfer_id = $1', [transferId]);
    },
    async insertSignIn(s: { eventId: string; playerId: string; ipHash: string | null; deviceHash: string | null; occurredAt: Date }): Promise<boolean> {
      const rows = await db.query(
        `insert into compliance.aml_sign_ins (event_id, player_id, ip_hash, device_hash, occurred_at) values ($1, $2, $3, $4, $5)
         on conflict (event_id) do nothing returning event_id`,
        [s.eventId, s.playerId, s.ipHash, s.deviceHash, s.occurredAt],
      );
      return rows.length === 1;
    },
    /** A payment method seen for the first time (false: already known, nothing new). */
    async insertPaymentMethod(m: { id: string; playerId: string; provider: string; methodRef: string; holderNameEnc: string; nameScore: number; algorithmVersion: string; occurredAt: Date }): Promise<boolean> {
      const rows = await db.query(
        `insert into compliance.aml_payment_methods (id, player_id, provider, method_ref, holder_name_enc, name_score, algorithm_version, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (player_id, provider, method_ref) do nothing returning id`,
        [m.id, m.playerId, m.provider, m.methodRef, m.holderNameEnc, m.nameScore, m.algorithmVersion, m.occurredAt],
      );
      return rows.length === 1;
    },

    /** A player's stored deposits and withdrawals after `after` up to `until`, oldest first. */
    async laterMoneyTriggers(playerId: string, after: Date, until: Date, limit: number): Promise<Trigger[]> {
      const rows = await db.query<TriggerRow & Record<string, unknown>>(
        `select * from (${TRIGGER_SELECTS.deposit} union all ${TRIGGER_SELECTS.withdrawal}) t
          where player_id = $1 and occurred_at > $2 and occurred_at <= $3 order by occurred_at, ref limit $4`,
        [playerId, after, until, limit],
      );
      return rows.map(toTrigger);
    },

    /** Stored history of these kinds in [from, to], oldest first: what a back-test replays. */
    async triggersBetween(kinds: readonly TriggerKind[], from: Date, to: Date, limit: number): Promise<Trigger[]> {
      if (kinds.length === 0) return [];
      const rows = await db.query<TriggerRow & Record<string, unknown>>(
        `select * from (${kinds.map((k) => TRIGGER_SELECTS[k]).join(' union all ')}) t where occurred_at >= $1 and occurred_at <= $2 order by occurred_at, ref limit $3`,
        [from, to, limit],
      );
      return rows.map(toTrigger);
    },

    // ---- rule versions ----
    async versions(ruleId?: string): Promise<RuleVersionRow[]> {
      return db.query<RuleVersionRow & Record<string, unknown>>(`select ${VERSION_COLUMNS} from compliance.aml_rule_versions where $1::text is null or rule_id = $1 order by rule_id, version`, [ruleId ?? null]);
    },
    async version(ruleId: string, version: number, forUpdate = false): Promise<RuleVersionRow | undefined> {
      return db.maybeOne<RuleVersionRow & Record<string, unknown>>(`select ${VERSION_COLUMNS} from compliance.aml_rule_versions where rule_id = $1 and version = $2 ${forUpdate ? 'for update' : ''}`, [ruleId, version]);
    },
    async active(): Promise<RuleVersionRow[]> {
      return db.query<RuleVersionRow & Record<string, unknown>>(`select ${VERSION_COLUMNS} from compliance.aml_rule_versions where status = 'active'`);
    },
    async lockRule(ruleId: string): Promise<void> {
      await db.query("select pg_advisory_xact_lock(hashtext('compliance.aml-rule:' || $1))", [ruleId]);
    },
    async insertVersion(v: { ruleId: string; logicVersion: number; parameters: Record<string, number>; status: 'draft' | 'active'; reason: string; createdBy: string }): Promise<number> {
      const row = await db.one<{ version: number }>(
        `insert into compliance.aml_rule_versions (rule_id, version, logic_version, parameters, status, reason, created_by, activated_by, activated_at)
         select $1, coalesce(max(version), 0) + 1, $2, $3::jsonb, $4, $5, $6, case when $4 = 'active' then $6 end, case when $4 = 'active' then clock_timestamp() end
           from compliance.aml_rule_versions where rule_id = $1
         returning version`,
        [v.ruleId, v.logicVersion, JSON.stringify(v.parameters), v.status, v.reason, v.createdBy],
      );
      return row.version;
    },
    async retireActive(ruleId: string): Promise<void> {
      await db.query("update compliance.aml_rule_versions set status = 'retired', retired_at = clock_timestamp() where rule_id = $1 and status = 'active'", [ruleId]);
    },
    async activate(ruleId: string, version: number, actor: string): Promise<void> {
      await db.query("update compliance.aml_rule_versions set status = 'active', activated_by = $3, activated_at = clock_timestamp(), retired_at = null where rule_id = $1 and version = $2", [ruleId, version, actor]);
    },

    // ---- alerts ----
    /** Serialises alerts of one rule and dedupe key (concurrent events of one player). */
    async lockDedupe(ruleId: string, dedupeKey: string): Promise<void> {
      await db.query("select pg_advisory_xact_lock(hashtext('compliance.aml-alert:' || $1 || ':' || $2))", [ruleId, dedupeKey]);
    },
    /** An alert of this rule and key triggered within (from, to): events may arrive out of order. */
    async alertWithin(ruleId: string, dedupeKey: string, from: Date, to: Date): Promise<boolean> {
      const r = await db.maybeOne('select 1 from compliance.aml_alerts where rule_id = $1 and dedupe_key = $2 and triggered_at > $3 and triggered_at < $4 limit 1', [ruleId, dedupeKey, from, to]);
      return r !== undefined;
    },
    async insertAlert(a: Omit<AlertRow, 'createdAt' | 'caseId'>): Promise<boolean> {
      const rows = await db.query(
        `insert into compliance.aml_alerts (id, rule_id, rule_version, logic_version, player_id, dedupe_key, trigger_ref, facts, triggered_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) on conflict (rule_id, trigger_ref) do nothing returning id`,
        [a.id, a.ruleId, a.ruleVersion, a.logicVersion, a.playerId, a.dedupeKey, a.triggerRef, JSON.stringify(a.facts), a.triggeredAt],
      );
      return rows.length === 1;
    },
    async setAlertCase(id: string, caseId: string): Promise<void> {
      await db.query('update compliance.aml_alerts set case_id = $2 where id = $1', [id, caseId]);
    },
    /** Newest first (UUIDv7 ids). */
    async alerts(filter: { ruleId?: string; playerId?: string; beforeId?: string; limit: number }): Promise<AlertRow[]> {
      return db.query<AlertRow & Record<string, unknown>>(
        `select ${ALERT_COLUMNS} from compliance.aml_alerts
          where ($1::text is null or rule_id = $1) and ($2::text is null or player_id = $2) and ($3::uuid is null or id < $3)
          order by id desc limit $4`,
        [filter.ruleId ?? null, filter.playerId ?? null, filter.beforeId ?? null, filter.limit],
      );
    },
    async alertCount(): Promise<number> {
      return (await db.one<{ n: number }>('select count(*)::int as n from compliance.aml_alerts')).n;
    },
    /** Real alerts of a rule among these triggers (a back-test marks what was already raised). */
    async raisedFor(ruleId: string, triggerRefs: readonly string[]): Promise<Set<string>> {
      if (triggerRefs.length === 0) return new Set();
      const rows = await db.query<{ ref: string }>('select trigger_ref as ref from compliance.aml_alerts where rule_id = $1 and trigger_ref = any($2::text[])', [ruleId, triggerRefs]);
      return new Set(rows.map((r) => r.ref));
    },
  };
}

export type AmlRepository = ReturnType<typeof createAmlRepository>;
