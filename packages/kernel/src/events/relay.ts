/**
 * The outbox relay: moves committed events of this process's modules into the subscriber queues.
 * Locking the outbox rows, enqueueing the jobs and marking the rows published happen in ONE
 * transaction (pg-boss writes through our transaction's client), so every committed event reaches
 * every queue subscribed to it exactly once, whichever process relays it and whenever one dies.
 */
import type { PgBoss, JobInsert } from 'pg-boss';
import type { Db } from '../db/db.ts';
import type { Logger } from '../telemetry/logger.ts';
import { onClient, routesFor } from './engine.ts';
import { toCloudEvent } from './envelope.ts';
import { lockUnpublished, markPublished } from './outbox.ts';

export interface RelayOptions {
  db: Db;
  boss: PgBoss;
  log: Logger;
  modules: readonly string[];
  /** Events per transaction. */
  batchSize?: number;
  /** Polling: rows written without the publisher (a module's own SQL), and a missed wake-up. */
  pollMs?: number;
}

export interface Relay {
  /** Relays `module`'s outbox now (coalesces with a pass already running). */
  wake(module: string): void;
  stop(): Promise<void>;
}

const BATCH_SIZE = 100;
const POLL_MS = 200;

/** One transaction: lock a batch, enqueue it to every subscribed queue, mark it published. */
async function relayBatch(o: RelayOptions, module: string, batchSize: number): Promise<number> {
  const { db, boss } = o;
  return db.tx(async () => {
    const rows = await lockUnpublished(db, module, batchSize);
    if (rows.length === 0) return 0;
    const routes = await routesFor(db, [...new Set(rows.map((r) => r.type))]);
    const byQueue = new Map<string, JobInsert[]>();
    for (const row of rows) {
      const event = toCloudEvent(module, row);
      // The job id is the event id: a queue can never hold the same relayed event twice.
      for (const queue of routes.get(row.type) ?? []) {
        const jobs = byQueue.get(queue) ?? [];
        jobs.push({ id: row.id, data: event });
        byQueue.set(queue, jobs);
      }
    }
    const tx = onClient(db.currentClient()!);
    for (const [queue, jobs] of byQueue) await boss.insert(queue, jobs, { db: tx });
    await markPublished(db, module, rows.map((r) => r.position));
    return rows.length;
  });
}

export async function startRelay(o: RelayOptions): Promise<Relay> {
  const batchSize = o.batchSize ?? BATCH_SIZE;
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let stopped = false;

  const drain = async (module: string) => {
    while (!stopped) {
      let relayed: number;
      try {
        relayed = await relayBatch(o, module, batchSize);
      } catch (err) {
        // The rows stay unpublished; the next poll tries again.
        o.log.warn({ err, module }, 'outbox relay failed');
        return;
      }
      if (relayed < batchSize) return;
    }
  };
  const wake = (module: string) => {
    if (stopped || !o.modules.includes(module)) return;
    if (running.has(module)) {
      again.add(module);
      return;
    }
    const pass = drain(module).finally(() => {
      running.delete(module);
      if (again.delete(module)) wake(module);
    });
    running.set(module, pass);
  };
  const wakeAll = () => o.modules.forEach(wake);

  // Rows published in this process wake the relay after their commit (outbox.ts); rows written by
  // other means (a module's own SQL) and any missed wake-up are found by polling.
  const poll = setInterval(wakeAll, o.pollMs ?? POLL_MS);
  poll.unref();
  wakeAll();

  return {
    wake,
    async stop() {
      stopped = true;
      clearInterval(poll);
      await Promise.allSettled([...running.values()]);
    },
  };
}
