/** "Now" for domain decisions comes from here: the database's clock, or a clock a test injects. */
import type { Db } from './db/db.ts';

export interface Clock {
  now(): Promise<Date>;
}

export interface DatabaseClockOptions {
  /** How long one reading of the server's clock is extrapolated before it is read again (ms). */
  resyncMs?: number;
  /** The process's monotonic clock in ms (tests replace it). */
  monotonicMs?: () => number;
}

/** A reading whose round trip took longer than this many times the best recent one is not trusted. */
const SLOW_SAMPLE_FACTOR = 2;
/** The best recent round trip is forgotten after this many readings (the network may have changed). */
const BEST_RTT_WINDOW = 30;

/**
 * The database server's clock, without a round trip per reading (ADR 0017). The server's
 * `clock_timestamp()` is read at most once per `resyncMs` (1 s) and carried forward with the
 * process's monotonic clock: the value read is placed at the midpoint of its round trip, so a reading
 * is off by at most half of that round trip (sub-millisecond on one machine or in one AWS AZ), and
 * the monotonic clock drifts by microseconds per second. A reading that took more than twice the best
 * recent round trip (a loaded server or pool) is not used unless nothing better has been seen for a
 * while, so a slow moment never moves the clock by its own delay. Readings never go backwards.
 */
export function databaseClock(db: Db, options: DatabaseClockOptions = {}): Clock {
  const resyncMs = options.resyncMs ?? 1_000;
  const mono = options.monotonicMs ?? (() => performance.now());
  /** Database epoch ms minus local monotonic ms. */
  let offset: number | undefined;
  let syncedAt = -Infinity;
  let bestRtt = Infinity;
  let samples = 0;
  let syncing: Promise<void> | undefined;
  let last = -Infinity;

  /** One server reading; `strict`: used only if its round trip is the best so far. */
  async function sample(strict: boolean): Promise<void> {
    const t0 = mono();
    const server = (await db.now()).getTime();
    const t1 = mono();
    const rtt = t1 - t0;
    if (++samples > BEST_RTT_WINDOW) {
      samples = 1;
      bestRtt = Infinity;
    }
    if (offset === undefined || rtt <= (strict ? bestRtt : Math.max(bestRtt * SLOW_SAMPLE_FACTOR, 1))) offset = server - (t0 + t1) / 2;
    bestRtt = Math.min(bestRtt, rtt);
    syncedAt = t1;
  }

  async function sync(): Promise<void> {
    // The first reading has nothing to be compared with: take the best of three.
    const first = offset === undefined;
    await sample(false);
    if (first) for (let i = 0; i < 2; i++) await sample(true);
  }

  return {
    async now() {
      if (offset === undefined || mono() - syncedAt >= resyncMs) {
        syncing ??= sync().finally(() => {
          syncing = undefined;
        });
        await syncing;
      }
      last = Math.max(last, Math.floor(mono() + offset!));
      return new Date(last);
    },
  };
}

/** For tests: a clock that starts at `start` and moves only when told. */
export function manualClock(start: Date): Clock & { advance(ms: number): void; set(d: Date): void } {
  let t = start.getTime();
  return {
    now: async () => new Date(t),
    advance(ms) {
      t += ms;
    },
    set(d) {
      t = d.getTime();
    },
  };
}
