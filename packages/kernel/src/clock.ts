/** "Now" for domain decisions comes from here: the database's clock, or a clock a test injects. */
import type { Db } from './db/db.ts';

export interface Clock {
  now(): Promise<Date>;
}

export const databaseClock = (db: Db): Clock => ({ now: () => db.now() });

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
