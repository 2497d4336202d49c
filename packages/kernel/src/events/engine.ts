/**
 * The queue engine: pg-boss 12 in the same PostgreSQL (ADR 0003). This file is the only one that
 * knows pg-boss's options and the two of its tables we read directly (subscription, job).
 */
import { PgBoss, type Db as BossDb, type Queue } from 'pg-boss';
import type pg from 'pg';
import type { Db } from '../db/db.ts';
import type { Logger } from '../telemetry/logger.ts';
import { deadLetterQueue } from './envelope.ts';

export const BOSS_SCHEMA = 'pgboss';
/** Jobs waiting in a queue (or its DLQ) are kept this long: an event is never dropped for waiting. */
const WAITING_RETENTION_S = 365 * 86_400;
/** Exponential backoff never waits longer than this between two attempts. */
const RETRY_DELAY_MAX_S = 3_600;
/** Connections of the engine's own pool; handlers use the platform's pool. */
const ENGINE_POOL_MAX = 4;

export interface EngineOptions {
  connectionString: string;
  log: Logger;
  superviseIntervalS: number;
  /** Run maintenance, expiry and cron (the platform); off for one-shot tools (replay). */
  maintain: boolean;
}

export function createEngine(opts: EngineOptions): PgBoss {
  const boss = new PgBoss({
    connectionString: opts.connectionString,
    schema: BOSS_SCHEMA,
    max: ENGINE_POOL_MAX,
    application_name: 'verity-queue',
    useListenNotify: opts.maintain,
    supervise: opts.maintain,
    schedule: opts.maintain,
    // Expiry of jobs held by a dead process is found by the monitor pass, so both run at this pace.
    superviseIntervalSeconds: opts.superviseIntervalS,
    monitorIntervalSeconds: opts.superviseIntervalS,
    instanceName: 'verity',
  });
  boss.on('error', (err: Error) => opts.log.warn({ err }, 'queue engine error'));
  boss.on('warning', (w) => opts.log.warn({ warning: w.message }, 'queue engine warning'));
  return boss;
}

/** pg-boss statements on the caller's transaction client, so they commit or roll back with it. */
export function onClient(client: pg.PoolClient): BossDb {
  return { executeSql: (text, values) => client.query(text, values as unknown[]) };
}

/** The transaction pg-boss should join, if the caller is in one. */
export function txOption(db: Db): { db: BossDb } | Record<string, never> {
  const client = db.currentClient();
  return client ? { db: onClient(client) } : {};
}

export interface QueueSettings {
  retryLimit: number;
  retryDelayS: number;
  timeoutS: number;
  heartbeatS?: number;
}

/** Creates the queue and its DLQ, or brings an existing one to the declared settings. */
export async function ensureQueue(boss: PgBoss, name: string, s: QueueSettings): Promise<void> {
  const dlq = deadLetterQueue(name);
  await boss.createQueue(dlq, { retentionSeconds: WAITING_RETENTION_S });
  const options: Omit<Queue, 'name'> = {
    retryLimit: s.retryLimit,
    retryDelay: s.retryDelayS,
    retryBackoff: true,
    retryDelayMax: RETRY_DELAY_MAX_S,
    expireInSeconds: s.timeoutS,
    retentionSeconds: WAITING_RETENTION_S,
    deadLetter: dlq,
    notify: true,
  };
  if (s.heartbeatS !== undefined) options.heartbeatSeconds = s.heartbeatS;
  await boss.createQueue(name, options);
  // createQueue leaves an existing queue as it was; the definition in code is the truth.
  await boss.updateQueue(name, { ...options, heartbeatSeconds: s.heartbeatS ?? null });
}

/** Makes `queue` receive exactly `events` (pg-boss's subscription table is shared by every process). */
export async function syncSubscriptions(boss: PgBoss, db: Db, queue: string, events: readonly string[]): Promise<void> {
  const current = await db.query<{ event: string }>(`select event from ${BOSS_SCHEMA}.subscription where name = $1`, [queue]);
  for (const { event } of current) if (!events.includes(event)) await boss.unsubscribe(event, queue);
  for (const event of events) await boss.subscribe(event, queue);
}

/** Subscriptions of queues a module owns that its code no longer declares. */
export async function dropStaleSubscriptions(boss: PgBoss, db: Db, module: string, keep: readonly string[]): Promise<void> {
  const rows = await db.query<{ event: string; name: string }>(
    `select event, name from ${BOSS_SCHEMA}.subscription where starts_with(name, $1) and not (name = any($2::text[]))`,
    [`${module}.`, keep],
  );
  for (const r of rows) await boss.unsubscribe(r.event, r.name);
}

/** Queues subscribed to each of `types` (only queues that exist). */
export async function routesFor(db: Db, types: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await db.query<{ event: string; name: string }>(
    `select s.event, s.name from ${BOSS_SCHEMA}.subscription s join ${BOSS_SCHEMA}.queue q on q.name = s.name
      where s.event = any($1::text[]) order by s.name`,
    [types],
  );
  const routes = new Map<string, string[]>();
  for (const r of rows) routes.set(r.event, [...(routes.get(r.event) ?? []), r.name]);
  return routes;
}

export interface QueueCounts {
  depth: number;
  ready: number;
  oldestReadyAgeS: number;
  active: number;
}

/**
 * Live counts straight from the job table (pg-boss's own counts are refreshed only by its monitor
 * pass). Served by its index on (name, state, blocked, start_after) over live jobs.
 */
export async function queueCounts(db: Db, names: readonly string[]): Promise<Map<string, QueueCounts>> {
  const rows = await db.query<{ name: string; depth: bigint; ready: bigint; age_s: number | null; active: bigint }>(
    `select name,
            count(*) filter (where state < 'active') as depth,
            count(*) filter (where state < 'active' and start_after <= now()) as ready,
            extract(epoch from now() - min(start_after) filter (where state < 'active' and start_after <= now()))::float8 as age_s,
            count(*) filter (where state = 'active') as active
       from ${BOSS_SCHEMA}.job where name = any($1::text[]) and state <= 'active' and not blocked
      group by name`,
    [names],
  );
  const out = new Map<string, QueueCounts>();
  for (const r of rows) {
    out.set(r.name, { depth: Number(r.depth), ready: Number(r.ready), oldestReadyAgeS: Math.max(0, r.age_s ?? 0), active: Number(r.active) });
  }
  return out;
}
