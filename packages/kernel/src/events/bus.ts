/**
 * The event bus of one process (ADR 0003): transactional outboxes, a relay into one pg-boss queue
 * per subscriber (retries with exponential backoff, a dead-letter queue each), inboxes for
 * exactly-once effects, and module jobs and cron schedules on the same engine.
 */
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createEngine, dropStaleSubscriptions, ensureQueue, queueCounts, syncSubscriptions } from './engine.ts';
import { EVENT_TYPE, HANDLER_NAME, assertBetween, deadLetterQueue, jobQueue, subscriberQueue } from './envelope.ts';
import { createJobQueue, eventRetentionJob } from './jobs.ts';
import { createOutboxPublisher, outboxStats } from './outbox.ts';
import { startRelay, type Relay } from './relay.ts';
import type { EventPublisher, JobDefinition, JobQueue, OutboxStat, QueueStat, ScheduleInfo, SubscriberDefinition } from './types.ts';
import { workJob, workSubscriber } from './workers.ts';

export interface EventBus {
  /** Starts the queue engine (installs or migrates its schema). */
  start(): Promise<void>;
  /** Stops relaying and fetching, waits up to SHUTDOWN_GRACE_MS for handlers, releases the rest. */
  stop(): Promise<void>;
  publisherFor(module: string): EventPublisher;
  jobsFor(module: string): JobQueue;
  /** Creates the module's queues, subscriptions and cron schedules. `kernel` may register jobs. */
  register(module: string, subscribers: readonly SubscriberDefinition[], jobs: readonly JobDefinition<any>[]): Promise<void>;
  /** Starts the relay of these modules' outboxes and the workers of their queues (and the kernel's). */
  startWorkers(modules: readonly string[]): Promise<void>;
  /** Every queue registered in this process, with live counts. */
  stats(): Promise<QueueStat[]>;
  /** Relay lag of the outboxes this process relays. */
  outboxStats(): Promise<OutboxStat[]>;
  /** Every cron schedule in the database (all modules, all processes). */
  schedules(): Promise<ScheduleInfo[]>;
}

const SUBSCRIBER_DEFAULTS = { retryLimit: 8, retryDelayS: 5, timeoutS: 60 };
const JOB_DEFAULTS = { retryLimit: 3, retryDelayS: 30, timeoutS: 300 };

function checkSettings(what: string, d: { retryLimit?: number; retryDelayS?: number; timeoutS?: number; heartbeatS?: number; concurrency?: number }) {
  assertBetween(d.retryLimit, 0, 100, `${what}: retryLimit`);
  assertBetween(d.retryDelayS, 1, 3_600, `${what}: retryDelayS`);
  assertBetween(d.timeoutS, 1, 86_400, `${what}: timeoutS`);
  assertBetween(d.heartbeatS, 10, 3_600, `${what}: heartbeatS`);
  assertBetween(d.concurrency, 1, 32, `${what}: concurrency`);
}

function checkSubscriber(module: string, s: SubscriberDefinition): void {
  const what = `${module} subscriber "${s.name}"`;
  if (!HANDLER_NAME.test(s.name) || s.name === 'job') throw new Error(`${what}: name must match ${HANDLER_NAME} and not be "job"`);
  if (s.events.length === 0 || s.events.length > 100) throw new Error(`${what}: needs 1..100 event types`);
  for (const t of s.events) if (!EVENT_TYPE.test(t)) throw new Error(`${what}: "${t}" is not an event type (<module>.<event-name>.v<N>)`);
  checkSettings(what, s);
  assertBetween(s.batchSize, 1, 100, `${what}: batchSize`);
}

function checkJob(module: string, j: JobDefinition<any>): void {
  const what = `${module} job "${j.name}"`;
  if (!HANDLER_NAME.test(j.name)) throw new Error(`${what}: name must match ${HANDLER_NAME}`);
  checkSettings(what, j);
}

function checkCron(boss: PgBoss, module: string, j: JobDefinition<any>): void {
  try {
    if (boss.previewSchedule(j.cron!, { tz: 'UTC', count: 1 }).length === 0) throw new Error('it never fires');
  } catch (err) {
    throw new Error(`${module} job "${j.name}": cron "${j.cron}" is not valid (${(err as Error).message})`, { cause: err });
  }
}

function assertUnique(module: string, names: string[], what: string): void {
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`${module}: two ${what} named "${dup}"`);
}

interface Registered {
  subscribers: readonly SubscriberDefinition[];
  jobs: readonly JobDefinition<any>[];
}

function validate(boss: PgBoss, module: string, r: Registered): void {
  if (module === 'kernel' && r.subscribers.length) throw new Error('kernel registers jobs only');
  r.subscribers.forEach((s) => checkSubscriber(module, s));
  r.jobs.forEach((j) => checkJob(module, j));
  assertUnique(module, r.subscribers.map((s) => s.name), 'subscribers');
  assertUnique(module, r.jobs.map((j) => j.name), 'jobs');
  for (const j of r.jobs) if (j.cron !== undefined) checkCron(boss, module, j);
}

