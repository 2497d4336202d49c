/**
 * The ledger's SQL. Commands go through `payments.ledger_run` (0004_ledger_set_based.sql, which falls back
 * to 0001's `payments.ledger_apply`): the money logic lives next to the constraints it relies on. Reads
 * are plain queries. Rows never leave this file: callers get TransferView / BalanceView / HistoryItem.
 */
import type { Db } from '@verity/kernel';
import type { AccountRef, AccountType, BalanceView, HistoryItem, TransferState, TransferView } from '../contract.ts';
import type { WireCommand } from './runner.ts';

/** A transfer as `payments.ledger_view` renders it (reads). */
interface TransferJson {
  id: string;
  phase: 'single' | 'pending' | 'post' | 'void';
  kind: string;
  state: TransferState;
  amount: string;
  currency: string;
  debit_account_id: number;
  credit_account_id: number;
  pending_id: string | null;
  reverses_id: string | null;
  expires_at: string | null;
  created_at: string;
  metadata: Record<string, unknown>;
}

/** A result of `payments.ledger_run`: the transfer shown, positionally, or a refusal. */
type RunRow = [boolean, string, TransferJson['phase'], string, TransferState, string, string, number, number, string | null, string | null, string | null, string, Record<string, unknown>];
type RunResult = RunRow | ({ ok: false; code: string } & Record<string, unknown>);

function fromRunRow(r: RunRow): { created: boolean; transfer: TransferJson } {
  const [created, id, phase, kind, state, amount, currency, debit, credit, pending, reverses, expires, createdAt, metadata] = r;
  return {
    created,
    transfer: {
      id, phase, kind, state, amount, currency, debit_account_id: debit, credit_account_id: credit,
      pending_id: pending, reverses_id: reverses, expires_at: expires, created_at: createdAt, metadata,
    },
  };
}

/** What `payments.ledger_run` returns: a result per command, and the names of the accounts it locked. */
interface RunOutput {
  r: RunResult[];
  a: Record<string, [AccountType, string]> | null;
}
const RUN_STATEMENT = { name: 'payments.ledger_run', text: 'select payments.ledger_run($1::jsonb, $2, $3) as out' };

/** Account ids → what they are (ids are small integers, safe as JSON numbers). */
type AccountNames = Record<string, { type: AccountType; owner: string }>;

export type ApplyResult =
  | { ok: true; created: boolean; transfer: TransferView }
  | { ok: false; code: string; extra: Record<string, unknown> };

function toTransferView(t: TransferJson, accounts: AccountNames): TransferView {
  const debit = accounts[String(t.debit_account_id)];
  const credit = accounts[String(t.credit_account_id)];
  if (!debit || !credit) throw new Error(`ledger: accounts of transfer ${t.id} missing from the result`);
  const view: TransferView = {
    transferId: t.id,
    kind: t.kind,
    state: t.state,
    debit: { type: debit.type, ownerId: debit.owner, currency: t.currency },
    credit: { type: credit.type, ownerId: credit.owner, currency: t.currency },
    amountMinor: BigInt(t.amount),
    currency: t.currency,
    createdAt: new Date(t.created_at),
    metadata: t.metadata,
  };
  if (t.pending_id) view.pendingTransferId = t.pending_id;
  if (t.reverses_id) view.reversesTransferId = t.reverses_id;
  if (t.expires_at) view.expiresAt = new Date(t.expires_at);
  return view;
}

export interface AccountSummary {
  account: AccountRef;
  shards: number;
  postedDebitsMinor: bigint;
  postedCreditsMinor: bigint;
  pendingDebitsMinor: bigint;
  pendingCreditsMinor: bigint;
  createdAt: Date;
}

/** Account ids seen by this process: an account never changes what it is, so this never goes stale. */
const NAMES_CACHED_MAX = 100_000;

