/**
 * Test support for the ledger tests: the platform (identity + payments), a second Ledger on the same
 * database for funding wallets the way deposits do, and the books checked straight in SQL.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, type Db } from '@verity/kernel';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { paymentsModule, type PaymentsService } from '@verity/payments';
import type { AccountRef } from '../../src/contract.ts';
import { createLedger, DEFAULT_BATCHING, type LedgerEngine } from '../../src/ledger/ledger.ts';

export interface LedgerPlatform {
  platform: TestPlatform;
  payments: PaymentsService;
  /** The same books, for what the PaymentsService does not do (deposits, operator transfers). */
  ledger: LedgerEngine;
}

export async function startLedgerPlatform(env: Record<string, string> = {}): Promise<LedgerPlatform> {
  const platform = await startTestPlatform({ modules: [identityModule, paymentsModule], env: { PAYMENTS_HOUSE_SHARDS: '4', ...env } });
  const ledger = createLedger({ db: platform.db, log: createLogger('silent'), houseShards: 4, batching: DEFAULT_BATCHING });
  return { platform, payments: platform.service<PaymentsService>('payments'), ledger };
}

export const walletOf = (playerId: string, currency = 'GBP'): AccountRef => ({ type: 'player_wallet', ownerId: playerId, currency });
export const houseOf = (competitionId: string, currency = 'GBP'): AccountRef => ({ type: 'house_sales', ownerId: competitionId, currency });
export const clearing = (currency = 'GBP'): AccountRef => ({ type: 'psp_clearing', ownerId: 'test-psp', currency });

/** A deposit booked the way the deposits part books one: PSP clearing → wallet. */
export async function deposit(ledger: LedgerEngine, playerId: string, amountMinor: bigint, currency = 'GBP'): Promise<string> {
  const transferId = randomUUID();
  await ledger.transfer({ transferId, kind: 'deposit', debit: clearing(currency), credit: walletOf(playerId, currency), amountMinor });
  return transferId;
}

export interface Books {
  /** Sum of all entries per currency (must be 0). */
  entrySums: Record<string, bigint>;
  /** Accounts whose posted balance differs from the sum of their entries. */
  balanceMismatches: number;
  /** Accounts whose holds differ from their pending transfers. */
  holdMismatches: number;
  /** Transfers whose entries do not sum to zero. */
  unbalancedTransfers: number;
  negativeWallets: number;
}

/** Reads the books in one snapshot, straight from the tables: what reconciliation proves. */
export async function readBooks(db: Db): Promise<Books> {
  return db.tx(async () => {
    const sums = await db.query<{ currency: string; total: bigint }>('select currency, sum(amount)::bigint as total from payments.entries group by currency');
    const row = await db.one<{ balances: bigint; holds: bigint; unbalanced: bigint; negative: bigint }>(
      `select
         (select count(*) from payments.accounts a
           where a.posted_credits - a.posted_debits <> coalesce((select sum(e.amount) from payments.entries e where e.account_id = a.id), 0)) as balances,
         (select count(*) from payments.accounts a
           where a.pending_debits <> coalesce((select sum(t.amount) from payments.transfers t where t.debit_account_id = a.id and t.state = 'pending'), 0)
              or a.pending_credits <> coalesce((select sum(t.amount) from payments.transfers t where t.credit_account_id = a.id and t.state = 'pending'), 0)) as holds,
         (select count(*) from (select transfer_id from payments.entries group by transfer_id, currency having sum(amount) <> 0) x) as unbalanced,
         (select count(*) from payments.accounts where type = 'player_wallet' and posted_credits - posted_debits - pending_debits < 0) as negative`,
    );
    return {
      entrySums: Object.fromEntries(sums.map((s) => [s.currency, s.total])),
      balanceMismatches: Number(row.balances),
      holdMismatches: Number(row.holds),
      unbalancedTransfers: Number(row.unbalanced),
      negativeWallets: Number(row.negative),
    };
  }, { isolation: 'repeatable read', readOnly: true });
}

/** Events the payments outbox holds of one type, for one subject (transfer id). */
export async function eventsOf(db: Db, type: string, subject?: string): Promise<Record<string, unknown>[]> {
  const rows = await db.query<{ data: Record<string, unknown> }>(
    'select data from payments.outbox where type = $1 and ($2::text is null or subject = $2) order by position',
    [type, subject ?? null],
  );
  return rows.map((r) => r.data);
}
