// PLACEHOLDER (helper "events" replaces): outbox relay + pg-boss queues, inbox, DLQ, jobs, cron.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { EventPublisher, JobDefinition, JobQueue, SubscriberDefinition } from './types.ts';
export interface EventBus {
  start(): Promise<void>;
  stop(): Promise<void>;
  publisherFor(module: string): EventPublisher;
  jobsFor(module: string): JobQueue;
  register(module: string, subscribers: readonly SubscriberDefinition[], jobs: readonly JobDefinition<any>[]): Promise<void>;
  startWorkers(modules: readonly string[]): Promise<void>;
}
export function createEventBus(opts: { db: Db; config: Config; log: Logger; connectionString: string }): EventBus {
  return {
    async start() {}, async stop() {},
    publisherFor: (module) => ({ async publish(e) { const id = e.id ?? randomUUID(); await opts.db.query(`insert into ${module}.outbox (id, type, subject, data) values ($1,$2,$3,$4)`, [id, e.type, e.subject ?? null, JSON.stringify(e.data)]); return id; } }),
    jobsFor: () => ({ async enqueue() { return null; } }),
    async register() {}, async startWorkers() {},
  };
}
