/**
 * The wallet's read model in SQL: which currencies a player holds, and lifetime deposits and
 * withdrawals (from the ledger's clearing movements and the paid withdrawals).
 */
import type { Db } from '@verity/kernel';

export interface LifetimeTotals {
  /** Money in from the PSP, less money refunded to the card. */
  depositsMinor: bigint;
  /** Paid withdrawals. */
  withdrawalsMinor: bigint;
}

/** A returned payout credits the wallet from the PSP's clearing account too, but it is no deposit. */
const NOT_DEPOSIT_KINDS = ['payout-reversal'];

export function createWalletRepository(db: Db) {
  return {
    async walletCurrencies(playerId: string): Promise<string[]> {
      const rows = await db.query<{ currency: string }>(
        "select distinct currency from payments.accounts where type = 'player_wallet' and owner_id = $1 order by currency",
        [playerId],
      );
      return rows.map((r) => r.currency);
    },

    async lifetimeTotals(playerId: string): Promise<Map<string, LifetimeTotals>> {
      const deposits = await db.query<{ currency: string; total: bigint }>(
        `with wallet as (select id from payments.accounts where type = 'player_wallet' and owner_id = $1),
              clearing as (select id from payments.accounts where type = 'psp_clearing')
         select t.currency,
                (coalesce(sum(t.amount) filter (where t.credit_account_id in (select id from wallet)), 0)
                 - coalesce(sum(t.amount) filter (where t.debit_account_id in (select id from wallet)), 0))::bigint as total
           from payments.transfers t
          where t.phase in ('single', 'post') and t.state = 'posted' and not (t.kind = any($2::text[]))
            and ((t.credit_account_id in (select id from wallet) and t.debit_account_id in (select id from clearing))
              or (t.debit_account_id in (select id from wallet) and t.credit_account_id in (select id from clearing)))
          group by t.currency`,
        [playerId, NOT_DEPOSIT_KINDS],
      );
      const withdrawals = await db.query<{ currency: string; total: bigint }>(
        "select currency, sum(amount_minor)::bigint as total from payments.withdrawals where player_id = $1 and status = 'paid' group by currency",
        [playerId],
      );
      const out = new Map<string, LifetimeTotals>();
      const at = (c: string) => out.get(c) ?? out.set(c, { depositsMinor: 0n, withdrawalsMinor: 0n }).get(c)!;
      for (const d of deposits) at(d.currency).depositsMinor = d.total;
      for (const w of withdrawals) at(w.currency).withdrawalsMinor = w.total;
      return out;
    },
  };
}

export type WalletRepository = ReturnType<typeof createWalletRepository>;
