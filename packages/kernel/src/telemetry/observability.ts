/**
 * The operations routes: /healthz (the process is alive), /readyz (it can serve: database reachable,
 * migrations current, queue engine running) and /metrics (Prometheus text of this platform's own
 * registry). They are exempt from rate limits: probes and scrapers call them on a schedule.
 */
import { Type } from 'typebox';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { migrationsCurrent, type Migration } from '../db/migrations.ts';
import { DomainError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { httpTelemetry, sendProblem, type HttpApp } from '../http/server.ts';
import { registerRuntimeMetrics } from './metrics.ts';

export interface ObservabilityOptions {
  db: Db;
  bus: EventBus;
  migrations: Migration[][];
  config: Config;
}

type CheckResult = 'ok' | 'failed';
type Checks = { database: CheckResult; migrations: CheckResult; queues: CheckResult };

/** A check that does not answer within this is failed: readiness must answer fast to be useful. */
const CHECK_TIMEOUT_MS = 2000;

async function within(check: () => Promise<boolean>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([check().catch(() => false), timeout])) ? 'ok' : 'failed';
  } finally {
    clearTimeout(timer);
  }
}

const Health = Type.Object({ status: Type.Literal('ok') });
const CheckState = Type.Union([Type.Literal('ok'), Type.Literal('failed')]);
const Readiness = Type.Object({
  status: Type.Literal('ready'),
  checks: Type.Object({ database: CheckState, migrations: CheckState, queues: CheckState }),
});

export async function registerObservability(app: HttpApp, opts: ObservabilityOptions): Promise<void> {
  const { db, bus, migrations } = opts;
  const { metrics } = httpTelemetry(app);
  registerRuntimeMetrics(metrics, { db, queueStats: () => bus.stats(), outboxStats: () => bus.outboxStats() });
  const exempt = { rateLimit: false };

  app.get('/healthz', {
    config: exempt,
    schema: { operationId: 'getHealth', tags: ['operations'], summary: 'The process is alive', response: { 200: Health } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: exempt,
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'The process can serve: database reachable, migrations current, queue engine running',
      description: 'Answers 503 problem+json naming the failed checks otherwise.',
      response: { 200: Readiness },
    },
  }, async (_req, reply) => {
    const [database, current, queues] = await Promise.all([
      within(async () => (await db.query('select 1 as ok')).length === 1),
      within(() => migrationsCurrent(db, migrations)),
      // The engine answers for its queues only while it runs.
      within(async () => Array.isArray(await bus.stats())),
    ]);
    const checks: Checks = { database, migrations: current, queues };
    const failed = Object.entries(checks).filter(([, v]) => v === 'failed').map(([k]) => k);
    if (failed.length) {
      return sendProblem(reply, new DomainError('service-unavailable', 503, 'Service unavailable', `Not ready: ${failed.join(', ')} check failed.`, { checks }));
    }
    return { status: 'ready' as const, checks };
  });

  app.get('/metrics', {
    config: exempt,
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format)',
      response: { 200: Type.String() },
    },
  }, async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
