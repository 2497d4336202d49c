/**
 * Withdrawal routes: players request and follow their own; finance operators (MFA, and a recent
 * sign-in for decisions) list, approve, reject and start payouts. Money-moving commands require an
 * Idempotency-Key.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions, PlayerPermissions, Problems, actorFromContext, idempotencyKeyHeaders, type HttpApp, type Principal } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { LIMIT_DEFAULT, decodeCursor, page } from '../wallet/paging.ts';
import type { Decision, Withdrawal } from './repository.ts';
import {
  DecisionBody, ListQuery, MyListQuery, OperatorPayoutBody, OperatorWithdrawal, OperatorWithdrawalList, PlayerParams, PlayerWithdrawal,
  PlayerWithdrawalList, Problem, RejectBody, RequestWithdrawalBody, TAG_WITHDRAWALS, WithdrawalParams,
} from './schemas.ts';
import type { Withdrawals } from './withdrawals.ts';

const bearer = [{ bearer: [] }];
const DEFAULT_CURRENCY = 'GBP';

function commonView(w: Withdrawal, decisions: readonly Decision[]) {
  return {
    withdrawalId: w.id,
    playerId: w.playerId,
    amountMinor: w.amountMinor.toString(),
    currency: w.currency,
    status: w.status,
    approvalsRequired: w.approvalsRequired,
    approvals: decisions.filter((d) => d.decision === 'approved').length,
    requestedBy: w.requesterKind,
    ...(w.failureReason ? { failureReason: w.failureReason } : {}),
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
    ...(w.paidAt ? { paidAt: w.paidAt.toISOString() } : {}),
  };
}

function operatorView(w: Withdrawal, decisions: readonly Decision[]) {
  return {
    ...commonView(w, decisions),
    requesterId: w.requesterId,
    ...(w.reason ? { reason: w.reason } : {}),
    provider: w.provider,
    ...(w.pspPayoutId ? { pspPayoutId: w.pspPayoutId } : {}),
    attempts: w.attempts,
    decisions: decisions.map((d) => ({ operatorId: d.operatorId, decision: d.decision, ...(d.note ? { note: d.note } : {}), decidedAt: d.decidedAt.toISOString() })),
  };
}

interface RouteCtx {
  app: HttpApp;
  ctx: PartContext;
  withdrawals: Withdrawals;
  me(req: FastifyRequest): Principal;
  withDecisions(w: Withdrawal): Promise<{ w: Withdrawal; decisions: Decision[] }>;
}

export function registerPayoutRoutes(app: HttpApp, ctx: PartContext, withdrawals: Withdrawals): void {
  const rc: RouteCtx = {
    app, ctx, withdrawals,
    me: (req) => ctx.auth.principal(req),
    withDecisions: async (w) => ({ w, decisions: await withdrawals.decisions(w.id) }),
  };
  playerRoutes(rc);
  operatorReadRoutes(rc);
  decisionRoutes(rc);
  operatorPayoutRoute(rc);
}

function playerRoutes({ app, ctx, withdrawals, me, withDecisions }: RouteCtx): void {
  const { auth, idempotency } = ctx;
  const player = auth.require([PlayerPermissions.walletWithdrawOwn], { kinds: ['player'] });
  const playerRead = auth.require([PlayerPermissions.walletReadOwn], { kinds: ['player'] });

  app.post('/v1/wallet/withdrawals', {
    preHandler: player,
    schema: {
      operationId: 'requestWithdrawal', tags: [TAG_WITHDRAWALS], security: bearer,
      summary: 'Withdraw from your wallet to the payment method you deposited with',
      description: 'Checked by compliance (identity verified, sanctions, holds), then the amount is held. Large amounts wait for finance approval. Requires an Idempotency-Key.',
      headers: idempotencyKeyHeaders({ required: true }), body: RequestWithdrawalBody, response: { 201: PlayerWithdrawal, '4xx': Problem },
    },
  }, idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body as { amountMinor: string; currency?: string };
    const playerId = me(req).subject;
    const w = await withdrawals.request({ playerId, amountMinor: BigInt(body.amountMinor), currency: body.currency ?? DEFAULT_CURRENCY, requesterKind: 'player', requesterId: playerId });
    reply.code(201);
    return commonView(w, []);
  }, { required: true }));

  app.get('/v1/wallet/withdrawals', {
    preHandler: playerRead,
    schema: { operationId: 'listMyWithdrawals', tags: [TAG_WITHDRAWALS], security: bearer, summary: 'Your withdrawals, newest first', querystring: MyListQuery, response: { 200: PlayerWithdrawalList, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { cursor?: string; limit?: number };
    const limit = q.limit ?? LIMIT_DEFAULT;
    const after = decodeCursor(q.cursor);
    const rows = await withdrawals.list({ playerId: me(req).subject, limit: limit + 1, ...(after ? { after } : {}) });
    const p = page(rows, limit, (w) => ({ at: w.createdAt, id: w.id }));
    const decisions = await withdrawals.decisionsOf(p.items.map((w) => w.id));
    return { items: p.items.map((w) => commonView(w, decisions.get(w.id) ?? [])), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
  });

  app.get('/v1/wallet/withdrawals/:withdrawalId', {
    preHandler: playerRead,
    schema: { operationId: 'getWithdrawal', tags: [TAG_WITHDRAWALS], security: bearer, summary: 'One of your withdrawals', params: WithdrawalParams, response: { 200: PlayerWithdrawal, '4xx': Problem } },
  }, async (req) => {
    const w = await withdrawals.get((req.params as { withdrawalId: string }).withdrawalId);
    // Another player's withdrawal does not exist, as far as this player can tell.
    if (!w || w.playerId !== me(req).subject) throw Problems.notFound('withdrawal');
    const { decisions } = await withDecisions(w);
    return commonView(w, decisions);
  });

}

function operatorReadRoutes({ app, ctx, withdrawals, withDecisions }: RouteCtx): void {
  const financeRead = ctx.auth.require([OperatorPermissions.ledgerRead], { mfa: true, kinds: ['operator'] });

  app.get('/v1/withdrawals', {
    preHandler: financeRead,
    schema: { operationId: 'listWithdrawals', tags: [TAG_WITHDRAWALS], security: bearer, summary: 'Withdrawals, newest first, by status (finance)', querystring: ListQuery, response: { 200: OperatorWithdrawalList, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { status?: Withdrawal['status']; playerId?: string; cursor?: string; limit?: number };
    const limit = q.limit ?? LIMIT_DEFAULT;
    const after = decodeCursor(q.cursor);
    const rows = await withdrawals.list({ limit: limit + 1, ...(q.status ? { statuses: [q.status] } : {}), ...(q.playerId ? { playerId: q.playerId } : {}), ...(after ? { after } : {}) });
    const p = page(rows, limit, (w) => ({ at: w.createdAt, id: w.id }));
    const decisions = await withdrawals.decisionsOf(p.items.map((w) => w.id));
    return { items: p.items.map((w) => operatorView(w, decisions.get(w.id) ?? [])), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
  });

  app.get('/v1/withdrawals/:withdrawalId', {
    preHandler: financeRead,
    schema: { operationId: 'getWithdrawalDetails', tags: [TAG_WITHDRAWALS], security: bearer, summary: 'One withdrawal with its approvals (finance)', params: WithdrawalParams, response: { 200: OperatorWithdrawal, '4xx': Problem } },
  }, async (req) => {
    const w = await withdrawals.get((req.params as { withdrawalId: string }).withdrawalId);
    if (!w) throw Problems.notFound('withdrawal');
    const { decisions } = await withDecisions(w);
    return operatorView(w, decisions);
  });

}

function decisionRoutes({ app, ctx, withdrawals, me, withDecisions }: RouteCtx): void {
  const approver = ctx.auth.require([OperatorPermissions.payoutsApprove], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.post('/v1/withdrawals/:withdrawalId/approve', {
    preHandler: approver,
    schema: {
      operationId: 'approveWithdrawal', tags: [TAG_WITHDRAWALS], security: bearer,
      summary: 'Approve a withdrawal (finance, MFA, recent sign-in; not the requester)',
      description: 'Four eyes: the operator who requested it cannot approve it, and a two-approval withdrawal needs two different operators. Requires an Idempotency-Key.',
      headers: idempotencyKeyHeaders({ required: true }), params: WithdrawalParams, body: DecisionBody, response: { 200: OperatorWithdrawal, '4xx': Problem },
    },
  }, ctx.idempotency.wrap(async (req: FastifyRequest) => {
    const id = (req.params as { withdrawalId: string }).withdrawalId;
    const note = (req.body as { note?: string } | undefined)?.note;
    const w = await withdrawals.approve(id, me(req), actorFromContext(), note);
    const { decisions } = await withDecisions(w);
    return operatorView(w, decisions);
  }, { required: true }));

  app.post('/v1/withdrawals/:withdrawalId/reject', {
    preHandler: approver,
    schema: {
      operationId: 'rejectWithdrawal', tags: [TAG_WITHDRAWALS], security: bearer,
      summary: 'Reject a withdrawal: the hold is released to the wallet (finance, MFA, recent sign-in)',
      description: 'Requires an Idempotency-Key.',
      headers: idempotencyKeyHeaders({ required: true }), params: WithdrawalParams, body: RejectBody, response: { 200: OperatorWithdrawal, '4xx': Problem },
    },
  }, ctx.idempotency.wrap(async (req: FastifyRequest) => {
    const id = (req.params as { withdrawalId: string }).withdrawalId;
    const w = await withdrawals.reject(id, me(req), actorFromContext(), (req.body as { note: string }).note);
    const { decisions } = await withDecisions(w);
    return operatorView(w, decisions);
  }, { required: true }));

}

function operatorPayoutRoute({ app, ctx, withdrawals, me }: RouteCtx): void {
  const payoutRequester = ctx.auth.require([OperatorPermissions.payoutsRequest], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.post('/v1/players/:playerId/withdrawals', {
    preHandler: payoutRequester,
    schema: {
      operationId: 'requestPlayerPayout', tags: [TAG_WITHDRAWALS], security: bearer,
      summary: "Pay out from a player's wallet (finance); always needs another operator's approval",
      description: 'For account closures and similar. The same compliance checks apply. Requires an Idempotency-Key.',
      headers: idempotencyKeyHeaders({ required: true }), params: PlayerParams, body: OperatorPayoutBody, response: { 201: OperatorWithdrawal, '4xx': Problem },
    },
  }, ctx.idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const { playerId } = req.params as { playerId: string };
    const body = req.body as { amountMinor: string; currency?: string; reason: string };
    const operator = me(req);
    const w = await ctx.db.tx(async () => {
      const created = await withdrawals.request({ playerId, amountMinor: BigInt(body.amountMinor), currency: body.currency ?? DEFAULT_CURRENCY, requesterKind: 'operator', requesterId: operator.subject, reason: body.reason });
      await ctx.audit.record({ actor: actorFromContext(), action: 'payments.payout-requested', subject: `player:${playerId}`, reason: body.reason, data: { withdrawalId: created.id, amountMinor: body.amountMinor, currency: created.currency } });
      return created;
    });
    reply.code(201);
    return operatorView(w, []);
  }, { required: true }));
}
