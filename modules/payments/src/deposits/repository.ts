/** SQL of deposits and deposit limits. "Now" is the database's `now()` (the transaction's start). */
import type { Db } from '@verity/kernel';
import type { FundingType } from '../contract.ts';

export type DepositStatus = 'pending' | 'unknown' | 'requires_action' | 'processing' | 'succeeded' | 'failed' | 'refused_credit_card';
export type RefundStatus = 'requested' | 'pending' | 'succeeded' | 'failed';
export type Period = 'daily' | 'weekly' | 'monthly';

export const PERIODS: readonly Period[] = ['daily', 'weekly', 'monthly'];
/** Rolling windows ending now (ADR 0007): a day is 24 hours, a week 7 days, a month 30 days. */
export const WINDOW_HOURS: Record<Period, number> = { daily: 24, weekly: 7 * 24, monthly: 30 * 24 };
/** RTS 12: a looser limit takes effect no sooner than 24 hours after it was asked for. */
export const COOLING_OFF_HOURS = 24;
/** Statuses whose amount counts against deposit limits. */
export const COUNTED: readonly DepositStatus[] = ['pending', 'unknown', 'requires_action', 'processing', 'succeeded'];

export interface DepositRow {
  depositId: string;
  playerId: string;
  idempotencyKey: string;
  requestHash: string;
  provider: string;
  amountMinor: bigint;
  currency: string;
  paymentMethod: string | null;
  status: DepositStatus;
  pspPaymentId: string | null;
  actionUrl: string | null;
  fundingType: FundingType | null;
  failureReason: string | null;
  refundStatus: RefundStatus | null;
  pspRefundId: string | null;
  lastEventAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Seconds since creation, by the database clock. */
  ageS: number;
}

export interface LimitState {
  period: Period;
  activeMinor: bigint | null;
  pendingChangeId: bigint | null;
  pendingMinor: bigint | null;
  pendingEffectiveAt: Date | null;
  usedMinor: bigint;
}

const COLUMNS = `deposit_id as "depositId", player_id as "playerId", idempotency_key as "idempotencyKey", request_hash as "requestHash",
  provider, amount_minor as "amountMinor", currency, payment_method as "paymentMethod", status, psp_payment_id as "pspPaymentId",
  action_url as "actionUrl", funding_type as "fundingType", failure_reason as "failureReason", refund_status as "refundStatus",
  psp_refund_id as "pspRefundId", last_event_at as "lastEventAt", created_at as "createdAt", updated_at as "updatedAt",
  extract(epoch from now() - created_at)::float8 as "ageS"`;

export interface DepositUpdate {
  status?: DepositStatus;
  pspPaymentId?: string;
  actionUrl?: string | null;
  fundingType?: FundingType;
  failureReason?: string | null;
  lastEventAt?: Date;
  settled?: boolean;
}

