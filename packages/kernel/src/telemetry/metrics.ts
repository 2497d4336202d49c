/**
 * Prometheus metrics. Each platform instance owns its Registry (tests run several platforms in one
 * process, and a global registry would mix their series and refuse duplicate names).
 */
import client from 'prom-client';
import type { Db } from '../db/db.ts';
import type { OutboxStat, QueueStat } from '../events/types.ts';

export interface PlatformMetrics {
  readonly registry: client.Registry;
  /** One finished HTTP request; `route` is the template (`/v1/players/:id`), never the raw path. */
  observeRequest(method: string, route: string, statusCode: number, durationS: number): void;
}

const LATENCY_BUCKETS_S = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): PlatformMetrics {
  const registry = new client.Registry();
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code: count (rate) and latency.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  // Resolving a label set hashes it on every observation; the series are few (method × route
  // template × status), so each one's child is looked up once and kept.
  type Series = ReturnType<typeof duration.labels>;
  const series = new Map<string, Series>();
  return {
    registry,
    observeRequest(method, route, statusCode, durationS) {
      const key = `${statusCode} ${method} ${route}`;
      let child = series.get(key);
      if (!child) {
        child = duration.labels({ method, route, status_code: String(statusCode) });
        series.set(key, child);
      }
      child.observe(durationS);
    },
  };
}

/** A scrape asks each gauge in parallel; one stats query serves them all. */
function shared<T>(fetch: () => Promise<readonly T[]>, maxAgeMs = 200): () => Promise<readonly T[]> {
  let cached: { at: number; value: Promise<readonly T[]> } | undefined;
  return () => {
    const now = performance.now();
    if (!cached || now - cached.at > maxAgeMs) {
      // A failing source leaves its gauges empty rather than failing the whole scrape.
      const value = fetch().catch(() => [] as T[]);
      cached = { at: now, value };
    }
    return cached.value;
  };
}

export interface RuntimeSources {
  db: Db;
  queueStats: () => Promise<readonly QueueStat[]>;
  outboxStats: () => Promise<readonly OutboxStat[]>;
}

function gaugeFrom<T>(
  registers: client.Registry[],
  source: () => Promise<readonly T[]>,
  spec: { name: string; help: string; label: 'queue' | 'module'; labelOf: (row: T) => string; read: (row: T) => number },
): void {
  new client.Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: [spec.label],
    registers,
    async collect() {
      this.reset();
      for (const row of await source()) {
        const v = spec.read(row);
        if (Number.isFinite(v)) this.set({ [spec.label]: spec.labelOf(row) }, v);
      }
    },
  });
}

/** Process metrics, database pool and queue gauges, read at scrape time. */
export function registerRuntimeMetrics(metrics: PlatformMetrics, sources: RuntimeSources): void {
  const registers = [metrics.registry];
  client.collectDefaultMetrics({ register: metrics.registry });
  const pool = sources.db.pool;
  new client.Gauge({
    name: 'verity_db_pool_connections',
    help: 'Database pool connections by state (total, idle, waiting = callers queued for a connection).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new client.Gauge({ name: 'verity_db_pool_max', help: 'Largest size of the database pool.', registers }).set(pool.options.max ?? 10);

  const queues = shared(sources.queueStats);
  const queue = (name: string, help: string, read: (q: QueueStat) => number) =>
    gaugeFrom(registers, queues, { name, help, label: 'queue', labelOf: (q) => q.queue, read });
  queue('verity_queue_depth', 'Messages waiting in each queue (including delayed retries).', (q) => q.depth);
  queue('verity_queue_ready', 'Messages of each queue runnable now.', (q) => q.ready);
  queue('verity_queue_oldest_age_seconds', 'How long the oldest runnable message of each queue has waited (0 when none).', (q) => q.oldestReadyAgeS);
  queue('verity_queue_active', 'Messages of each queue being handled now.', (q) => q.active);
  queue('verity_queue_dlq_depth', 'Messages in the dead-letter queue of each queue.', (q) => q.dlqDepth);
  const outboxes = shared(sources.outboxStats);
  const outbox = (name: string, help: string, read: (o: OutboxStat) => number) =>
    gaugeFrom(registers, outboxes, { name, help, label: 'module', labelOf: (o) => o.module, read });
  outbox('verity_outbox_unpublished', 'Events in each module outbox not yet relayed to their queues.', (o) => o.unpublished);
  outbox('verity_outbox_oldest_unpublished_age_seconds', 'Age of the oldest event not yet relayed, per module (0 when none).', (o) => o.oldestUnpublishedAgeS);
}
