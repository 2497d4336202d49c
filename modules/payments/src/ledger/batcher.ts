/**
 * Group commit for ledger commands (ADR 0006). Concurrent callers' commands queue here; a flush takes
 * up to `maxBatch` of them into one transaction, so one commit (one WAL flush) carries many
 * transfers. A flush starts at once when none is running, so an idle system adds no latency and a
 * busy one fills each batch with what arrived during the previous flush. Flushes run side by side
 * (on more cores) only when each gets at least `parallelMin` commands: a flush has a fixed cost worth
 * several commands, so fewer, larger batches win until there is enough work for two.
 */

export type Settled<R> = { value: R } | { error: unknown };

export interface BatcherOptions<T, R> {
  /** Most items in one flush. */
  maxBatch: number;
  /** Flushes running at once, at most (each holds one database connection). */
  maxInFlight: number;
  /** Fewest commands a flush takes while another is running (default 16, at most maxBatch). */
  parallelMin?: number;
  /** Items waiting beyond this are refused at once (backpressure instead of an unbounded queue). */
  maxQueued: number;
  /** Runs one batch; one result per item, in order. A throw fails every item of the batch. */
  flush(items: T[], slot: number): Promise<Settled<R>[]>;
  /** The error a refused submission gets. */
  overloaded(): Error;
}

export interface Batcher<T, R> {
  submit(item: T): Promise<R>;
  /** Resolves when nothing is queued or in flight (for shutdown). */
  drain(): Promise<void>;
  stats(): { queued: number; inFlight: number; flushes: number; items: number };
}

interface Waiting<T, R> {
  item: T;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/** A flush costs about what several commands do (ADR 0006): below this, waiting for the running one is cheaper. */
const PARALLEL_MIN = 16;

export function createBatcher<T, R>(opts: BatcherOptions<T, R>): Batcher<T, R> {
  if (opts.maxBatch < 1 || opts.maxInFlight < 1 || opts.maxQueued < opts.maxBatch) throw new RangeError('batcher: limits must be positive and maxQueued ≥ maxBatch');
  const queue: Waiting<T, R>[] = [];
  let inFlight = 0;
  let slot = 0;
  let scheduled = false;
  let flushes = 0;
  let items = 0;
  let idle: (() => void)[] = [];

  const settleIdle = () => {
    if (queue.length === 0 && inFlight === 0) {
      for (const done of idle) done();
      idle = [];
    }
  };

  async function run(batch: Waiting<T, R>[], mySlot: number): Promise<void> {
    try {
      const results = await opts.flush(batch.map((w) => w.item), mySlot);
      if (results.length !== batch.length) throw new Error(`batcher: flush returned ${results.length} results for ${batch.length} items`);
      results.forEach((r, i) => ('value' in r ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.error)));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  const parallelMin = Math.min(opts.parallelMin ?? PARALLEL_MIN, opts.maxBatch);

  function pump(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < opts.maxInFlight) {
      if (inFlight > 0 && queue.length < parallelMin) break;
      // Split what waits over as many free slots as get parallelMin commands each (at least one).
      const slots = Math.max(1, Math.min(opts.maxInFlight - inFlight, Math.floor(queue.length / parallelMin)));
      const batch = queue.splice(0, Math.min(opts.maxBatch, Math.ceil(queue.length / slots)));
      inFlight++;
      flushes++;
      items += batch.length;
      void run(batch, slot++).finally(() => {
        inFlight--;
        pump();
        settleIdle();
      });
    }
  }

  return {
    submit(item) {
      if (queue.length >= opts.maxQueued) return Promise.reject(opts.overloaded());
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Items submitted in the same tick go into the same flush.
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(pump);
        }
      });
    },
    drain() {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    stats: () => ({ queued: queue.length, inFlight, flushes, items }),
  };
}
