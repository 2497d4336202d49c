/**
 * Competition use cases: drafts, the prize-readiness attestation, publishing (terms complete, skill
 * test ready), sales opening and closing on time, cancellation (refunds follow in a job), the
 * four-eyes closing-time override, and what the draws module records (manifest, drawn, settled).
 */
import { randomBytes } from 'node:crypto';
import { isDomainError, pgCode, uuidv7, type JobQueue } from '@verity/kernel';
import type { Competition, PartContext, Ports, PublishedCompetition } from '../contract.ts';
import { canTransition, closingTimeChangeable, type CompetitionState } from '../domain/lifecycle.ts';
import { roundKeys, shardLayout } from '../domain/numbers.ts';
import { publishChecklist, type PrizeReadiness } from '../domain/terms.ts';
import { TicketingErrors } from '../errors.ts';
import {
  TicketingEvents, type ClosingTimeChangedV1, type CompetitionCancelledV1, type CompetitionClosedV1, type CompetitionOpenedV1, type CompetitionPublishedV1,
} from '../events.ts';
import type { CompetitionCache } from './cache.ts';
import type { CompetitionsRepository, DraftFields, OverrideRow } from './repository.ts';

export const TIMER_JOB = 'competition-timer';
export const REFUND_JOB = 'refund-cancelled';

export interface TimerData {
  competitionId: string;
  action: 'open' | 'close';
}

export interface ReadinessInput {
  kind: 'owned' | 'contracted';
  documentSha256?: string;
  externalReference?: string;
  cashAlternativeReservedMinor: bigint;
  notes?: string;
}

export async function scheduleTimer(jobs: JobQueue, competitionId: string, action: TimerData['action'], at: Date): Promise<void> {
  await jobs.enqueue(TIMER_JOB, { competitionId, action } satisfies TimerData, { startAfter: at, singletonKey: `${action}:${competitionId}` });
}

