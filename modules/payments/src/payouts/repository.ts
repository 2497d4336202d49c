/** SQL of withdrawals and their approval decisions (payments.withdrawals, payments.withdrawal_decisions). */
import type { Db } from '@verity/kernel';

export const WITHDRAWAL_STATUSES = ['awaiting_approval', 'approved', 'submitting', 'processing', 'unknown', 'paid', 'failed', 'rejected', 'cancelled', 'reversed'] as const;
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];
/** Sent (or maybe sent) to the PSP, outcome not yet known. */
export const IN_FLIGHT: readonly WithdrawalStatus[] = ['submitting', 'processing', 'unknown'];
/** Still holding money: anything not final. */
export const OPEN: readonly WithdrawalStatus[] = ['awaiting_approval', 'approved', ...IN_FLIGHT];

export interface Withdrawal {
  id: string;
  playerId: string;
  amountMinor: bigint;
  currency: string;
  provider: string;
  destination: string;
  status: WithdrawalStatus;
  requesterKind: 'player' | 'operator';
  requesterId: string;
  reason: string | null;
  approvalsRequired: number;
  holdTransferId: string;
  pspPayoutId: string | null;
  failureReason: string | null;
  attempts: number;
  submittedAt: Date | null;
  lastPspEventAt: Date | null;
  exceptionAt: Date | null;
  decidedAt: Date | null;
  paidAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Decision {
  operatorId: string;
  decision: 'approved' | 'rejected';
  note: string | null;
  decidedAt: Date;
}

const COLUMNS = `id, player_id, amount_minor, currency, provider, destination, status, requester_kind, requester_id, reason,
  approvals_required, hold_transfer_id, psp_payout_id, failure_reason, attempts, submitted_at, last_psp_event_at,
  exception_at, decided_at, paid_at, closed_at, created_at, updated_at`;

type Row = Record<string, any>;

const toWithdrawal = (r: Row): Withdrawal => ({
  id: r.id,
  playerId: r.player_id,
  amountMinor: r.amount_minor,
  currency: r.currency,
  provider: r.provider,
  destination: r.destination,
  status: r.status,
  requesterKind: r.requester_kind,
  requesterId: r.requester_id,
  reason: r.reason,
  approvalsRequired: r.approvals_required,
  holdTransferId: r.hold_transfer_id,
  pspPayoutId: r.psp_payout_id,
  failureReason: r.failure_reason,
  attempts: r.attempts,
  submittedAt: r.submitted_at,
  lastPspEventAt: r.last_psp_event_at,
  exceptionAt: r.exception_at,
  decidedAt: r.decided_at,
  paidAt: r.paid_at,
  closedAt: r.closed_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The columns a state change may set (besides status and updated_at). */
export interface WithdrawalChange {
  pspPayoutId?: string | null;
  failureReason?: string | null;
  lastPspEventAt?: Date;
  exceptionAt?: Date;
  decidedAt?: Date;
  paidAt?: Date;
  closedAt?: Date;
}

const CHANGE_COLUMNS: Record<keyof WithdrawalChange, string> = {
  pspPayoutId: 'psp_payout_id',
  failureReason: 'failure_reason',
  lastPspEventAt: 'last_psp_event_at',
  exceptionAt: 'exception_at',
  decidedAt: 'decided_at',
  paidAt: 'paid_at',
  closedAt: 'closed_at',
};

export interface ListQuery {
  playerId?: string;
  statuses?: readonly WithdrawalStatus[];
  after?: { at: Date; id: string };
  limit: number;
}

export function createPayoutsRepository(db: Db) {
  return {
    async insert(w: Pick<Withdrawal, 'id' | 'playerId' | 'amountMinor' | 'currency' | 'provider' | 'destination' | 'status' | 'requesterKind' | 'requesterId' | 'reason' | 'approvalsRequired' | 'holdTransferId'>): Promise<Withdrawal> {
      const row = await db.one<Row>(
        `insert into payments.withdrawals (id, player_id, amount_minor, currency, provider, destination, status, requester_kind, requester_id, reason, approvals_required, hold_transfer_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning ${COLUMNS}`,
        [w.id, w.playerId, w.amountMinor, w.currency, w.provider, w.destination, w.status, w.requesterKind, w.requesterId, w.reason, w.approvalsRequired, w.holdTransferId],
      );
      return toWithdrawal(row);
    },

    async get(id: string): Promise<Withdrawal | undefined> {
      const row = await db.maybeOne<Row>(`select ${COLUMNS} from payments.withdrawals where id = $1`, [id]);
      return row && toWithdrawal(row);
    },

    /** Locks the row for the rest of the transaction: every state change of a withdrawal goes through this. */
    async lock(id: string): Promise<Withdrawal | undefined> {
      const row = await db.maybeOne<Row>(`select ${COLUMNS} from payments.withdrawals where id = $1 for update`, [id]);
      return row && toWithdrawal(row);
    },

    async update(id: string, status: WithdrawalStatus, change: WithdrawalChange = {}): Promise<Withdrawal> {
      const sets = ['status = $2', 'updated_at = clock_timestamp()'];
      const params: unknown[] = [id, status];
      for (const [key, column] of Object.entries(CHANGE_COLUMNS) as [keyof WithdrawalChange, string][]) {
        if (change[key] === undefined) continue;
        params.push(change[key]);
        sets.push(`${column} = $${params.length}`);
      }
      return toWithdrawal(await db.one<Row>(`update payments.withdrawals set ${sets.join(', ')} where id = $1 returning ${COLUMNS}`, params));
    },

    /** A send to the PSP is about to start: counted and stamped before the request leaves. */
    async markSubmitting(id: string): Promise<Withdrawal> {
      return toWithdrawal(await db.one<Row>(
        `update payments.withdrawals set status = 'submitting', attempts = attempts + 1, submitted_at = coalesce(submitted_at, clock_timestamp()), updated_at = clock_timestamp()
          where id = $1 returning ${COLUMNS}`,
        [id],
      ));
    },

    async list(q: ListQuery): Promise<Withdrawal[]> {
      const rows = await db.query<Row>(
        `select ${COLUMNS} from payments.withdrawals
          where ($1::text is null or player_id = $1) and ($2::text[] is null or status = any($2))
            and ($3::timestamptz is null or (created_at, id) < ($3, $4::uuid))
          order by created_at desc, id desc limit $5`,
        [q.playerId ?? null, q.statuses ?? null, q.after?.at ?? null, q.after?.id ?? null, q.limit],
      );
      return rows.map(toWithdrawal);
    },

    async insertDecision(d: { withdrawalId: string; operatorId: string; decision: Decision['decision']; note: string | null }): Promise<boolean> {
      const rows = await db.query(
        `insert into payments.withdrawal_decisions (withdrawal_id, operator_id, decision, note) values ($1, $2, $3, $4)
         on conflict do nothing returning 1`,
        [d.withdrawalId, d.operatorId, d.decision, d.note],
      );
      return rows.length === 1;
    },

    async decisions(withdrawalId: string): Promise<Decision[]> {
      const rows = await db.query<Row>(
        'select operator_id, decision, note, decided_at from payments.withdrawal_decisions where withdrawal_id = $1 order by decided_at',
        [withdrawalId],
      );
      return rows.map((r) => ({ operatorId: r.operator_id, decision: r.decision, note: r.note, decidedAt: r.decided_at }));
    },

    /**
     * Where a payout goes: back to the payment the player's latest deposit through this PSP came from
     * (closed loop: only a method that already paid us in, and passed the PSP's checks, is paid out to).
     */
    async payoutDestination(playerId: string, currency: string, provider: string): Promise<string | undefined> {
      const row = await db.maybeOne<{ id: string; metadata: Record<string, unknown> }>(
        `select t.id, t.metadata from payments.transfers t
           join payments.accounts w on w.id = t.credit_account_id
           join payments.accounts c on c.id = t.debit_account_id
          where w.type = 'player_wallet' and w.owner_id = $1 and w.currency = $2 and c.type = 'psp_clearing' and c.owner_id = $3
            and t.phase in ('single', 'post') and t.state = 'posted' and t.kind <> 'payout-reversal'
          order by t.seq desc limit 1`,
        [playerId, currency, provider],
      );
      if (!row) return undefined;
      const m = row.metadata ?? {};
      const paymentId = [m.pspPaymentId, m.pspObjectId].find((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 150);
      return paymentId ? `payment:${paymentId}` : `deposit-transfer:${row.id}`;
    },

    /** Decisions of several withdrawals in one query (lists). */
    async decisionsOf(withdrawalIds: readonly string[]): Promise<Map<string, Decision[]>> {
      const out = new Map<string, Decision[]>(withdrawalIds.map((id) => [id, []]));
      if (withdrawalIds.length === 0) return out;
      const rows = await db.query<Row>(
        'select withdrawal_id, operator_id, decision, note, decided_at from payments.withdrawal_decisions where withdrawal_id = any($1::uuid[]) order by decided_at',
        [withdrawalIds],
      );
      for (const r of rows) out.get(r.withdrawal_id)?.push({ operatorId: r.operator_id, decision: r.decision, note: r.note, decidedAt: r.decided_at });
      return out;
    },

    /** Withdrawals not final whose last change is older than `idleS` seconds: the sweeper's work. */
    async idle(statuses: readonly WithdrawalStatus[], idleS: number, limit: number): Promise<Withdrawal[]> {
      const rows = await db.query<Row>(
        `select ${COLUMNS} from payments.withdrawals
          where status = any($1::text[]) and updated_at < clock_timestamp() - make_interval(secs => $2)
          order by updated_at limit $3`,
        [statuses, idleS, limit],
      );
      return rows.map(toWithdrawal);
    },

    /** First sent more than `ageS` ago, still not final (nor raised as an exception yet). */
    async stuck(ageS: number, limit: number): Promise<Withdrawal[]> {
      const rows = await db.query<Row>(
        `select ${COLUMNS} from payments.withdrawals
          where status = any($1::text[]) and exception_at is null and submitted_at < clock_timestamp() - make_interval(secs => $2)
          order by submitted_at limit $3`,
        [['approved', ...IN_FLIGHT], ageS, limit],
      );
      return rows.map(toWithdrawal);
    },
  };
}

export type PayoutsRepository = ReturnType<typeof createPayoutsRepository>;
