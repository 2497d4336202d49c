/**
 * The player's routes: buy tickets (Idempotency-Key required; the purchase row is the idempotency
 * record, so the ledger calls stay outside any transaction of ours — ADR 0014) and list own tickets.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IDEMPOTENCY_KEY_HEADER, PlayerPermissions, Problems, idempotencyKeyHeaders, type HttpApp } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { CompetitionParams, Problem } from '../competitions/contracts.ts';
import { TicketingErrors } from '../errors.ts';
import { MyTicketsQuery, PurchaseBody, PurchaseDto, TicketPage, TAG_TICKETS } from './contracts.ts';
import type { PurchasesRepository, TicketView } from './repository.ts';
import type { PurchaseService, PurchaseView } from './service.ts';

const bearer = [{ bearer: [] }];
const KEY = /^[\x21-\x7e]{8,255}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function ticketView(t: TicketView) {
  return {
    ticketId: t.ticketId, competitionId: t.competitionId, number: t.number, kind: t.kind, holderSalt: t.holderSalt, holder: t.holder, state: t.state,
    ...(t.purchaseId ? { purchaseId: t.purchaseId } : {}), issuedAt: t.issuedAt.toISOString(),
    ...(t.voidedAt ? { voidedAt: t.voidedAt.toISOString() } : {}), ...(t.voidReason ? { voidReason: t.voidReason } : {}),
  };
}

const purchaseView = (p: PurchaseView) => ({
  purchaseId: p.purchaseId, competitionId: p.competitionId, state: p.state, quantity: p.quantity, amountMinor: p.amountMinor.toString(), currency: p.currency,
  tickets: p.tickets.map(ticketView), createdAt: p.createdAt.toISOString(),
});

export function registerPurchaseRoutes(app: HttpApp, ctx: PartContext, deps: { service: PurchaseService; repo: PurchasesRepository }): void {
  const { auth } = ctx;
  const buyer = auth.require([PlayerPermissions.ticketsBuy], { kinds: ['player'] });
  const reader = auth.require([PlayerPermissions.ticketsReadOwn], { kinds: ['player'] });

  app.post('/v1/competitions/:competitionId/purchases', {
    preHandler: buyer,
    schema: {
      operationId: 'purchaseTickets', tags: [TAG_TICKETS], security: bearer,
      summary: 'Buy tickets: eligibility, spend limits, a passed skill test, caps; the wallet is charged only for tickets issued',
      description: 'Idempotency-Key required: a retry with the same key and body answers the same purchase; the same key with another body is a 422.',
      headers: idempotencyKeyHeaders({ required: true }), params: CompetitionParams, body: PurchaseBody, response: { 201: PurchaseDto, '4xx': Problem },
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const key = req.headers[IDEMPOTENCY_KEY_HEADER];
    if (typeof key !== 'string' || !KEY.test(key)) throw Problems.idempotencyKeyInvalid();
    const body = req.body as PurchaseBody;
    const { purchase, replayed } = await deps.service.purchase({
      playerId: auth.principal(req).subject, idempotencyKey: key, competitionId: (req.params as { competitionId: string }).competitionId,
      quantity: body.quantity, skillToken: body.skillToken, ...(body.numbers ? { numbers: body.numbers } : {}),
    });
    if (replayed) reply.header('idempotent-replayed', 'true');
    reply.code(201);
    return purchaseView(purchase);
  });

  app.get('/v1/me/tickets', {
    preHandler: reader,
    schema: { operationId: 'listMyTickets', tags: [TAG_TICKETS], security: bearer, summary: 'Your tickets, newest first, with the salt of each holder commitment', querystring: MyTicketsQuery, response: { 200: TicketPage, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as MyTicketsQuery;
    if (q.cursor !== undefined && !UUID.test(q.cursor)) throw TicketingErrors.cursorInvalid();
    const limit = q.limit ?? 50;
    const rows = await deps.repo.playerTicketsPage(auth.principal(req).subject, { limit: limit + 1, ...(q.competitionId ? { competitionId: q.competitionId } : {}), ...(q.cursor ? { beforeId: q.cursor } : {}) });
    const items = rows.slice(0, limit);
    return { items: items.map(ticketView), ...(rows.length > limit ? { nextCursor: items.at(-1)!.ticketId } : {}) };
  });
}
