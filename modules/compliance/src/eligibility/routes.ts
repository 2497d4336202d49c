/**
 * Eligibility and safer-gambling routes. Players see their own eligibility and set their own
 * controls; operators with kyc:read or cases:read (and MFA) check any player's eligibility.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions, PlayerPermissions, Problems, idempotencyKeyHeaders, type HttpApp, type Principal } from '@verity/kernel';
import type { GateDecision, PartContext } from '../contract.ts';
import {
  EligibilityQuery, EligibilityReply, Problem, SaferGamblingReply, SelfExclusionBody, SelfExclusionReply, SetSpendLimitsBody, SpendLimitsQuery, SpendLimitsReply,
  TAG_ELIGIBILITY, TAG_SAFER, TimeOutBody, TimeOutReply, type EligibilityQuery as Query,
} from './contracts.ts';
import { PERIODS, WINDOW_HOURS, remainingOf, type LimitState, type Period } from './domain.ts';
import type { Eligibility } from './service.ts';

const bearer = [{ bearer: [] }];
const DEFAULT_CURRENCY = 'GBP';
const MFA_METHODS = new Set(['otp', 'hwk', 'mfa']);
const REGISTER_VIEW = { Y: 'excluded', N: 'not-excluded', P: 'previously-excluded' } as const;

const decisionView = (d: GateDecision) => ({ allowed: d.allowed, reasons: d.reasons, ...(d.remainingMinor !== undefined ? { remainingMinor: d.remainingMinor.toString() } : {}) });

export function limitsView(currency: string, states: readonly LimitState[]) {
  const view = (s: LimitState) => ({
    windowHours: WINDOW_HOURS[s.period],
    amountMinor: s.activeMinor?.toString() ?? null,
    usedMinor: s.usedMinor.toString(),
    remainingMinor: remainingOf(s)?.toString() ?? null,
    ...(s.pending ? { pending: { amountMinor: s.pending.amountMinor?.toString() ?? null, effectiveAt: s.pending.effectiveAt.toISOString() } } : {}),
  });
  const by = new Map(states.map((s) => [s.period, s]));
  return { currency, daily: view(by.get('daily')!), weekly: view(by.get('weekly')!), monthly: view(by.get('monthly')!) };
}

/** Whose eligibility a caller may see: a player their own; an operator (MFA) with kyc:read or cases:read anyone's. */
function subjectOf(p: Principal, requested: string | undefined): string {
  if (p.kind === 'player') {
    if (requested !== undefined && requested !== p.subject) throw Problems.forbidden('Players can only check their own eligibility.');
    return p.subject;
  }
  if (p.kind !== 'operator' || !(p.permissions.has(OperatorPermissions.kycRead) || p.permissions.has(OperatorPermissions.casesRead))) throw Problems.forbidden();
  if (!p.amr.some((m) => MFA_METHODS.has(m))) throw Problems.mfaRequired();
  if (!requested) throw Problems.validation([{ pointer: '/querystring/playerId', detail: 'is required for operators' }]);
  return requested;
}

export function registerEligibilityRoutes(app: HttpApp, ctx: PartContext, eligibility: Eligibility): void {
  eligibilityRoute(app, ctx, eligibility);
  exclusionRoutes(app, ctx, eligibility);
  limitRoutes(app, ctx, eligibility);
}