export function createLedgerRepository(db: Db) {
  const names = new Map<string, { type: AccountType; owner: string }>();

  /** Remembers account names a batch returned with its results. */
  function learnNames(known: Record<string, [AccountType, string]> | null): void {
    if (!known) return;
    const fresh = Object.keys(known).filter((id) => !names.has(id));
    if (names.size + fresh.length > NAMES_CACHED_MAX) names.clear();
    for (const id of fresh) names.set(id, { type: known[id]![0], owner: known[id]![1] });
  }

  /** What the accounts of a batch's results are: from the cache, the rest in one query. */
  async function accountNames(ids: readonly number[]): Promise<AccountNames> {
    const missing = [...new Set(ids.map(String))].filter((id) => !names.has(id));
    if (missing.length) {
      const rows = await db.query<{ id: bigint; type: AccountType; owner_id: string }>('select id, type, owner_id from payments.accounts where id = any($1::bigint[])', [missing]);
      if (names.size + rows.length > NAMES_CACHED_MAX) names.clear();
      for (const r of rows) names.set(String(r.id), { type: r.type, owner: r.owner_id });
    }
    return Object.fromEntries(ids.map((id) => [String(id), names.get(String(id))!]));
  }

  return {
    /**
     * One statement for the whole batch: in the ambient transaction, else a transaction of its own. A
     * named statement, parsed once per connection: at one command per flush, parsing it every time cost
     * ~10 % of the server's time.
     */
    async apply(commands: readonly WireCommand[], isolate: boolean, now?: Date): Promise<ApplyResult[]> {
      const values = [JSON.stringify(commands), isolate, now ?? null];
      const { rows } = await (db.currentClient() ?? db.pool).query<{ out: RunOutput }>({ ...RUN_STATEMENT, values });
      const out = rows[0]!.out;
      learnNames(out.a);
      const shown = out.r.map((r) => (Array.isArray(r) ? fromRunRow(r) : undefined));
      const names = await accountNames(shown.flatMap((s) => (s ? [s.transfer.debit_account_id, s.transfer.credit_account_id] : [])));
      return out.r.map((r, i) => {
        const s = shown[i];
        if (s) return { ok: true, created: s.created, transfer: toTransferView(s.transfer, names) };
        const { ok: _ok, code, ...extra } = r as { ok: false; code: string } & Record<string, unknown>;
        return { ok: false, code, extra };
      });
    },

    async getTransfer(id: string): Promise<TransferView | undefined> {
      const row = await db.maybeOne<{ v: TransferJson; accounts: AccountNames }>(
        `select payments.ledger_view(t) as v,
                (select jsonb_object_agg(a.id, jsonb_build_object('type', a.type, 'owner', a.owner_id)) from payments.accounts a
                  where a.id in (t.debit_account_id, t.credit_account_id)) as accounts
           from payments.transfers t where t.id = $1`,
        [id],
      );
      return row ? toTransferView(row.v, row.accounts) : undefined;
    },

    async balance(account: AccountRef): Promise<BalanceView> {
      const row = await db.one<{ posted: bigint; reserved: bigint }>(
        `select coalesce(sum(posted_credits - posted_debits), 0)::bigint as posted, coalesce(sum(pending_debits), 0)::bigint as reserved
           from payments.accounts where type = $1 and owner_id = $2 and currency = $3`,
        [account.type, account.ownerId, account.currency],
      );
      return { account, postedMinor: row.posted, reservedMinor: row.reserved, availableMinor: row.posted - row.reserved, currency: account.currency };
    },

    /**
     * Movements of one account, newest first: single transfers, refunds, and each reservation once
     * (its post or void is shown as the reservation's state; a posted one with the amount posted).
     */
    async history(account: AccountRef, page: { beforeSeq?: bigint; limit: number; since?: Date; until?: Date }): Promise<{ items: (HistoryItem & { seq: bigint })[] }> {
      const rows = await db.query<{ id: string; kind: string; state: TransferState; amount: bigint; posted: bigint | null; currency: string; created_at: Date; metadata: Record<string, unknown>; seq: bigint; is_credit: boolean }>(
        `with acc as (select id from payments.accounts where type = $1 and owner_id = $2 and currency = $3),
         t as (
           (select tr.*, false as is_credit from payments.transfers tr
             where tr.debit_account_id in (select id from acc) and tr.pending_id is null
               and ($4::bigint is null or tr.seq < $4) and ($5::timestamptz is null or tr.created_at >= $5) and ($7::timestamptz is null or tr.created_at < $7)
             order by tr.seq desc limit $6)
           union all
           (select tr.*, true as is_credit from payments.transfers tr
             where tr.credit_account_id in (select id from acc) and tr.pending_id is null
               and ($4::bigint is null or tr.seq < $4) and ($5::timestamptz is null or tr.created_at >= $5) and ($7::timestamptz is null or tr.created_at < $7)
             order by tr.seq desc limit $6))
         select t.id, t.kind, t.state, t.amount, p.amount as posted, t.currency, t.created_at, t.metadata, t.seq, t.is_credit
           from t left join payments.transfers p on p.pending_id = t.id and p.phase = 'post'
          order by t.seq desc limit $6`,
        [account.type, account.ownerId, account.currency, page.beforeSeq ?? null, page.since ?? null, page.limit, page.until ?? null],
      );
      return {
        items: rows.map((r) => {
          const magnitude = r.posted ?? r.amount;
          return { transferId: r.id, kind: r.kind, state: r.state, amountMinor: r.is_credit ? magnitude : -magnitude, currency: r.currency, at: r.created_at, metadata: r.metadata, seq: r.seq };
        }),
      };
    },

    /** Accounts with their balances summed over shards, in key order after `after`. */
    async listAccounts(filter: { type?: string; ownerId?: string; currency?: string; after?: [string, string, string]; limit: number }): Promise<AccountSummary[]> {
      const rows = await db.query<{ type: AccountType; owner_id: string; currency: string; shards: number; pd: bigint; pc: bigint; qd: bigint; qc: bigint; created_at: Date }>(
        `select type, owner_id, currency, count(*)::int as shards, sum(posted_debits)::bigint as pd, sum(posted_credits)::bigint as pc,
                sum(pending_debits)::bigint as qd, sum(pending_credits)::bigint as qc, min(created_at) as created_at
           from payments.accounts
          where ($1::text is null or type = $1) and ($2::text is null or owner_id = $2) and ($3::text is null or currency = $3)
            and ($4::text is null or (type, owner_id, currency) > ($4, $5, $6))
          group by type, owner_id, currency
          order by type, owner_id, currency
          limit $7`,
        [filter.type ?? null, filter.ownerId ?? null, filter.currency ?? null, filter.after?.[0] ?? null, filter.after?.[1] ?? null, filter.after?.[2] ?? null, filter.limit],
      );
      return rows.map((r) => ({
        account: { type: r.type, ownerId: r.owner_id, currency: r.currency },
        shards: r.shards,
        postedDebitsMinor: r.pd,
        postedCreditsMinor: r.pc,
        pendingDebitsMinor: r.qd,
        pendingCreditsMinor: r.qc,
        createdAt: r.created_at,
      }));
    },

    /** Holds past their expiry, oldest first. */
    async dueReservations(limit: number, now?: Date): Promise<string[]> {
      const rows = await db.query<{ id: string }>(
        `select id from payments.transfers where state = 'pending' and expires_at <= coalesce($1::timestamptz, now()) order by expires_at limit $2`,
        [now ?? null, limit],
      );
      return rows.map((r) => r.id);
    },

    /** Whole seconds at which the next holds expire, within `withinS` from now (for precise timers). */
    async upcomingExpiries(withinS: number, limit: number): Promise<Date[]> {
      const rows = await db.query<{ at: Date }>(
        `select distinct date_trunc('second', expires_at) + interval '1 second' as at from payments.transfers
          where state = 'pending' and expires_at <= now() + make_interval(secs => $1) order by at limit $2`,
        [withinS, limit],
      );
      return rows.map((r) => r.at);
    },
  };
}

export type LedgerRepository = ReturnType<typeof createLedgerRepository>;
