/**
 * SQL of finance exceptions and reconciliation runs (payments.finance_exceptions,
 * payments.reconciliation_runs), and the read-only integrity queries over the ledger's tables.
 */
import type { Db } from '@verity/kernel';

export const EXCEPTION_KINDS = [
  'entries-unbalanced', 'balance-mismatch',
  'settlement-missing', 'settlement-extra', 'settlement-amount-mismatch',
  'payout-failed', 'payout-unknown', 'payout-returned', 'payout-hold-lost', 'payout-event-mismatch',
] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];
export type ExceptionStatus = 'open' | 'resolved';

export interface FinanceExceptionRecord {
  id: string;
  kind: ExceptionKind;
  fingerprint: string;
  currency: string | null;
  details: Record<string, unknown>;
  status: ExceptionStatus;
  runId: string | null;
  caseId: string | null;
  detectedAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

interface ExceptionRow extends Record<string, unknown> {
  id: string;
  kind: ExceptionKind;
  fingerprint: string;
  currency: string | null;
  details: Record<string, unknown>;
  status: ExceptionStatus;
  run_id: string | null;
  case_id: string | null;
  detected_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

const EXCEPTION_COLUMNS = 'id, kind, fingerprint, currency, details, status, run_id, case_id, detected_at, resolved_at, resolved_by, resolution_note';

const toException = (r: ExceptionRow): FinanceExceptionRecord => ({
  id: r.id,
  kind: r.kind,
  fingerprint: r.fingerprint,
  currency: r.currency,
  details: r.details,
  status: r.status,
  runId: r.run_id,
  caseId: r.case_id,
  detectedAt: r.detected_at,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  resolutionNote: r.resolution_note,
});

/** Keyset position in a newest-first list. */
export interface ListPosition {
  at: Date;
  id: string;
}

export interface RunRecord {
  id: string;
  trigger: 'scheduled' | 'manual';
  requestedBy: string;
  settlementDay: string;
  status: 'running' | 'completed' | 'failed';
  report: unknown;
  discrepancies: number;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface CurrencyImbalance {
  currency: string;
  sumMinor: bigint;
}

export interface BalanceMismatch {
  accountId: string;
  type: string;
  ownerId: string;
  currency: string;
  /** posted credits − posted debits as the account row holds them. */
  storedMinor: bigint;
  /** The sum of the account's entries. */
  entriesMinor: bigint;
  pendingDebitsMinor: bigint;
  /** Pending holds debiting the account. */
  holdsOutMinor: bigint;
  pendingCreditsMinor: bigint;
  holdsInMinor: bigint;
}

export interface ClearingMovement {
  transferId: string;
  kind: string;
  amountMinor: bigint;
  currency: string;
  at: Date;
  metadata: Record<string, unknown>;
  /** Money came from the PSP (the clearing account was debited): a payment. */
  inbound: boolean;
}

const INTEGRITY_STATEMENT_TIMEOUT = '10min';
const SAMPLE_MAX = 20;

export function createReconciliationRepository(db: Db) {
  return {
    /** Inserts an open exception unless one with the same fingerprint is open already. */
    async insertException(e: { id: string; kind: ExceptionKind; fingerprint: string; currency?: string; details: Record<string, unknown>; runId?: string }): Promise<FinanceExceptionRecord | undefined> {
      const row = await db.maybeOne<ExceptionRow>(
        `insert into payments.finance_exceptions (id, kind, fingerprint, currency, details, run_id)
         values ($1, $2, $3, $4, $5::jsonb, $6)
         on conflict (fingerprint) where status = 'open' do nothing
         returning ${EXCEPTION_COLUMNS}`,
        [e.id, e.kind, e.fingerprint, e.currency ?? null, JSON.stringify(e.details, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), e.runId ?? null],
      );
      return row && toException(row);
    },

    async getException(id: string): Promise<FinanceExceptionRecord | undefined> {
      const row = await db.maybeOne<ExceptionRow>(`select ${EXCEPTION_COLUMNS} from payments.finance_exceptions where id = $1`, [id]);
      return row && toException(row);
    },

    async listExceptions(q: { status?: ExceptionStatus; kind?: ExceptionKind; after?: ListPosition; limit: number }): Promise<FinanceExceptionRecord[]> {
      const rows = await db.query<ExceptionRow>(
        `select ${EXCEPTION_COLUMNS} from payments.finance_exceptions
          where ($1::text is null or status = $1) and ($2::text is null or kind = $2)
            and ($3::timestamptz is null or (detected_at, id) < ($3, $4::uuid))
          order by detected_at desc, id desc limit $5`,
        [q.status ?? null, q.kind ?? null, q.after?.at ?? null, q.after?.id ?? null, q.limit],
      );
      return rows.map(toException);
    },

    async resolveException(id: string, by: string, note: string): Promise<FinanceExceptionRecord | undefined> {
      const row = await db.maybeOne<ExceptionRow>(
        `update payments.finance_exceptions set status = 'resolved', resolved_at = clock_timestamp(), resolved_by = $2, resolution_note = $3
          where id = $1 and status = 'open' returning ${EXCEPTION_COLUMNS}`,
        [id, by, note],
      );
      return row && toException(row);
    },

    async setCaseId(id: string, caseId: string): Promise<void> {
      await db.query('update payments.finance_exceptions set case_id = $2 where id = $1 and case_id is null', [id, caseId]);
    },

    /** Open payout exceptions that still have no compliance case (the case could not be opened yet). */
    async exceptionsWithoutCase(kinds: readonly ExceptionKind[], limit: number): Promise<FinanceExceptionRecord[]> {
      const rows = await db.query<ExceptionRow>(
        `select ${EXCEPTION_COLUMNS} from payments.finance_exceptions
          where status = 'open' and case_id is null and kind = any($1::text[]) order by detected_at limit $2`,
        [kinds, limit],
      );
      return rows.map(toException);
    },

    async insertRun(r: { id: string; trigger: RunRecord['trigger']; requestedBy: string; settlementDay: string }): Promise<void> {
      await db.query(
        `insert into payments.reconciliation_runs (id, trigger, requested_by, settlement_day, status) values ($1, $2, $3, $4::date, 'running')`,
        [r.id, r.trigger, r.requestedBy, r.settlementDay],
      );
    },

    async finishRun(id: string, status: 'completed' | 'failed', report: unknown, discrepancies: number): Promise<void> {
      await db.query(
        `update payments.reconciliation_runs set status = $2, report = $3::jsonb, discrepancies = $4, finished_at = clock_timestamp() where id = $1`,
        [id, status, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), discrepancies],
      );
    },

    /**
     * Ledger-wide checks over one snapshot (repeatable read, read only), with room for a large ledger
     * (the pool's statement timeout is for requests, not for a nightly scan).
     */
    async integritySnapshot<T>(fn: () => Promise<T>): Promise<T> {
      return db.tx(async () => {
        await db.query(`set local statement_timeout = '${INTEGRITY_STATEMENT_TIMEOUT}'`);
        return fn();
      }, { isolation: 'repeatable read', readOnly: true });
    },

    /** Currencies whose entries do not sum to zero, each with a few transfers that do not either. */
    async unbalancedCurrencies(limit: number): Promise<(CurrencyImbalance & { transferIds: string[] })[]> {
      const totals = await db.query<{ currency: string; total: bigint }>(
        'select currency, sum(amount)::bigint as total from payments.entries group by currency having sum(amount) <> 0 order by currency limit $1',
        [limit],
      );
      const out: (CurrencyImbalance & { transferIds: string[] })[] = [];
      for (const t of totals) {
        const bad = await db.query<{ transfer_id: string }>(
          'select transfer_id from payments.entries where currency = $1 group by transfer_id having sum(amount) <> 0 limit $2',
          [t.currency, SAMPLE_MAX],
        );
        out.push({ currency: t.currency, sumMinor: t.total, transferIds: bad.map((b) => b.transfer_id) });
      }
      return out;
    },

    /** Accounts whose stored posted balance differs from the sum of their entries, or whose holds differ from their pending transfers. */
    async balanceMismatches(limit: number): Promise<BalanceMismatch[]> {
      const rows = await db.query<Record<string, any>>(
        `with sums as (select account_id, sum(amount)::bigint as total from payments.entries group by account_id),
              holds_out as (select debit_account_id as account_id, sum(amount)::bigint as total from payments.transfers
                             where phase = 'pending' and state = 'pending' group by debit_account_id),
              holds_in as (select credit_account_id as account_id, sum(amount)::bigint as total from payments.transfers
                            where phase = 'pending' and state = 'pending' group by credit_account_id)
         select a.id::text as account_id, a.type, a.owner_id, a.currency,
                (a.posted_credits - a.posted_debits)::bigint as stored, coalesce(s.total, 0)::bigint as entries,
                a.pending_debits, coalesce(ho.total, 0)::bigint as holds_out, a.pending_credits, coalesce(hi.total, 0)::bigint as holds_in
           from payments.accounts a
           left join sums s on s.account_id = a.id
           left join holds_out ho on ho.account_id = a.id
           left join holds_in hi on hi.account_id = a.id
          where a.posted_credits - a.posted_debits <> coalesce(s.total, 0)
             or a.pending_debits <> coalesce(ho.total, 0) or a.pending_credits <> coalesce(hi.total, 0)
          order by a.id limit $1`,
        [limit],
      );
      return rows.map((r) => ({
        accountId: r.account_id, type: r.type, ownerId: r.owner_id, currency: r.currency,
        storedMinor: r.stored, entriesMinor: r.entries,
        pendingDebitsMinor: r.pending_debits, holdsOutMinor: r.holds_out, pendingCreditsMinor: r.pending_credits, holdsInMinor: r.holds_in,
      }));
    },

    /**
     * Our posted movements through a PSP's clearing account in [from, to): what its settlement
     * report should list. Served by the ledger's per-account history indexes.
     */
    async clearingMovements(provider: string, from: Date, to: Date, limit: number): Promise<ClearingMovement[]> {
      const rows = await db.query<Record<string, any>>(
        `with clearing as (select id from payments.accounts where type = 'psp_clearing' and owner_id = $1)
         (select t.id, t.kind, t.amount, t.currency, t.created_at, t.metadata, true as inbound from payments.transfers t
           where t.debit_account_id in (select id from clearing) and t.phase in ('single', 'post') and t.state = 'posted'
             and t.created_at >= $2 and t.created_at < $3)
         union all
         (select t.id, t.kind, t.amount, t.currency, t.created_at, t.metadata, false as inbound from payments.transfers t
           where t.credit_account_id in (select id from clearing) and t.phase in ('single', 'post') and t.state = 'posted'
             and t.created_at >= $2 and t.created_at < $3)
         limit $4`,
        [provider, from, to, limit],
      );
      return rows.map((r) => ({ transferId: r.id, kind: r.kind, amountMinor: r.amount, currency: r.currency, at: r.created_at, metadata: r.metadata, inbound: r.inbound }));
    },

    /** The UTC day before the database's today, as YYYY-MM-DD. */
    async yesterdayUtc(): Promise<string> {
      const row = await db.one<{ day: string }>(`select to_char((clock_timestamp() at time zone 'UTC')::date - 1, 'YYYY-MM-DD') as day`);
      return row.day;
    },
  };
}

export type ReconciliationRepository = ReturnType<typeof createReconciliationRepository>;
