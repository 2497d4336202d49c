/**
 * Eligibility (canDeposit / canPurchase / canWithdraw) and the player's own safer-gambling controls:
 * self-exclusion, time-outs, purchase spend limits. Every check reads committed rows in the request
 * that asks (no cache): a self-exclusion is in force for the very next check, in the same second.
 */
import { Problems, uuidv7 } from '@verity/kernel';
import type { GateDecision, PartContext } from '../contract.ts';
import {
  COOLING_OFF_HOURS, PERIODS, UNKNOWN_PLAYER, decide, extensionRefusal, selfExclusionEnd, spendCheck, timeOutEnd, whenEffective,
  type Action, type LimitState, type Period,
} from './domain.ts';
import type { AuditTrail } from '../cases/history.ts';
import type { EligibilityRepository, PeriodRow } from './repository.ts';

export interface CheckInput {
  playerId: string;
  amountMinor: bigint;
  currency: string;
  competitionId?: string;
}

const PLAYER_ID = /^[A-Za-z0-9-]{1,64}$/;
const CURRENCY = /^[A-Z]{3}$/;

function validateCheck(input: CheckInput): { amountMinor: bigint } {
  if (typeof input?.playerId !== 'string' || !PLAYER_ID.test(input.playerId)) throw Problems.validation([{ pointer: '/playerId', detail: 'must be a player id' }]);
  if (typeof input.currency !== 'string' || !CURRENCY.test(input.currency)) throw Problems.validation([{ pointer: '/currency', detail: 'must be an ISO 4217 code' }]);
  // Over the remote codec a bigint may arrive as its decimal string.
  const raw: unknown = input.amountMinor;
  const amountMinor = typeof raw === 'bigint' ? raw : typeof raw === 'string' && /^[0-9]{1,19}$/.test(raw) ? BigInt(raw) : typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : -1n;
  if (amountMinor < 0n) throw Problems.validation([{ pointer: '/amountMinor', detail: 'must be a non-negative amount in minor units' }]);
  return { amountMinor };
}

export interface SpendLimitChange {
  period: Period;
  amountMinor: bigint | null;
  effectiveAt: Date;
  immediate: boolean;
}

