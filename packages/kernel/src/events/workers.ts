/**
 * What runs when a queue hands this process a job: a subscriber's handler inside a transaction with
 * its inbox record (so a redelivered event has its effect once), or a module's job.
 */
import type { PgBoss, Job, JobResult } from 'pg-boss';
import type { Db } from '../db/db.ts';
import { requestContext } from '../http/context.ts';
import { continueTrace } from '../http/trace.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { JobPayload } from './envelope.ts';
import { claimInbox, claimInboxes } from './outbox.ts';
import type { CloudEvent, JobDefinition, SubscriberDefinition } from './types.ts';

/** Fallback poll of each worker; NOTIFY wakes them at once, this catches retries coming due. */
const POLL_S = 2;

interface WorkerContext {
  db: Db;
  boss: PgBoss;
  log: Logger;
}

/**
 * pg-boss waits a polling interval after every batch; a worker that just finished a job asks for the
 * next one at once instead (a backlog drains at full speed), and an idle queue still costs one poll
 * per interval. Waking a worker only cuts its wait short.
 */
function fetchAgain(boss: PgBoss, queue: string): void {
  for (const w of boss.getWipData()) if (w.name === queue) boss.notifyWorker(w.id);
}

/** The handler continues the trace of the request that published the event or enqueued the job. */
function inTrace<T>(requestId: string, traceparent: string | undefined, fn: () => Promise<T>): Promise<T> {
  return requestContext.run({ requestId, trace: continueTrace(traceparent) }, fn);
}

export async function deliverEvent(ctx: WorkerContext, module: string, sub: SubscriberDefinition, job: Job<CloudEvent>): Promise<void> {
  const event = job.data;
  await inTrace(event.id, event.traceparent, () =>
    ctx.db.tx(async () => {
      if (!(await claimInbox(ctx.db, module, sub.name, event.id))) {
        ctx.log.debug({ module, subscriber: sub.name, eventId: event.id, type: event.type }, 'event already handled; skipped');
        return;
      }
      await sub.handle(event, { attempt: job.retryCount + 1, signal: job.signal });
    }),
  );
}

/**
 * A batch of events in one transaction: one inbox statement, the handlers in order, one commit.
 * False when a handler threw (the batch rolled back; the caller runs the events one at a time).
 */
async function deliverTogether(ctx: WorkerContext, module: string, sub: SubscriberDefinition, jobs: Job<CloudEvent>[]): Promise<boolean> {
  try {
    await ctx.db.tx(async () => {
      const fresh = await claimInboxes(ctx.db, module, sub.name, jobs.map((j) => j.data.id));
      for (const job of jobs) {
        const event = job.data;
        if (!fresh.delete(event.id)) continue;
        await inTrace(event.id, event.traceparent, () => sub.handle(event, { attempt: job.retryCount + 1, signal: job.signal }));
      }
    });
    return true;
  } catch (err) {
    ctx.log.debug({ err, module, subscriber: sub.name, events: jobs.length }, 'a handler of the batch failed; its events run one at a time');
    return false;
  }
}

/** Each job's outcome: completed, or failed with its error (pg-boss retries it, then dead-letters it). */
async function deliverBatch(ctx: WorkerContext, module: string, sub: SubscriberDefinition, jobs: Job<CloudEvent>[]): Promise<JobResult[]> {
  if (jobs.length > 1 && (await deliverTogether(ctx, module, sub, jobs))) return jobs.map((j) => ({ id: j.id, status: 'completed' }));
  const results: JobResult[] = [];
  for (const job of jobs) {
    try {
      await deliverEvent(ctx, module, sub, job);
      results.push({ id: job.id, status: 'completed' });
    } catch (err) {
      ctx.log.warn({ err, module, subscriber: sub.name, eventId: job.data.id, attempt: job.retryCount + 1 }, 'event handler failed');
      results.push({ id: job.id, status: 'failed', output: { name: (err as Error)?.name, message: String((err as Error)?.message ?? err) } });
    }
  }
  return results;
}

export async function workSubscriber(ctx: WorkerContext, module: string, queue: string, sub: SubscriberDefinition): Promise<void> {
  await ctx.boss.work<CloudEvent>(
    queue,
    {
      batchSize: sub.batchSize ?? 1, perJobResults: true, localConcurrency: sub.concurrency ?? 2,
      pollingIntervalSeconds: POLL_S, notifyPollingIntervalSeconds: POLL_S,
    },
    async (jobs) => {
      try {
        return await deliverBatch(ctx, module, sub, jobs);
      } finally {
        fetchAgain(ctx.boss, queue);
      }
    },
  );
}

export async function workJob(ctx: WorkerContext, module: string, queue: string, def: JobDefinition<any>): Promise<void> {
  await ctx.boss.work<JobPayload>(
    queue,
    { batchSize: 1, localConcurrency: def.concurrency ?? 1, pollingIntervalSeconds: POLL_S, notifyPollingIntervalSeconds: POLL_S },
    async ([job]) => {
      const { data, traceparent } = job!.data ?? { data: {} };
      try {
        await inTrace(job!.id, traceparent, () => def.handle(data ?? {}, { id: job!.id, attempt: job!.retryCount + 1, signal: job!.signal }));
      } catch (err) {
        ctx.log.warn({ err, module, job: def.name, jobId: job!.id, attempt: job!.retryCount + 1 }, 'job failed');
        throw err;
      } finally {
        fetchAgain(ctx.boss, queue);
      }
    },
  );
}
