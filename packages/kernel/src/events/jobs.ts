/**
 * Module jobs and timers on the queue engine: enqueue (inside db.tx it commits with the change),
 * and the kernel's own scheduled job that purges old events.
 */
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/db.ts';
import { requestContext } from '../http/context.ts';
import type { Logger } from '../telemetry/logger.ts';
import { txOption } from './engine.ts';
import { HANDLER_NAME, JOB_DATA_MAX_BYTES, encodeJson, jobQueue, type JobPayload } from './envelope.ts';
import { modulesWithOutbox, purgeEventTables } from './outbox.ts';
import type { EnqueueOptions, JobDefinition, JobQueue } from './types.ts';

export function createJobQueue(db: Db, boss: PgBoss, module: string): JobQueue {
  return {
    async enqueue(job: string, data: object, options: EnqueueOptions = {}): Promise<string | null> {
      if (!HANDLER_NAME.test(job)) throw new Error(`${module}: "${job}" is not a job name`);
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TypeError(`${module}.${job}: job data must be an object`);
      const { startAfter, singletonKey } = options;
      if (startAfter !== undefined && !(startAfter instanceof Date) && !(Number.isFinite(startAfter) && startAfter >= 0)) {
        throw new RangeError(`${module}.${job}: startAfter must be a Date or a number of seconds ≥ 0`);
      }
      if (singletonKey !== undefined && (typeof singletonKey !== 'string' || singletonKey.length === 0 || singletonKey.length > 200)) {
        throw new RangeError(`${module}.${job}: singletonKey must be 1..200 characters`);
      }
      const payload: JobPayload = { data: JSON.parse(encodeJson(data, JOB_DATA_MAX_BYTES, `${module}.${job} data`)) };
      const traceparent = requestContext.traceparent();
      if (traceparent) payload.traceparent = traceparent;
      const queue = jobQueue(module, job);
      const tx = txOption(db);
      if (singletonKey !== undefined) {
        const result = await boss.upsert(queue, payload, { singletonKey, ...(startAfter !== undefined ? { startAfter } : {}), ...tx });
        return result.jobs[0] ?? null;
      }
      return boss.send(queue, payload, { ...(startAfter !== undefined ? { startAfter } : {}), ...tx });
    },
  };
}

/** Daily, at a quiet minute (UTC). */
const RETENTION_CRON = '17 3 * * *';

/** Purges published events past EVENT_RETENTION_DAYS in every module's outbox of this database. */
export function eventRetentionJob(db: Db, retentionDays: number, log: Logger): JobDefinition {
  return {
    name: 'event-retention',
    cron: RETENTION_CRON,
    retryLimit: 3,
    retryDelayS: 300,
    timeoutS: 3_600,
    async handle() {
      for (const module of await modulesWithOutbox(db)) {
        const purged = await purgeEventTables(db, module, retentionDays);
        if (purged.outbox || purged.inbox) log.info({ module, ...purged, retentionDays }, 'old events purged');
      }
    },
  };
}