export function depositRepository(db: Db) {
  return {
    /** Creates the player's lock row if needed and locks it until the transaction ends. */
    async lockPlayer(playerId: string): Promise<void> {
      await db.query(`insert into payments.deposit_limit_accounts (player_id) values ($1) on conflict do nothing`, [playerId]);
      await db.query(`select 1 from payments.deposit_limit_accounts where player_id = $1 for update`, [playerId]);
    },

    async findByKey(playerId: string, idempotencyKey: string): Promise<DepositRow | undefined> {
      return db.maybeOne<DepositRow & Record<string, unknown>>(`select ${COLUMNS} from payments.deposits where player_id = $1 and idempotency_key = $2`, [playerId, idempotencyKey]);
    },

    async get(depositId: string, options: { forUpdate?: boolean } = {}): Promise<DepositRow | undefined> {
      return db.maybeOne<DepositRow & Record<string, unknown>>(`select ${COLUMNS} from payments.deposits where deposit_id = $1 ${options.forUpdate ? 'for update' : ''}`, [depositId]);
    },

    async getByPspPayment(provider: string, pspPaymentId: string, options: { forUpdate?: boolean } = {}): Promise<DepositRow | undefined> {
      return db.maybeOne<DepositRow & Record<string, unknown>>(
        `select ${COLUMNS} from payments.deposits where provider = $1 and psp_payment_id = $2 ${options.forUpdate ? 'for update' : ''}`,
        [provider, pspPaymentId],
      );
    },

    async insert(d: { depositId: string; playerId: string; idempotencyKey: string; requestHash: string; provider: string; amountMinor: bigint; currency: string; paymentMethod?: string }): Promise<DepositRow> {
      return db.one<DepositRow & Record<string, unknown>>(
        `insert into payments.deposits (deposit_id, player_id, idempotency_key, request_hash, provider, amount_minor, currency, payment_method)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${COLUMNS}`,
        [d.depositId, d.playerId, d.idempotencyKey, d.requestHash, d.provider, d.amountMinor, d.currency, d.paymentMethod ?? null],
      );
    },

    async update(depositId: string, u: DepositUpdate): Promise<DepositRow> {
      return db.one<DepositRow & Record<string, unknown>>(
        `update payments.deposits set
           status = coalesce($2::text, status),
           psp_payment_id = coalesce(psp_payment_id, $3::text),
           action_url = case when $4::boolean then $5::text else action_url end,
           funding_type = coalesce($6::text, funding_type),
           failure_reason = case when $7::boolean then $8::text else failure_reason end,
           last_event_at = greatest(last_event_at, $9::timestamptz),
           settled_at = case when $10::boolean then coalesce(settled_at, now()) else settled_at end,
           updated_at = now()
         where deposit_id = $1 returning ${COLUMNS}`,
        [
          depositId, u.status ?? null, u.pspPaymentId ?? null, u.actionUrl !== undefined, u.actionUrl ?? null, u.fundingType ?? null,
          u.failureReason !== undefined, u.failureReason ?? null, u.lastEventAt ?? null, u.settled === true,
        ],
      );
    },

    async setRefund(depositId: string, refundStatus: RefundStatus, pspRefundId?: string): Promise<void> {
      await db.query(
        `update payments.deposits set refund_status = $2, psp_refund_id = coalesce($3, psp_refund_id), updated_at = now() where deposit_id = $1`,
        [depositId, refundStatus, pspRefundId ?? null],
      );
    },

    /** Per period: the limit in force now, a pending change, and what counted deposits used in the window. */
    async limitState(playerId: string, currency: string): Promise<LimitState[]> {
      return db.query<LimitState & Record<string, unknown>>(
        `with periods (period, window_hours) as (values ('daily', $3::int), ('weekly', $4::int), ('monthly', $5::int))
         select p.period,
                a.amount_minor as "activeMinor",
                pe.change_id as "pendingChangeId", pe.amount_minor as "pendingMinor", pe.effective_at as "pendingEffectiveAt",
                (select coalesce(sum(d.amount_minor), 0)::bigint from payments.deposits d
                  where d.player_id = $1 and d.currency = $2 and d.status = any($6::text[])
                    and d.created_at > now() - make_interval(hours => p.window_hours)) as "usedMinor"
           from periods p
           left join lateral (
             select c.amount_minor from payments.deposit_limit_changes c
              where c.player_id = $1 and c.currency = $2 and c.period = p.period and c.cancelled_at is null and c.effective_at <= now()
              order by c.effective_at desc, c.change_id desc limit 1) a on true
           left join lateral (
             select c.change_id, c.amount_minor, c.effective_at from payments.deposit_limit_changes c
              where c.player_id = $1 and c.currency = $2 and c.period = p.period and c.cancelled_at is null and c.effective_at > now()
              order by c.effective_at desc, c.change_id desc limit 1) pe on true`,
        [playerId, currency, WINDOW_HOURS.daily, WINDOW_HOURS.weekly, WINDOW_HOURS.monthly, COUNTED],
      );
    },

    async cancelPendingLimit(playerId: string, currency: string, period: Period): Promise<void> {
      await db.query(
        `update payments.deposit_limit_changes set cancelled_at = now()
          where player_id = $1 and currency = $2 and period = $3 and cancelled_at is null and effective_at > now()`,
        [playerId, currency, period],
      );
    },

    /** `delayed`: effective after the cooling-off; else at once. Returns when it takes effect. */
    async insertLimitChange(playerId: string, currency: string, period: Period, amountMinor: bigint | null, delayed: boolean): Promise<Date> {
      const row = await db.one<{ effectiveAt: Date }>(
        `insert into payments.deposit_limit_changes (player_id, currency, period, amount_minor, effective_at)
         values ($1, $2, $3, $4, now() + make_interval(hours => $5)) returning effective_at as "effectiveAt"`,
        [playerId, currency, period, amountMinor, delayed ? COOLING_OFF_HOURS : 0],
      );
      return row.effectiveAt;
    },
  };
}

export type DepositRepository = ReturnType<typeof depositRepository>;