export function createCompetitionService(ctx: PartContext, deps: { repo: CompetitionsRepository; cache: CompetitionCache; ports: Ports }) {
  const { db, audit, events, jobs, log } = ctx;
  const { repo, cache, ports } = deps;

  async function load(id: string, lock = false): Promise<Competition> {
    const c = await repo.get(id, { lock });
    if (!c) throw TicketingErrors.competitionNotFound();
    return c;
  }

  async function draft(id: string): Promise<Competition> {
    const c = await load(id, true);
    if (c.state !== 'draft') throw TicketingErrors.notDraft(c.state);
    return c;
  }

  async function create(actor: string, fields: DraftFields): Promise<Competition> {
    return db.tx(async () => {
      const c = await repo.insert(uuidv7(), fields, actor);
      await audit.record({ actor, action: 'ticketing.competition-created', subject: `competition:${c.id}`, data: { title: c.title, drawKind: c.drawKind } });
      return c;
    });
  }

  async function update(actor: string, id: string, fields: DraftFields): Promise<Competition> {
    return db.tx(async () => {
      await draft(id);
      const c = await repo.updateDraft(id, fields);
      await audit.record({ actor, action: 'ticketing.competition-updated', subject: `competition:${id}` });
      return c;
    });
  }

  /** The prize-readiness check until the assets module answers it: a recorded, audited attestation. */
  async function attestReadiness(actor: string, id: string, input: ReadinessInput): Promise<Competition> {
    if (input.documentSha256 && !(await ctx.objects.exists(input.documentSha256))) throw TicketingErrors.documentNotFound();
    return db.tx(async () => {
      await draft(id);
      const readiness: PrizeReadiness = { ...input, attestedBy: actor, attestedAt: await ctx.clock.now() };
      await repo.setReadiness(id, readiness);
      await audit.record({
        actor, action: 'ticketing.prize-readiness-attested', subject: `competition:${id}`,
        data: { kind: input.kind, documentSha256: input.documentSha256 ?? null, externalReference: input.externalReference ?? null, cashAlternativeReservedMinor: input.cashAlternativeReservedMinor.toString() },
      });
      return load(id);
    });
  }

  async function publish(actor: string, id: string): Promise<Competition> {
    // The skill module is asked outside our transaction (it may run in another process).
    const skill = await ports.skill().getTestForCompetition({ competitionId: id });
    const published = await db.tx(async () => {
      const c = await draft(id);
      const missing = publishChecklist(c, skill, await ctx.clock.now());
      if (missing.length) throw TicketingErrors.incomplete(missing);
      const luckyKey = randomBytes(32);
      const p = await repo.publish({
        id, closesAt: c.closesAt!, by: actor, luckyKey,
        skillTest: { ...(skill.testId ? { testId: skill.testId } : {}), ...(skill.kind ? { kind: skill.kind } : {}), ...(skill.summary ? { summary: skill.summary } : {}) },
        slices: shardLayout(c.maxTickets!, ctx.config.ticketingNumberShards).map((s) => ({ ...s, roundKeys: roundKeys(luckyKey, s.shard) })),
      }) as PublishedCompetition;
      await events.publish<CompetitionPublishedV1>({ type: TicketingEvents.competitionPublished, subject: id, data: publishedEvent(p) });
      await scheduleTimer(jobs, id, 'open', p.opensAt);
      await scheduleTimer(jobs, id, 'close', p.closesAt);
      await audit.record({ actor, action: 'ticketing.competition-published', subject: `competition:${id}`, data: { opensAt: p.opensAt.toISOString(), closesAt: p.closesAt.toISOString(), shards: p.shardCount } });
      return p;
    });
    cache.forget(id);
    return published;
  }

  /** Cancels; every paid ticket is refunded by the refund job (it resumes after a crash). */
  async function cancel(actor: string, id: string, reason: string): Promise<Competition> {
    const c = await db.tx(async () => {
      const current = await load(id, true);
      if (!canTransition(current.state, 'cancelled')) throw TicketingErrors.transitionRefused(current.state, 'cancelled');
      // Waits for sales in flight (they hold their number shard rows); later sales see it.
      const cancelled = await repo.cancel(id, reason, actor);
      await events.publish<CompetitionCancelledV1>({ type: TicketingEvents.competitionCancelled, subject: id, data: { competitionId: id, reason } });
      await jobs.enqueue(REFUND_JOB, { competitionId: id }, { singletonKey: `refund:${id}` });
      await audit.record({ actor, action: 'ticketing.competition-cancelled', subject: `competition:${id}`, reason, data: { previousState: current.state } });
      return cancelled;
    });
    cache.forget(id);
    return c;
  }

  async function open(id: string): Promise<boolean> {
    const opened = await db.tx(async () => {
      const c = await repo.openIfDue(id);
      if (c) await events.publish<CompetitionOpenedV1>({ type: TicketingEvents.competitionOpened, subject: id, data: { competitionId: id, openedAt: c.openedAt!.toISOString() } });
      return c !== undefined;
    });
    if (opened) cache.forget(id);
    return opened;
  }

  async function close(id: string): Promise<boolean> {
    const closed = await db.tx(async () => {
      const c = await repo.closeIfDue(id);
      if (!c) return false;
      const n = await repo.entryCounts(id);
      await events.publish<CompetitionClosedV1>({
        type: TicketingEvents.competitionClosed, subject: id,
        data: { competitionId: id, closedAt: c.closedAt!.toISOString(), sold: n.sold, voided: n.voided, postal: n.postal, validEntries: n.validEntries },
      });
      return true;
    });
    if (closed) cache.forget(id);
    return closed;
  }

  async function requestClosingTimeChange(actor: string, id: string, newClosesAt: Date, reason: string): Promise<OverrideRow> {
    return db.tx(async () => {
      const c = await load(id, true);
      await assertChangeable(c, newClosesAt);
      const o = await repo.insertOverride({ id: uuidv7(), competitionId: id, oldClosesAt: c.closesAt!, newClosesAt, reason, requestedBy: actor });
      await audit.record({ actor, action: 'ticketing.closing-time-change-requested', subject: `competition:${id}`, reason, data: { overrideId: o.id, oldClosesAt: c.closesAt!.toISOString(), newClosesAt: newClosesAt.toISOString() } });
      return o;
    });
  }

  async function approveClosingTimeChange(actor: string, id: string, overrideId: string): Promise<OverrideRow> {
    const approved = await db.tx(async () => {
      const c = await load(id, true);
      const o = await repo.getOverride(id, overrideId);
      if (!o) throw TicketingErrors.overrideNotFound();
      if (o.state !== 'requested') throw TicketingErrors.overrideNotPending(o.state);
      if (o.requestedBy === actor) throw TicketingErrors.sameOperator();
      await assertChangeable(c, o.newClosesAt);
      const applied = await repo.applyOverride(overrideId, id, actor, o.newClosesAt);
      await scheduleTimer(jobs, id, 'close', o.newClosesAt);
      await events.publish<ClosingTimeChangedV1>({
        type: TicketingEvents.closingTimeChanged, subject: id,
        data: { competitionId: id, oldClosesAt: c.closesAt!.toISOString(), newClosesAt: o.newClosesAt.toISOString(), approvedBy: actor },
      });
      await audit.record({ actor, action: 'ticketing.closing-time-changed', subject: `competition:${id}`, reason: o.reason, data: { overrideId, requestedBy: o.requestedBy, oldClosesAt: c.closesAt!.toISOString(), newClosesAt: o.newClosesAt.toISOString() } });
      return applied;
    });
    cache.forget(id);
    return approved;
  }

  async function assertChangeable(c: Competition, newClosesAt: Date): Promise<void> {
    if (!closingTimeChangeable(c.state)) throw TicketingErrors.closingTimeNotChangeable(`The competition is ${c.state}; only a scheduled or on-sale competition's closing time can change.`);
    const now = await db.now();
    if (now.getTime() >= c.closesAt!.getTime()) throw TicketingErrors.closingTimeNotChangeable('The closing time has passed.');
    if (newClosesAt.getTime() <= now.getTime()) throw TicketingErrors.closingTimeNotChangeable('The new closing time must be in the future.');
    if (newClosesAt.getTime() <= c.opensAt!.getTime()) throw TicketingErrors.closingTimeNotChangeable('The new closing time must be after the opening time.');
  }

  async function recordDrawManifest(input: { competitionId: string; drawId: string; manifestHash: string; logIndex: number }): Promise<void> {
    const opened = await db.tx(async () => {
      const c = await load(input.competitionId, true);
      const m = c.drawManifest;
      if (m) {
        if (m.drawId === input.drawId && m.manifestHash === input.manifestHash && m.logIndex === input.logIndex) return false;
        throw TicketingErrors.manifestConflict();
      }
      if (c.state !== 'draft' && c.state !== 'scheduled') throw TicketingErrors.transitionRefused(c.state, c.state, 'A draw manifest is recorded before sales open.');
      await repo.setManifest(c.id, input);
      await audit.record({ actor: 'service:draws', action: 'ticketing.draw-manifest-recorded', subject: `competition:${c.id}`, data: { drawId: input.drawId, manifestHash: input.manifestHash, logIndex: input.logIndex } });
      // Due already (the manifest came late): open now rather than at the next sweep.
      return c.state === 'scheduled';
    });
    cache.forget(input.competitionId);
    if (opened) await open(input.competitionId);
  }

  async function markDrawn(input: { competitionId: string; drawId: string; resultHash: string }): Promise<void> {
    await db.tx(async () => {
      const c = await load(input.competitionId, true);
      if (c.drawManifest && c.drawManifest.drawId !== input.drawId) throw TicketingErrors.drawMismatch();
      if (c.state === 'drawn' || c.state === 'settled') {
        if (c.drawResult?.drawId !== input.drawId || c.drawResult.resultHash !== input.resultHash) throw TicketingErrors.drawMismatch();
        return;
      }
      if (c.state !== 'closed') throw TicketingErrors.transitionRefused(c.state, 'drawn');
      await repo.markDrawn(c.id, input.drawId, input.resultHash);
      await audit.record({ actor: 'service:draws', action: 'ticketing.competition-drawn', subject: `competition:${c.id}`, data: { drawId: input.drawId, resultHash: input.resultHash } });
    });
    cache.forget(input.competitionId);
  }

  async function markSettled(input: { competitionId: string; drawId: string }): Promise<void> {
    await db.tx(async () => {
      const c = await load(input.competitionId, true);
      if (c.drawResult && c.drawResult.drawId !== input.drawId) throw TicketingErrors.drawMismatch();
      if (c.state === 'settled') return;
      if (c.state !== 'drawn') throw TicketingErrors.transitionRefused(c.state, 'settled');
      await repo.markSettled(c.id);
      await audit.record({ actor: 'service:draws', action: 'ticketing.competition-settled', subject: `competition:${c.id}`, data: { drawId: input.drawId } });
    });
    cache.forget(input.competitionId);
  }

  /** Runs a timer: opening or closing when due; catches any competition the timers missed. */
  async function runTimer(data: TimerData): Promise<void> {
    try {
      if (data.action === 'open') {
        if (!(await open(data.competitionId))) log.debug({ competitionId: data.competitionId }, 'not opened (not due, manifest missing, or not scheduled)');
      } else await close(data.competitionId);
    } catch (err) {
      // A refusal of the lifecycle (e.g. cancelled meanwhile) is an answer, not a failure to retry.
      if (isDomainError(err) || pgCode(err) === '23514') log.warn({ err, ...data }, 'competition timer refused');
      else throw err;
    }
  }

  async function sweep(limit: number): Promise<void> {
    for (const id of await repo.due('close', limit)) await runTimer({ competitionId: id, action: 'close' });
    for (const id of await repo.due('open', limit)) await runTimer({ competitionId: id, action: 'open' });
  }

  return {
    load, create, update, attestReadiness, publish, cancel, open, close, requestClosingTimeChange, approveClosingTimeChange,
    recordDrawManifest, markDrawn, markSettled, runTimer, sweep,
  };
}

