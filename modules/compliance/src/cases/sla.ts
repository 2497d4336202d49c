/**
 * SLA timers of cases on the kernel queue: a reminder at 75 % of the SLA and an escalation to a
 * compliance manager when it is overdue. Each is one job per case and kind (`singletonKey`), enqueued
 * in the transaction that opens or reopens the case, so a timer exists exactly when the case does and
 * survives restarts. A job carries the schedule it belongs to (`slaVersion`); a job of an older
 * schedule, or one that already fired (a redelivery), changes nothing: each fires once.
 */
import type { JobDefinition } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { ESCALATION_ROLE } from './domain.ts';
import type { History } from './history.ts';
import type { CaseRecord, CasesRepository } from './repository.ts';

export const REMINDER_JOB = 'case-sla-reminder';
export const ESCALATION_JOB = 'case-sla-escalation';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TimerData {
  caseId?: unknown;
  slaVersion?: unknown;
}

/** Enqueues (or moves) both timers of a case; must run in the transaction that set its SLA. */
export async function scheduleSla(ctx: PartContext, c: CaseRecord): Promise<void> {
  const data = { caseId: c.id, slaVersion: c.slaVersion };
  await ctx.jobs.enqueue(REMINDER_JOB, data, { startAfter: c.reminderAt, singletonKey: `${c.id}:reminder` });
  await ctx.jobs.enqueue(ESCALATION_JOB, data, { startAfter: c.dueAt, singletonKey: `${c.id}:escalation` });
}

function parse(data: TimerData): { caseId: string; slaVersion: number } | undefined {
  if (typeof data.caseId !== 'string' || !UUID.test(data.caseId) || typeof data.slaVersion !== 'number') return undefined;
  return { caseId: data.caseId, slaVersion: data.slaVersion };
}

export function slaJobs(ctx: PartContext, repo: CasesRepository, history: History): JobDefinition<TimerData>[] {
  const { db, log } = ctx;

  /** Locks the case; undefined when the timer is stale (closed, rescheduled) or already fired. */
  async function due(data: TimerData, fired: (c: CaseRecord) => boolean): Promise<CaseRecord | undefined> {
    const t = parse(data);
    if (!t) {
      log.warn({ data }, 'SLA timer without a case; ignored');
      return undefined;
    }
    const c = await repo.lock(t.caseId);
    if (!c || c.state === 'closed' || c.slaVersion !== t.slaVersion || fired(c)) return undefined;
    return c;
  }

  const reminder: JobDefinition<TimerData> = {
    name: REMINDER_JOB,
    retryLimit: 5,
    retryDelayS: 10,
    async handle(data) {
      await db.tx(async () => {
        const c = await due(data, (x) => x.remindedAt !== null);
        if (!c) return;
        const now = await ctx.clock.now();
        const updated = await repo.update(c.id, { remindedAt: now }, now);
        await history.record(updated, { actor: 'system', action: 'sla-reminder', detail: { dueAt: c.dueAt.toISOString(), assignee: c.assignee } }, now);
        await ctx.events.publish({ type: 'compliance.case-sla-reminder.v1', subject: c.id, data: { caseId: c.id, type: c.type, assignee: c.assignee, dueAt: c.dueAt.toISOString() } });
      });
    },
  };

  const escalation: JobDefinition<TimerData> = {
    name: ESCALATION_JOB,
    retryLimit: 5,
    retryDelayS: 10,
    async handle(data) {
      await db.tx(async () => {
        const c = await due(data, (x) => x.escalatedAt !== null);
        if (!c) return;
        const now = await ctx.clock.now();
        const updated = await repo.update(c.id, { escalatedAt: now }, now);
        await history.record(updated, { actor: 'system', action: 'escalated', detail: { dueAt: c.dueAt.toISOString(), escalatedTo: ESCALATION_ROLE, assignee: c.assignee } }, now);
        await ctx.events.publish({
          type: 'compliance.case-escalated.v1', subject: c.id,
          data: { caseId: c.id, type: c.type, assignee: c.assignee, dueAt: c.dueAt.toISOString(), escalatedTo: ESCALATION_ROLE },
        });
        log.warn({ caseId: c.id, type: c.type }, 'case overdue: escalated to a compliance manager');
      });
    },
  };

  return [reminder, escalation];
}
