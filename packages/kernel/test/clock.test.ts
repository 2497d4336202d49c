/**
 * The database clock on real PostgreSQL: close to the server's clock, never backwards, one server
 * reading per resync window, and a slow reading does not move it by its delay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDb, databaseClock, type Db } from '@verity/kernel';
import { createTestDatabase } from '@verity/kernel/testing';

/** The real database, counting its clock reads and optionally answering them late. */
function counting(db: Db, delayMs: () => number = () => 0): Db & { reads: number } {
  const wrapped = Object.create(db) as Db & { reads: number };
  wrapped.reads = 0;
  wrapped.now = async () => {
    wrapped.reads++;
    const at = await db.now();
    const delay = delayMs();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return at;
  };
  return wrapped;
}

describe('database clock', () => {
  let db: Db;
  before(async () => {
    db = createDb({ connectionString: (await createTestDatabase()).url, max: 2 });
  });
  after(() => db?.close());

  it('when read many times, then it stays within milliseconds of the server clock, never goes back, and asks the server once per window', async () => {
    const source = counting(db);
    const clock = databaseClock(source, { resyncMs: 60_000 });
    let previous = 0;
    for (let i = 0; i < 200; i++) {
      const before = (await db.now()).getTime();
      const reading = (await clock.now()).getTime();
      const after = (await db.now()).getTime();
      // The server read before and after brackets the reading, give or take half the round trip of the
      // clock's own server reading (sub-millisecond here when the machine is quiet; a loaded CI run may
      // stretch one round trip, hence the margin).
      assert.ok(reading >= before - 25 && reading <= after + 25, `reading ${reading} outside [${before}, ${after}]`);
      assert.ok(reading >= previous, 'never backwards');
      previous = reading;
    }
    assert.equal(source.reads, 3, 'three server readings at first (the best is kept), then none for 200 clock readings inside the window');
  });

  it('when the window has passed, then the next reading asks the server again; concurrent readers share one request', async () => {
    const source = counting(db);
    let mono = 0;
    const clock = databaseClock(source, { resyncMs: 1_000, monotonicMs: () => mono });
    await clock.now();
    const first = source.reads;
    mono = 999;
    await clock.now();
    assert.equal(source.reads, first);
    mono = 1_001;
    await Promise.all(Array.from({ length: 20 }, () => clock.now()));
    assert.equal(source.reads, first + 1);
  });

  it('when one reading comes back late (a loaded pool), then the clock keeps its earlier, better reading instead of jumping by the delay', async () => {
    let late = 0;
    const source = counting(db, () => late);
    const clock = databaseClock(source, { resyncMs: 0 });
    for (let i = 0; i < 5; i++) await clock.now();
    late = 400;
    const reading = (await clock.now()).getTime();
    const server = (await db.now()).getTime();
    // Trusting the late sample would put the clock ~200 ms behind the server.
    assert.ok(Math.abs(server - reading) < 50, `reading ${server - reading} ms behind the server`);
  });
});
