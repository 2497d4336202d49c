/**
 * The wallet part: a player's balances per currency (available, reserved, posted), lifetime net
 * deposits, and the cursor-paginated history of the wallet (as far back as the ledger goes, so
 * well over the 90 days a player must be able to see by themselves).
 */
import { PlayerPermissions, Problems, Strict, type HttpApp } from '@verity/kernel';
import { Type } from 'typebox';
import type { HistoryItem, Ledger, ModulePart, PartContext } from '../contract.ts';
import { Problem } from '../payouts/schemas.ts';
import { walletOf } from '../payouts/withdrawals.ts';
import { LIMIT_DEFAULT } from './paging.ts';
import { createWalletRepository, type WalletRepository } from './repository.ts';

const TAG = 'Wallet';
const bearer = [{ bearer: [] }];
const DEFAULT_CURRENCY = 'GBP';
/** A player holds a handful of currencies at most; more would be a bug, not a feature. */
const CURRENCIES_MAX = 20;
/** Metadata a player may see about a movement: our own ids, never internal notes. */
const VISIBLE_METADATA = ['depositId', 'withdrawalId', 'competitionId', 'drawId', 'purchaseId'] as const;

const Minor = Type.String({ pattern: '^-?[0-9]{1,19}$', description: 'Minor units as a decimal string' });
const WalletBalance = Strict({
  currency: Type.String(),
  availableMinor: Minor,
  reservedMinor: Minor,
  postedMinor: Minor,
  lifetimeDepositsMinor: Minor,
  lifetimeWithdrawalsMinor: Minor,
  lifetimeNetDepositsMinor: Minor,
});
const WalletReply = Strict({ playerId: Type.String(), balances: Type.Array(WalletBalance, { maxItems: CURRENCIES_MAX }) });
const HistoryQuery = Strict({
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', maxLength: 3 })),
  since: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'Inclusive' })),
  until: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'Exclusive' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: LIMIT_DEFAULT })),
});
const Transaction = Strict({
  transferId: Type.String(),
  kind: Type.String(),
  state: Type.Union([Type.Literal('posted'), Type.Literal('pending'), Type.Literal('voided'), Type.Literal('expired')]),
  amountMinor: Minor,
  currency: Type.String(),
  at: Type.String({ format: 'date-time' }),
  details: Type.Optional(Type.Record(Type.String(), Type.String())),
});
const HistoryReply = Strict({ items: Type.Array(Transaction, { maxItems: 200 }), nextCursor: Type.Optional(Type.String()) });

function transactionView(h: HistoryItem) {
  const details: Record<string, string> = {};
  for (const k of VISIBLE_METADATA) if (typeof h.metadata?.[k] === 'string') details[k] = h.metadata[k] as string;
  return {
    transferId: h.transferId, kind: h.kind, state: h.state, amountMinor: h.amountMinor.toString(), currency: h.currency, at: h.at.toISOString(),
    ...(Object.keys(details).length ? { details } : {}),
  };
}

export async function getWallet(ledger: Ledger, repo: WalletRepository, playerId: string) {
  const [held, lifetime] = await Promise.all([repo.walletCurrencies(playerId), repo.lifetimeTotals(playerId)]);
  const currencies = [...new Set([DEFAULT_CURRENCY, ...held, ...lifetime.keys()])].sort().slice(0, CURRENCIES_MAX);
  const balances = [];
  for (const currency of currencies) {
    const b = await ledger.balance(walletOf(playerId, currency));
    const t = lifetime.get(currency) ?? { depositsMinor: 0n, withdrawalsMinor: 0n };
    balances.push({
      currency, availableMinor: b.availableMinor.toString(), reservedMinor: b.reservedMinor.toString(), postedMinor: b.postedMinor.toString(),
      lifetimeDepositsMinor: t.depositsMinor.toString(), lifetimeWithdrawalsMinor: t.withdrawalsMinor.toString(),
      lifetimeNetDepositsMinor: (t.depositsMinor - t.withdrawalsMinor).toString(),
    });
  }
  return { playerId, balances };
}

function walletRoutes(app: HttpApp, ctx: PartContext, ledger: Ledger, repo: WalletRepository): void {
  const player = ctx.auth.require([PlayerPermissions.walletReadOwn], { kinds: ['player'] });

  app.get('/v1/wallet', {
    preHandler: player,
    schema: { operationId: 'getWallet', tags: [TAG], security: bearer, summary: 'Your balances (available, reserved) and lifetime net deposits', response: { 200: WalletReply, '4xx': Problem } },
  }, async (req) => getWallet(ledger, repo, ctx.auth.principal(req).subject));

  app.get('/v1/wallet/transactions', {
    preHandler: player,
    schema: { operationId: 'listWalletTransactions', tags: [TAG], security: bearer, summary: 'Your wallet history, newest first (cursor-paginated)', querystring: HistoryQuery, response: { 200: HistoryReply, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { currency?: string; since?: string; until?: string; cursor?: string; limit?: number };
    const since = q.since ? new Date(q.since) : undefined;
    const until = q.until ? new Date(q.until) : undefined;
    if (since && until && since >= until) throw Problems.validation([{ pointer: '/query/until', detail: 'must be after since' }]);
    const account = walletOf(ctx.auth.principal(req).subject, q.currency ?? DEFAULT_CURRENCY);
    const result = await ledger.history(account, { limit: q.limit ?? LIMIT_DEFAULT, ...(q.cursor ? { cursor: q.cursor } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) });
    // `until` is enforced here too, in case a ledger ignores it.
    const items = until ? result.items.filter((h) => h.at < until) : result.items;
    return { items: items.map(transactionView), ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) };
  });
}

export function setupWallet(ctx: PartContext, deps: { ledger: Ledger }): ModulePart {
  const repo = createWalletRepository(ctx.db);
  return { routes: (app) => walletRoutes(app, ctx, deps.ledger, repo) };
}