function publishedEvent(p: PublishedCompetition): CompetitionPublishedV1 {
  return {
    competitionId: p.id, title: p.title, state: 'scheduled', opensAt: p.opensAt.toISOString(), closesAt: p.closesAt.toISOString(),
    priceMinor: p.priceMinor.toString(), currency: p.currency, maxTickets: p.maxTickets, perPlayerCap: p.perPlayerCap, drawKind: p.drawKind,
    // A cash prize is credited to the winner's wallet; a cash alternative is only an offer the winner
    // of a prize (a car) may take instead, settled by prize fulfilment: the two must not be confused.
    prizeTiers: p.prizeTiers.map((t) => ({
      tier: t.tier, description: t.description, winners: t.winners,
      ...(t.cashMinor !== undefined ? { cashMinor: t.cashMinor.toString() } : {}),
      ...(t.cashAlternativeMinor !== undefined ? { cashAlternativeMinor: t.cashAlternativeMinor.toString() } : {}),
      ...(t.cashMinor !== undefined || t.cashAlternativeMinor !== undefined ? { currency: p.currency } : {}),
    })),
    skillTestKind: p.skillTest?.kind ?? 'unknown',
  };
}

export type CompetitionService = ReturnType<typeof createCompetitionService>;
export type { CompetitionState };