function eligibilityRoute(app: HttpApp, ctx: PartContext, eligibility: Eligibility): void {
  const { auth } = ctx;
  const anyone = auth.require([], { kinds: ['player', 'operator'] });

  app.get('/v1/eligibility', {
    preHandler: anyone,
    schema: { operationId: 'getEligibility', tags: [TAG_ELIGIBILITY], security: bearer, summary: 'Whether a player may deposit, buy and withdraw now, with the reasons when not', querystring: EligibilityQuery, response: { 200: EligibilityReply, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as Query;
    const playerId = subjectOf(auth.principal(req), q.playerId);
    const input = { playerId, amountMinor: BigInt(q.amountMinor ?? '0'), currency: q.currency ?? DEFAULT_CURRENCY };
    const [deposit, purchase, withdraw] = [await eligibility.canDeposit(input), await eligibility.canPurchase(input), await eligibility.canWithdraw(input)];
    return { playerId, checkedAt: (await ctx.clock.now()).toISOString(), deposit: decisionView(deposit), purchase: decisionView(purchase), withdraw: decisionView(withdraw) };
  });
}

function exclusionRoutes(app: HttpApp, ctx: PartContext, eligibility: Eligibility): void {
  const { auth, idempotency } = ctx;
  const player = auth.require([PlayerPermissions.limitsManageOwn], { kinds: ['player'] });
  const me = (req: FastifyRequest) => auth.principal(req).subject;

  app.get('/v1/safer-gambling', {
    preHandler: auth.require([], { kinds: ['player'] }),
    schema: { operationId: 'getSaferGambling', tags: [TAG_SAFER], security: bearer, summary: 'Your self-exclusion, time-out and marketing status', response: { 200: SaferGamblingReply, '4xx': Problem } },
  }, async (req) => {
    const s = await eligibility.status(me(req));
    const register = s.player?.registerStatus;
    return {
      ...(s.exclusion ? { selfExclusion: { startsAt: s.exclusion.startsAt.toISOString(), endsAt: s.exclusion.endsAt.toISOString() } } : {}),
      ...(register ? { nationalRegister: REGISTER_VIEW[register] } : {}),
      ...(s.timeOut ? { timeOut: { startsAt: s.timeOut.startsAt.toISOString(), endsAt: s.timeOut.endsAt.toISOString() } } : {}),
      marketingSuppressed: s.player?.marketingSuppressed ?? false,
    };
  });

  app.post('/v1/safer-gambling/self-exclusion', {
    preHandler: player,
    schema: {
      operationId: 'selfExclude', tags: [TAG_SAFER], security: bearer,
      summary: 'Exclude yourself for 6 months to 5 years: at once, cannot be undone early; your balance is returned and marketing stops',
      headers: idempotencyKeyHeaders(), body: SelfExclusionBody, response: { 201: SelfExclusionReply, '4xx': Problem },
    },
  }, idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const { exclusion, extended } = await eligibility.selfExclude(me(req), (req.body as { months: number }).months);
    reply.code(201);
    return { exclusionId: exclusion.id, startsAt: exclusion.startsAt.toISOString(), endsAt: exclusion.endsAt.toISOString(), extended };
  }));

  app.post('/v1/safer-gambling/time-out', {
    preHandler: player,
    schema: {
      operationId: 'takeTimeOut', tags: [TAG_SAFER], security: bearer, summary: 'Take a break from 24 hours to 6 weeks: no purchases or deposits until it ends',
      headers: idempotencyKeyHeaders(), body: TimeOutBody, response: { 201: TimeOutReply, '4xx': Problem },
    },
  }, idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const { timeOut, extended } = await eligibility.takeTimeOut(me(req), (req.body as { hours: number }).hours);
    reply.code(201);
    return { timeOutId: timeOut.id, startsAt: timeOut.startsAt.toISOString(), endsAt: timeOut.endsAt.toISOString(), extended };
  }));
}

function limitRoutes(app: HttpApp, ctx: PartContext, eligibility: Eligibility): void {
  const { auth } = ctx;
  const player = auth.require([PlayerPermissions.limitsManageOwn], { kinds: ['player'] });
  const me = (req: FastifyRequest) => auth.principal(req).subject;

  app.get('/v1/safer-gambling/spend-limits', {
    preHandler: auth.require([], { kinds: ['player'] }),
    schema: { operationId: 'getSpendLimits', tags: [TAG_SAFER], security: bearer, summary: 'Your purchase spend limits, what you spent in each window, and increases waiting for their 24 hours', querystring: SpendLimitsQuery, response: { 200: SpendLimitsReply, '4xx': Problem } },
  }, async (req) => {
    const currency = (req.query as { currency?: string }).currency ?? DEFAULT_CURRENCY;
    return limitsView(currency, await eligibility.spendLimits(me(req), currency));
  });

  app.put('/v1/safer-gambling/spend-limits', {
    preHandler: player,
    schema: { operationId: 'setSpendLimits', tags: [TAG_SAFER], security: bearer, summary: 'Set or remove daily, weekly and monthly purchase limits (lower: at once; higher or removed: after 24 hours)', body: SetSpendLimitsBody, response: { 200: SpendLimitsReply, '4xx': Problem } },
  }, async (req) => {
    const body = req.body as Partial<Record<Period, string | null>> & { currency?: string };
    const currency = body.currency ?? DEFAULT_CURRENCY;
    const request: Partial<Record<Period, bigint | null>> = {};
    for (const period of PERIODS) {
      const v = body[period];
      if (v !== undefined) request[period] = v === null ? null : BigInt(v);
    }
    await eligibility.setSpendLimits(me(req), currency, request);
    return limitsView(currency, await eligibility.spendLimits(me(req), currency));
  });
}
