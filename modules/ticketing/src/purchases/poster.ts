/**
 * Marks posted purchases in batches, off the request path: one UPDATE for many purchases instead of
 * a commit each. Losing a batch (a crash) is harmless: those purchases stay `issued`, and the
 * recovery job posts them again under the same transfer id (the ledger answers the first post).
 */
import type { Logger } from '@verity/kernel';
import type { PurchasesRepository } from './repository.ts';

const BATCH_MAX = 500;
const FLUSH_DELAY_MS = 20;
/** A bound on what waits in memory; beyond it marks are dropped (recovery posts those). */
const QUEUED_MAX = 50_000;

export interface PostedMarker {
  mark(purchaseId: string): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createPostedMarker(repo: PurchasesRepository, log: Logger): PostedMarker {
  let queued: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const flush = async (): Promise<void> => {
    timer = undefined;
    while (queued.length) {
      const batch = queued.slice(0, BATCH_MAX);
      queued = queued.slice(BATCH_MAX);
      await repo.markPosted(batch).catch((err: unknown) => log.warn({ err, purchases: batch.length }, 'could not mark purchases posted; recovery will'));
    }
  };
  const schedule = () => {
    timer ??= setTimeout(() => {
      running = running.then(flush);
    }, FLUSH_DELAY_MS);
  };

  return {
    mark(purchaseId) {
      if (queued.length >= QUEUED_MAX) return;
      queued.push(purchaseId);
      schedule();
    },
    async flush() {
      if (timer) clearTimeout(timer);
      running = running.then(flush);
      await running;
    },
    async stop() {
      if (timer) clearTimeout(timer);
      running = running.then(flush);
      await running;
    },
  };
}
