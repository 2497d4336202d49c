/** The ledger's reads: balances, transfers, an account's history and the operators' account list. */
import type { Ledger } from '../contract.ts';
import { checkAccountRef, normalizeId } from './commands.ts';
import { LedgerErrors } from './errors.ts';
import type { AccountSummary, LedgerRepository } from './repository.ts';

const PAGE_LIMIT_MAX = 200;

const encodeCursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decodeCursor<T>(cursor: string | undefined, valid: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v: unknown = cursor.length <= 512 ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
    if (valid(v)) return v;
  } catch {
    // fall through: a cursor we did not write
  }
  throw LedgerErrors.invalid('cursor', 'is not a cursor this API returned');
}

function pageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) throw LedgerErrors.invalid('limit', `must be 1..${PAGE_LIMIT_MAX}`);
}

export function createLedgerReads(repository: LedgerRepository): Pick<Ledger, 'balance' | 'getTransfer' | 'history'> & {
  listAccounts(filter: { type?: string; ownerId?: string; currency?: string; cursor?: string; limit: number }): Promise<{ items: AccountSummary[]; nextCursor?: string }>;
} {
  return {
    async balance(account) {
      return repository.balance(checkAccountRef(account, 'account'));
    },
    async getTransfer(transferId) {
      return repository.getTransfer(normalizeId(transferId, 'transferId'));
    },
    async history(account, page) {
      checkAccountRef(account, 'account');
      pageLimit(page.limit);
      const before = decodeCursor(page.cursor, (v): v is string => typeof v === 'string' && /^[0-9]{1,19}$/.test(v));
      const { items } = await repository.history(account, { limit: page.limit + 1, ...(before ? { beforeSeq: BigInt(before) } : {}), ...(page.since ? { since: page.since } : {}), ...(page.until ? { until: page.until } : {}) });
      const shown = items.slice(0, page.limit);
      const out: Awaited<ReturnType<Ledger['history']>> = { items: shown.map(({ seq: _seq, ...item }) => item) };
      if (items.length > page.limit) out.nextCursor = encodeCursor(shown.at(-1)!.seq.toString());
      return out;
    },
    async listAccounts(filter) {
      pageLimit(filter.limit);
      const after = decodeCursor(filter.cursor, (v): v is [string, string, string] => Array.isArray(v) && v.length === 3 && v.every((s) => typeof s === 'string'));
      const items = await repository.listAccounts({ ...filter, limit: filter.limit + 1, ...(after ? { after } : {}) });
      const shown = items.slice(0, filter.limit);
      const last = shown.at(-1);
      return items.length > filter.limit && last ? { items: shown, nextCursor: encodeCursor([last.account.type, last.account.ownerId, last.account.currency]) } : { items: shown };
    },
  };
}