/** Queues, DLQs, subscriptions and schedules of `added`; `all` is everything the module declared. */
async function declare(boss: PgBoss, db: Db, module: string, added: Registered, all: Registered): Promise<void> {
  for (const s of added.subscribers) {
    const queue = subscriberQueue(module, s.name);
    await ensureQueue(boss, queue, { ...SUBSCRIBER_DEFAULTS, ...pick(s) });
    await syncSubscriptions(boss, db, queue, s.events);
  }
  await dropStaleSubscriptions(boss, db, module, all.subscribers.map((s) => subscriberQueue(module, s.name)));
  for (const j of added.jobs) {
    const queue = jobQueue(module, j.name);
    await ensureQueue(boss, queue, { ...JOB_DEFAULTS, ...pick(j) });
    // The schedule lives in the database (one cron pass for all processes); the code is its source.
    if (j.cron) await boss.schedule(queue, j.cron, { data: {} }, { tz: 'UTC' });
    else await boss.unschedule(queue);
  }
}

async function queueStats(db: Db, registered: ReadonlyMap<string, Registered>): Promise<QueueStat[]> {
  const queues: { queue: string; module: string; kind: QueueStat['kind'] }[] = [];
  for (const [module, r] of registered) {
    for (const s of r.subscribers) queues.push({ queue: subscriberQueue(module, s.name), module, kind: 'subscriber' });
    for (const j of r.jobs) queues.push({ queue: jobQueue(module, j.name), module, kind: 'job' });
  }
  const counts = await queueCounts(db, queues.flatMap((q) => [q.queue, deadLetterQueue(q.queue)]));
  const none = { depth: 0, ready: 0, oldestReadyAgeS: 0, active: 0 };
  return queues.map((q) => ({ ...q, ...(counts.get(q.queue) ?? none), dlqDepth: counts.get(deadLetterQueue(q.queue))?.depth ?? 0 }));
}

export function createEventBus(opts: { db: Db; config: Config; log: Logger; connectionString: string }): EventBus {
  const { db, config } = opts;
  const log = opts.log.child({ component: 'events' });
  const boss: PgBoss = createEngine({ connectionString: opts.connectionString, log, superviseIntervalS: config.queueSuperviseIntervalS, maintain: true });
  const registered = new Map<string, Registered>();
  const working = new Set<string>();
  let relay: Relay | undefined;
  let relayed: readonly string[] = [];
  let started = false;

  const register: EventBus['register'] = async (module, subscribers, jobs) => {
    if (!started) throw new Error('event bus: register() before start()');
    const prior = registered.get(module) ?? { subscribers: [], jobs: [] };
    const all = { subscribers: [...prior.subscribers, ...subscribers], jobs: [...prior.jobs, ...jobs] };
    validate(boss, module, all);
    await declare(boss, db, module, { subscribers, jobs }, all);
    registered.set(module, all);
  };

  const work = async (module: string) => {
    const ctx = { db, boss, log };
    for (const s of registered.get(module)?.subscribers ?? []) {
      const queue = subscriberQueue(module, s.name);
      if (!working.has(queue)) await workSubscriber(ctx, module, queue, s);
      working.add(queue);
    }
    for (const j of registered.get(module)?.jobs ?? []) {
      const queue = jobQueue(module, j.name);
      if (!working.has(queue)) await workJob(ctx, module, queue, j);
      working.add(queue);
    }
  };

  return {
    async start() {
      await boss.start();
      started = true;
    },
    async stop() {
      if (!started) return;
      started = false;
      await relay?.stop();
      // Graceful: stop fetching, wait for the handlers in flight; those still running at the deadline
      // are failed back to their queue (retried, by this or another process) and their signal aborted.
      await boss.stop({ graceful: true, timeout: Math.max(1_000, config.shutdownGraceMs), close: true });
    },
    publisherFor: (module) => createOutboxPublisher(db, module, (m) => relay?.wake(m)),
    jobsFor: (module) => createJobQueue(db, boss, module),
    register,
    async startWorkers(modules) {
      if (!registered.get('kernel')?.jobs.some((j) => j.name === 'event-retention')) {
        await register('kernel', [], [eventRetentionJob(db, config.eventRetentionDays, log)]);
      }
      for (const module of ['kernel', ...modules]) await work(module);
      relayed = [...new Set([...relayed, ...modules])];
      await relay?.stop();
      relay = await startRelay({ db, boss, log, modules: relayed });
    },
    stats: () => queueStats(db, registered),
    outboxStats: () => outboxStats(db, relayed),
    async schedules() {
      const rows = await boss.getSchedules();
      return rows.map((s) => ({ queue: s.name, cron: s.cron, timezone: s.timezone }));
    },
  };
}

function pick(d: { retryLimit?: number; retryDelayS?: number; timeoutS?: number; heartbeatS?: number }) {
  const out: { retryLimit?: number; retryDelayS?: number; timeoutS?: number; heartbeatS?: number } = {};
  if (d.retryLimit !== undefined) out.retryLimit = d.retryLimit;
  if (d.retryDelayS !== undefined) out.retryDelayS = d.retryDelayS;
  if (d.timeoutS !== undefined) out.timeoutS = d.timeoutS;
  if (d.heartbeatS !== undefined) out.heartbeatS = d.heartbeatS;
  return out;
}