export function createEligibility(ctx: PartContext, repo: EligibilityRepository, trail: AuditTrail, options: { registerRequired: boolean }) {
  const { db } = ctx;
  const now = () => ctx.clock.now();

  async function check(action: Action, input: CheckInput): Promise<GateDecision> {
    const { amountMinor } = validateCheck(input);
    const at = await now();
    if (action === 'purchase') {
      const { facts, limits } = await repo.purchaseFacts(input.playerId, input.currency, at);
      return decide(action, facts ?? UNKNOWN_PLAYER, spendCheck(limits, amountMinor), options.registerRequired);
    }
    return decide(action, (await repo.facts(input.playerId, at)) ?? UNKNOWN_PLAYER, undefined, options.registerRequired);
  }

  async function selfExclude(playerId: string, months: number): Promise<{ exclusion: PeriodRow; extended: boolean }> {
    return db.tx(async () => {
      await repo.lockPlayer(playerId);
      const at = await now();
      const endsAt = selfExclusionEnd(at, months);
      const current = await repo.currentSelfExclusion(playerId, at);
      const refusal = extensionRefusal('self-exclusion', current?.endsAt ?? null, endsAt);
      if (refusal) throw refusal;
      const id = uuidv7();
      await repo.insertSelfExclusion({ id, playerId, source: 'player', months, startsAt: at, endsAt, extendsId: current?.id ?? null });
      const actor = `player:${playerId}`;
      await trail.record({ actor, action: 'compliance.self-excluded', subject: actor, data: { exclusionId: id, months, startsAt: at.toISOString(), endsAt: endsAt.toISOString(), extends: current?.id ?? null } });
      await ctx.events.publish({
        type: 'compliance.self-excluded.v1', subject: playerId,
        data: { playerId, exclusionId: id, source: 'player', startsAt: at.toISOString(), endsAt: endsAt.toISOString(), extended: current !== undefined },
      });
      await suppressMarketing(playerId, 'self-exclusion', at);
      return { exclusion: { id, startsAt: current?.startsAt ?? at, endsAt }, extended: current !== undefined };
    });
  }

  /** Marketing stops for good (the flag) and every channel is told (the event). */
  async function suppressMarketing(playerId: string, reason: 'self-exclusion' | 'national-register', at: Date): Promise<void> {
    if (!(await repo.suppressMarketing(playerId, at))) return;
    await trail.record({ actor: 'system', action: 'compliance.marketing-suppressed', subject: `player:${playerId}`, data: { reason } });
    await ctx.events.publish({ type: 'compliance.marketing-suppressed.v1', subject: playerId, data: { playerId, reason, suppressedAt: at.toISOString() } });
  }

  async function takeTimeOut(playerId: string, hours: number): Promise<{ timeOut: PeriodRow; extended: boolean }> {
    return db.tx(async () => {
      await repo.lockPlayer(playerId);
      const at = await now();
      const endsAt = timeOutEnd(at, hours);
      const current = await repo.currentTimeOut(playerId, at);
      const refusal = extensionRefusal('time-out', current?.endsAt ?? null, endsAt);
      if (refusal) throw refusal;
      const id = uuidv7();
      await repo.insertTimeOut({ id, playerId, hours, startsAt: at, endsAt });
      const actor = `player:${playerId}`;
      await trail.record({ actor, action: 'compliance.time-out-started', subject: actor, data: { timeOutId: id, hours, endsAt: endsAt.toISOString() } });
      await ctx.events.publish({ type: 'compliance.time-out-started.v1', subject: playerId, data: { playerId, timeOutId: id, startsAt: at.toISOString(), endsAt: endsAt.toISOString() } });
      return { timeOut: { id, startsAt: current?.startsAt ?? at, endsAt }, extended: current !== undefined };
    });
  }

  async function setSpendLimits(playerId: string, currency: string, request: Partial<Record<Period, bigint | null>>): Promise<SpendLimitChange[]> {
    return db.tx(async () => {
      await repo.lockPlayer(playerId);
      const at = await now();
      const states = new Map((await repo.limitStates(playerId, currency, at)).map((s) => [s.period, s]));
      const applied: SpendLimitChange[] = [];
      for (const period of PERIODS) {
        if (!(period in request)) continue;
        const requested = request[period] ?? null;
        if (requested !== null && requested < 0n) throw Problems.validation([{ pointer: `/body/${period}`, detail: 'must be 0 or more' }]);
        const state = states.get(period)!;
        const when = whenEffective(state.activeMinor, requested);
        // Asking again for the same looser limit keeps its cooling-off clock running.
        if (when === 'after-cooling-off' && state.pending && state.pending.amountMinor === requested) continue;
        await repo.cancelPendingLimit(playerId, currency, period, at);
        if (when === 'unchanged') continue;
        const effectiveAt = when === 'now' ? at : new Date(at.getTime() + COOLING_OFF_HOURS * 3_600_000);
        await repo.insertLimitChange({ id: uuidv7(), playerId, currency, period, amountMinor: requested, requestedAt: at, effectiveAt });
        applied.push({ period, amountMinor: requested, effectiveAt, immediate: when === 'now' });
      }
      if (applied.length) {
        const changes = applied.map((c) => ({ period: c.period, amountMinor: c.amountMinor?.toString() ?? null, effectiveAt: c.effectiveAt.toISOString(), immediate: c.immediate }));
        const actor = `player:${playerId}`;
        await trail.record({ actor, action: 'compliance.spend-limits-changed', subject: actor, data: { currency, changes } });
        await ctx.events.publish({ type: 'compliance.spend-limits-changed.v1', subject: playerId, data: { playerId, currency, changes } });
      }
      return applied;
    });
  }

  async function spendLimits(playerId: string, currency: string): Promise<LimitState[]> {
    return repo.limitStates(playerId, currency, await now());
  }

  async function status(playerId: string) {
    const at = await now();
    const [player, exclusion, timeOut] = await Promise.all([repo.player(playerId), repo.currentSelfExclusion(playerId, at), repo.currentTimeOut(playerId, at)]);
    return { player, exclusion, timeOut, at };
  }

  return {
    canDeposit: (input: CheckInput) => check('deposit', input),
    canPurchase: (input: CheckInput) => check('purchase', input),
    canWithdraw: (input: CheckInput) => check('withdraw', input),
    check,
    selfExclude,
    suppressMarketing,
    takeTimeOut,
    setSpendLimits,
    spendLimits,
    status,
  };
}

export type Eligibility = ReturnType<typeof createEligibility>;
