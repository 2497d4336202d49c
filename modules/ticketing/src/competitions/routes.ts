/**
 * Competition routes. Players and the public read published competitions (terms and counters);
 * operators with competitions:manage (MFA) draft, attest, publish and cancel (step-up), and change
 * a published closing time with a second operator's approval (step-up).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions, actorFromContext, idempotencyKeyHeaders, type HttpApp } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { PUBLIC_STATES } from '../domain/lifecycle.ts';
import type { PrizeTier } from '../domain/terms.ts';
import { TicketingErrors } from '../errors.ts';
import type { SoldCounters } from './cache.ts';
import {
  CancelBody, CompetitionBody, CompetitionDto, CompetitionPage, CompetitionParams, ListCompetitionsQuery, OverrideBody, OverrideDto, OverrideParams, Problem,
  ReadinessBody, TAG_COMPETITIONS,
} from './contracts.ts';
import type { CompetitionsRepository, DraftFields } from './repository.ts';
import type { CompetitionService } from './service.ts';
import { competitionView, overrideView } from './views.ts';

const bearer = [{ bearer: [] }];
const DEFAULT_CURRENCY = 'GBP';
const CURSOR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function draftFields(b: CompetitionBody): DraftFields {
  const tiers: PrizeTier[] = (b.prizeTiers ?? []).map((t) => ({
    tier: t.tier, description: t.description, winners: t.winners,
    ...(t.cashMinor !== undefined ? { cashMinor: BigInt(t.cashMinor) } : {}), ...(t.cashAlternativeMinor !== undefined ? { cashAlternativeMinor: BigInt(t.cashAlternativeMinor) } : {}),
  }));
  return {
    title: b.title, description: b.description ?? null, drawKind: b.drawKind, currency: b.currency ?? DEFAULT_CURRENCY,
    priceMinor: b.priceMinor !== undefined ? BigInt(b.priceMinor) : null, maxTickets: b.maxTickets ?? null, perPlayerCap: b.perPlayerCap ?? null,
    opensAt: b.opensAt ? new Date(b.opensAt) : null, closesAt: b.closesAt ? new Date(b.closesAt) : null, prizeTiers: tiers, freeEntry: b.freeEntry ?? null,
  };
}

export interface CompetitionRouteDeps {
  service: CompetitionService;
  repo: CompetitionsRepository;
  counters: SoldCounters;
}

export function registerCompetitionRoutes(app: HttpApp, ctx: PartContext, deps: CompetitionRouteDeps): void {
  publicRoutes(app, deps);
  operatorRoutes(app, ctx, deps);
  overrideRoutes(app, ctx, deps);
}

async function withCounters(deps: CompetitionRouteDeps, c: Parameters<typeof competitionView>[0]) {
  return competitionView(c, c.state === 'draft' ? undefined : await deps.counters.sold(c.id));
}

function publicRoutes(app: HttpApp, deps: CompetitionRouteDeps): void {
  app.get('/v1/competitions', {
    schema: { operationId: 'listCompetitions', tags: [TAG_COMPETITIONS], summary: 'Published competitions, newest first, with their terms and tickets sold', querystring: ListCompetitionsQuery, response: { 200: CompetitionPage, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as ListCompetitionsQuery;
    if (q.cursor !== undefined && !CURSOR.test(q.cursor)) throw TicketingErrors.cursorInvalid();
    const limit = q.limit ?? 20;
    const rows = await deps.repo.list({ limit: limit + 1, states: q.state ? [q.state] : PUBLIC_STATES, ...(q.cursor ? { afterId: q.cursor } : {}) });
    const items = await Promise.all(rows.slice(0, limit).map((c) => withCounters(deps, c)));
    return { items, ...(rows.length > limit ? { nextCursor: rows[limit - 1]!.id } : {}) };
  });

  app.get('/v1/competitions/:competitionId', {
    schema: { operationId: 'getCompetition', tags: [TAG_COMPETITIONS], summary: 'A published competition: its terms, how to enter free, and tickets sold', params: CompetitionParams, response: { 200: CompetitionDto, '4xx': Problem } },
  }, async (req) => {
    const c = await deps.repo.get((req.params as { competitionId: string }).competitionId);
    if (!c || c.state === 'draft') throw TicketingErrors.competitionNotFound();
    return withCounters(deps, c);
  });
}

function operatorRoutes(app: HttpApp, ctx: PartContext, deps: CompetitionRouteDeps): void {
  const { auth, idempotency } = ctx;
  const manage = auth.require([OperatorPermissions.competitionsManage], { mfa: true, kinds: ['operator'] });
  const privileged = auth.require([OperatorPermissions.competitionsManage], { mfa: true, stepUp: true, kinds: ['operator'] });
  const idOf = (req: FastifyRequest) => (req.params as { competitionId: string }).competitionId;

  app.post('/v1/competitions', {
    preHandler: manage,
    schema: { operationId: 'createCompetition', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Draft a competition (terms may be completed later)', headers: idempotencyKeyHeaders(), body: CompetitionBody, response: { 201: CompetitionDto, '4xx': Problem } },
  }, idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const c = await deps.service.create(actorFromContext(), draftFields(req.body as CompetitionBody));
    reply.code(201);
    return competitionView(c);
  }));

  app.put('/v1/competitions/:competitionId', {
    preHandler: manage,
    schema: { operationId: 'updateCompetition', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Replace the terms of a draft (published terms never change)', params: CompetitionParams, body: CompetitionBody, response: { 200: CompetitionDto, '4xx': Problem } },
  }, async (req) => competitionView(await deps.service.update(actorFromContext(), idOf(req), draftFields(req.body as CompetitionBody))));

  app.put('/v1/competitions/:competitionId/prize-readiness', {
    preHandler: manage,
    schema: { operationId: 'attestPrizeReadiness', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Attest that the prize is owned or contracted and the cash alternative reserved (audited)', params: CompetitionParams, body: ReadinessBody, response: { 200: CompetitionDto, '4xx': Problem } },
  }, async (req) => {
    const b = req.body as ReadinessBody;
    const c = await deps.service.attestReadiness(actorFromContext(), idOf(req), {
      kind: b.kind, cashAlternativeReservedMinor: BigInt(b.cashAlternativeReservedMinor),
      ...(b.documentSha256 ? { documentSha256: b.documentSha256 } : {}), ...(b.externalReference ? { externalReference: b.externalReference } : {}), ...(b.notes ? { notes: b.notes } : {}),
    });
    return competitionView(c);
  });

  app.post('/v1/competitions/:competitionId/publish', {
    preHandler: privileged,
    schema: { operationId: 'publishCompetition', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Publish: checks every term, the skill test and prize readiness; sales open at opensAt', headers: idempotencyKeyHeaders(), params: CompetitionParams, response: { 200: CompetitionDto, '4xx': Problem } },
  }, idempotency.wrap(async (req: FastifyRequest) => withCounters(deps, await deps.service.publish(actorFromContext(), idOf(req)))));

  app.post('/v1/competitions/:competitionId/cancel', {
    preHandler: privileged,
    schema: { operationId: 'cancelCompetition', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Cancel: sales stop at once and every paid ticket is refunded (by a job)', headers: idempotencyKeyHeaders(), params: CompetitionParams, body: CancelBody, response: { 200: CompetitionDto, '4xx': Problem } },
  }, idempotency.wrap(async (req: FastifyRequest) => competitionView(await deps.service.cancel(actorFromContext(), idOf(req), (req.body as { reason: string }).reason))));
}

function overrideRoutes(app: HttpApp, ctx: PartContext, deps: CompetitionRouteDeps): void {
  const { auth } = ctx;
  const manage = auth.require([OperatorPermissions.competitionsManage], { mfa: true, kinds: ['operator'] });
  const privileged = auth.require([OperatorPermissions.competitionsManage], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.post('/v1/competitions/:competitionId/closing-time-overrides', {
    preHandler: manage,
    schema: { operationId: 'requestClosingTimeChange', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Ask to change a published closing time (another operator approves)', params: CompetitionParams, body: OverrideBody, response: { 201: OverrideDto, '4xx': Problem } },
  }, async (req, reply) => {
    const b = req.body as { newClosesAt: string; reason: string };
    const o = await deps.service.requestClosingTimeChange(actorFromContext(), (req.params as { competitionId: string }).competitionId, new Date(b.newClosesAt), b.reason);
    reply.code(201);
    return overrideView(o);
  });

  app.post('/v1/competitions/:competitionId/closing-time-overrides/:overrideId/approve', {
    preHandler: privileged,
    schema: { operationId: 'approveClosingTimeChange', tags: [TAG_COMPETITIONS], security: bearer, summary: 'Approve another operator\'s closing-time change (applies it)', params: OverrideParams, response: { 200: OverrideDto, '4xx': Problem } },
  }, async (req) => {
    const p = req.params as { competitionId: string; overrideId: string };
    return overrideView(await deps.service.approveClosingTimeChange(actorFromContext(), p.competitionId, p.overrideId));
  });
}
