/** The ledger's operator route: accounts with their balances (finance, compliance, admin). */
import { OperatorPermissions, type AuthGuards, type HttpApp } from '@verity/kernel';
import type { LedgerEngine } from './ledger.ts';
import { LedgerAccountPage, ListLedgerAccountsQuery, TAG_LEDGER } from './contracts.ts';

const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

export function registerLedgerRoutes(app: HttpApp, deps: { ledger: LedgerEngine; auth: AuthGuards }): void {
  app.get('/v1/ledger/accounts', {
    preHandler: deps.auth.require([OperatorPermissions.ledgerRead], { mfa: true, kinds: ['operator'] }),
    schema: {
      operationId: 'listLedgerAccounts',
      tags: [TAG_LEDGER],
      summary: 'Ledger accounts with their balances (shards summed), in key order',
      security: [{ bearer: [] }],
      querystring: ListLedgerAccountsQuery,
      response: { 200: LedgerAccountPage, '4xx': Problem },
    },
  }, async (req): Promise<LedgerAccountPage> => {
    const q = req.query as ListLedgerAccountsQuery;
    const page = await deps.ledger.listAccounts({
      limit: q.limit ?? 50,
      ...(q.type ? { type: q.type } : {}),
      ...(q.ownerId ? { ownerId: q.ownerId } : {}),
      ...(q.currency ? { currency: q.currency } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return {
      items: page.items.map((a) => {
        const balance = a.postedCreditsMinor - a.postedDebitsMinor;
        return {
          type: a.account.type,
          ownerId: a.account.ownerId,
          currency: a.account.currency,
          shards: a.shards,
          postedDebitsMinor: a.postedDebitsMinor.toString(),
          postedCreditsMinor: a.postedCreditsMinor.toString(),
          pendingDebitsMinor: a.pendingDebitsMinor.toString(),
          pendingCreditsMinor: a.pendingCreditsMinor.toString(),
          balanceMinor: balance.toString(),
          availableMinor: (balance - a.pendingDebitsMinor).toString(),
          createdAt: a.createdAt.toISOString(),
        };
      }),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  });
}
