/**
 * `verity replay`: re-deliver dead-lettered jobs to their queue, or re-publish retained outbox
 * events (same event ids, so every inbox skips what it already handled).
 */
import type { PgBoss, JobInsert } from 'pg-boss';
import { createDb, type Db } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { BOSS_SCHEMA, createEngine, routesFor } from './engine.ts';
import { EVENT_TYPE, MODULE_NAME, deadLetterQueue, toCloudEvent } from './envelope.ts';
import { outboxExists, selectForReplay } from './outbox.ts';

export class ReplayError extends Error {
  override name = 'ReplayError';
}

export interface ReplayTools {
  db: Db;
  boss: PgBoss;
  close(): Promise<void>;
}

/** A database handle and a queue engine that does no maintenance: for a one-shot command. */
export async function openReplayTools(connectionString: string, log: Logger = createLogger('warn')): Promise<ReplayTools> {
  const db = createDb({ connectionString, max: 2, applicationName: 'verity-replay' });
  const boss = createEngine({ connectionString, log, superviseIntervalS: 60, maintain: false });
  try {
    await boss.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    db,
    boss,
    async close() {
      await boss.stop({ graceful: false, close: true });
      await db.close();
    },
  };
}

const QUEUE_NAME = /^[a-z][a-z0-9_]{1,30}\.[a-z0-9_.-]{1,100}$/;
const REDRIVE_MAX = 100_000;

export interface DeadLetterReplay {
  queue: string;
  deadLetterQueue: string;
  redriven: number;
}

/** Moves the jobs of `<queue>.dlq` back to `<queue>` (fresh retries), oldest first. */
export async function replayDeadLetters(t: Pick<ReplayTools, 'db' | 'boss'>, options: { queue: string; limit?: number }): Promise<DeadLetterReplay> {
  const { queue } = options;
  const limit = options.limit ?? 10_000;
  if (!QUEUE_NAME.test(queue) || queue.endsWith('.dlq')) throw new ReplayError(`"${queue}" is not a queue name (give the queue, e.g. payments.on-ticket-purchased, not its .dlq)`);
  if (!Number.isInteger(limit) || limit < 1 || limit > REDRIVE_MAX) throw new ReplayError(`limit must be 1..${REDRIVE_MAX}`);
  const dlq = deadLetterQueue(queue);
  const found = await t.db.query(`select name from ${BOSS_SCHEMA}.queue where name = any($1::text[])`, [[queue, dlq]]);
  if (found.length !== 2) throw new ReplayError(`queue "${queue}" or its dead-letter queue does not exist`);
  const redriven = await t.boss.redrive(dlq, { destination: queue, limit });
  return { queue, deadLetterQueue: dlq, redriven };
}

export interface OutboxReplayOptions {
  module: string;
  type?: string;
  since?: Date;
  /** Only to this subscriber (`module.name`); default: every queue subscribed now. */
  subscriber?: string;
  /** At most this many events (default 10 000). */
  limit?: number;
}

export interface OutboxReplay {
  module: string;
  events: number;
  deliveries: { queue: string; count: number }[];
}

const REPLAY_PAGE = 500;
const REPLAY_MAX = 1_000_000;

function checkOutboxOptions(o: OutboxReplayOptions): number {
  if (!MODULE_NAME.test(o.module)) throw new ReplayError(`"${o.module}" is not a module name`);
  if (o.type !== undefined && !EVENT_TYPE.test(o.type)) throw new ReplayError(`"${o.type}" is not an event type`);
  if (o.since !== undefined && Number.isNaN(o.since.getTime())) throw new ReplayError('since must be an ISO 8601 time');
  if (o.subscriber !== undefined && !QUEUE_NAME.test(o.subscriber)) throw new ReplayError(`"${o.subscriber}" is not a subscriber (module.name)`);
  const limit = o.limit ?? 10_000;
  if (!Number.isInteger(limit) || limit < 1 || limit > REPLAY_MAX) throw new ReplayError(`limit must be 1..${REPLAY_MAX}`);
  return limit;
}

/** Enqueues retained, already-published events again to the queues subscribed to their type. */
export async function replayOutbox(t: Pick<ReplayTools, 'db' | 'boss'>, options: OutboxReplayOptions): Promise<OutboxReplay> {
  const limit = checkOutboxOptions(options);
  const { module } = options;
  if (!(await outboxExists(t.db, module))) throw new ReplayError(`module "${module}" has no outbox in this database`);
  if (options.subscriber !== undefined && !(await t.db.maybeOne(`select 1 from ${BOSS_SCHEMA}.queue where name = $1`, [options.subscriber]))) {
    throw new ReplayError(`subscriber "${options.subscriber}" has no queue in this database`);
  }
  const deliveries = new Map<string, number>();
  let events = 0;
  let afterPosition: bigint | undefined;
  while (events < limit) {
    const rows = await selectForReplay(t.db, module, { type: options.type, since: options.since, afterPosition, limit: Math.min(REPLAY_PAGE, limit - events) });
    if (rows.length === 0) break;
    const routes = await routesFor(t.db, [...new Set(rows.map((r) => r.type))]);
    const byQueue = new Map<string, JobInsert[]>();
    for (const row of rows) {
      for (const queue of routes.get(row.type) ?? []) {
        if (options.subscriber !== undefined && queue !== options.subscriber) continue;
        // A new job id (the relayed job may still exist); the event id inside stays the same.
        const jobs = byQueue.get(queue) ?? [];
        jobs.push({ id: uuidv7(), data: toCloudEvent(module, row) });
        byQueue.set(queue, jobs);
      }
    }
    for (const [queue, jobs] of byQueue) {
      await t.boss.insert(queue, jobs);
      deliveries.set(queue, (deliveries.get(queue) ?? 0) + jobs.length);
    }
    events += rows.length;
    afterPosition = rows.at(-1)!.position;
  }
  return { module, events, deliveries: [...deliveries].map(([queue, count]) => ({ queue, count })) };
}
