/**
 * The player's deposit and deposit-limit routes: parse, authorize, call the use case, shape the
 * answer. Money is a decimal string on the wire and bigint inside.
 */
import { DomainError, PlayerPermissions, idempotencyKeyHeaders, isDomainError, type AuthGuards, type Db, type HttpApp } from '@verity/kernel';
import type { AuditLog, EventPublisher } from '@verity/kernel';
import {
  CreateDepositBody, DEFAULT_CURRENCY, DEPOSIT_CURRENCIES, Deposit, DepositLimits, DepositLimitsQuery, DepositParams, Problem,
  SetDepositLimitsBody, TAG_WALLET,
} from './contracts.ts';
import { changeLimits, type LimitRequest } from './limits.ts';
import { PERIODS, WINDOW_HOURS, type DepositRepository, type DepositRow, type LimitState } from './repository.ts';
import type { DepositService } from './service.ts';

const KEY = /^[\x21-\x7e]{8,255}$/;
const bearer = [{ bearer: [] }];

export interface DepositRouteDeps {
  db: Db;
  auth: AuthGuards;
  audit: AuditLog;
  events: EventPublisher;
  repo: DepositRepository;
  deposits: DepositService;
}

export function depositView(d: DepositRow) {
  return {
    depositId: d.depositId,
    status: d.status,
    amountMinor: d.amountMinor.toString(),
    currency: d.currency,
    provider: d.provider,
    ...(d.status === 'requires_action' && d.actionUrl ? { actionUrl: d.actionUrl } : {}),
    ...(d.fundingType ? { fundingType: d.fundingType } : {}),
    ...(d.failureReason ? { failureReason: d.failureReason } : {}),
    ...(d.refundStatus ? { refundStatus: d.refundStatus } : {}),
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function limitsView(currency: string, states: LimitState[]) {
  const byPeriod = new Map(states.map((s) => [s.period, s]));
  const one = (s: LimitState) => ({
    windowHours: WINDOW_HOURS[s.period],
    amountMinor: s.activeMinor === null ? null : s.activeMinor.toString(),
    usedMinor: s.usedMinor.toString(),
    remainingMinor: s.activeMinor === null ? null : (s.activeMinor > s.usedMinor ? s.activeMinor - s.usedMinor : 0n).toString(),
    pending: s.pendingEffectiveAt ? { amountMinor: s.pendingMinor === null ? null : s.pendingMinor.toString(), effectiveAt: s.pendingEffectiveAt.toISOString() } : null,
  });
  return { currency, daily: one(byPeriod.get('daily')!), weekly: one(byPeriod.get('weekly')!), monthly: one(byPeriod.get('monthly')!) };
}

function currencyOf(value: string | undefined, pointer: string): string {
  const currency = value ?? DEFAULT_CURRENCY;
  if (!DEPOSIT_CURRENCIES.includes(currency)) throw new DomainError('validation-failed', 400, 'Your request parameters did not validate', 'Unsupported currency.', {}, [{ pointer, detail: `must be one of ${DEPOSIT_CURRENCIES.join(', ')}` }]);
  return currency;
}

export function registerDepositRoutes(app: HttpApp, deps: DepositRouteDeps): void {
  const { auth, deposits } = deps;
  const player = (permission: string) => auth.require([permission], { kinds: ['player'] });

  app.post('/v1/wallet/deposits', {
    preHandler: player(PlayerPermissions.walletDepositOwn),
    schema: {
      operationId: 'createDeposit', tags: [TAG_WALLET], security: bearer,
      summary: 'Deposit by card: checks your deposit limits, then starts the card payment (complete 3-D Secure at actionUrl)',
      headers: idempotencyKeyHeaders({ required: true }), body: CreateDepositBody,
      response: { 200: Deposit, 201: Deposit, '4xx': Problem, '5xx': Problem },
    },
  }, async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || !KEY.test(key)) throw new DomainError('idempotency-key-required', 400, 'Idempotency-Key required', 'Send an Idempotency-Key header (8–255 visible ASCII characters, e.g. a UUID) so that a retry cannot charge twice.');
    const { subject } = auth.principal(req);
    try {
      const input = {
        amountMinor: BigInt(req.body.amountMinor), currency: currencyOf(req.body.currency, '/body/currency'),
        ...(req.body.paymentMethod ? { paymentMethod: req.body.paymentMethod } : {}),
        ...(req.body.cardholderName !== undefined ? { cardholderName: req.body.cardholderName } : {}),
      };
      const { deposit, created } = await deposits.create(subject, key, input);
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply.code(created ? 201 : 200).send(depositView(deposit));
    } catch (err) {
      if (isDomainError(err) && typeof err.extensions.retryAfterSeconds === 'number') reply.header('retry-after', String(err.extensions.retryAfterSeconds));
      throw err;
    }
  });

  app.get('/v1/wallet/deposits/:depositId', {
    preHandler: player(PlayerPermissions.walletReadOwn),
    schema: { operationId: 'getDeposit', tags: [TAG_WALLET], security: bearer, summary: 'One of your deposits and its status', params: DepositParams, response: { 200: Deposit, '4xx': Problem } },
  }, async (req) => depositView(await deposits.get(auth.principal(req).subject, req.params.depositId)));

  app.get('/v1/wallet/deposit-limits', {
    preHandler: player(PlayerPermissions.walletReadOwn),
    schema: { operationId: 'getDepositLimits', tags: [TAG_WALLET], security: bearer, summary: 'Your deposit limits in force, what you used of them, and increases waiting for their 24-hour cooling-off', querystring: DepositLimitsQuery, response: { 200: DepositLimits, '4xx': Problem } },
  }, async (req) => {
    const currency = currencyOf(req.query.currency, '/querystring/currency');
    return limitsView(currency, await deps.repo.limitState(auth.principal(req).subject, currency));
  });

  app.put('/v1/wallet/deposit-limits', {
    preHandler: player(PlayerPermissions.limitsManageOwn),
    schema: { operationId: 'setDepositLimits', tags: [TAG_WALLET], security: bearer, summary: 'Set or remove your daily, weekly and monthly deposit limits (lower: at once; higher or removed: after 24 hours)', body: SetDepositLimitsBody, response: { 200: DepositLimits, '4xx': Problem } },
  }, async (req) => {
    const playerId = auth.principal(req).subject;
    const currency = currencyOf(req.body.currency, '/body/currency');
    const request: LimitRequest = {};
    for (const period of PERIODS) {
      const value = req.body[period];
      if (value !== undefined) request[period] = value === null ? null : BigInt(value);
    }
    return deps.db.tx(async () => {
      await deps.repo.lockPlayer(playerId);
      const applied = await changeLimits(deps.repo, playerId, currency, request);
      if (applied.length) {
        const changes = applied.map((c) => ({ period: c.period, amountMinor: c.amountMinor === null ? null : c.amountMinor.toString(), effectiveAt: c.effectiveAt.toISOString(), immediate: c.immediate }));
        await deps.audit.record({ actor: `player:${playerId}`, action: 'payments.deposit-limits-changed', subject: `player:${playerId}`, data: { currency, changes } });
        await deps.events.publish({ type: 'payments.deposit-limits-changed.v1', subject: playerId, data: { playerId, currency, changes } });
      }
      return limitsView(currency, await deps.repo.limitState(playerId, currency));
    });
  });
}
