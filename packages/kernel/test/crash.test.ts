/**
 * The crash test the platform issue asks for: a platform process is SIGKILLed while events are
 * queued and being handled; after a new process starts, every event has taken effect exactly once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { createDb, type Db } from '@verity/kernel';
import { createTestDatabase, waitFor } from '@verity/kernel/testing';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-child.ts');
const EVENTS = 200;

function startChild(databaseUrl: string, publish: number, hold: number[] = []): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, CRASH_DATABASE_URL: databaseUrl, CRASH_PUBLISH: String(publish), CRASH_HOLD: hold.join(',') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited before ready (${code ?? signal})`)));
  });
  return { child, ready };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

const count = async (db: Db, sql: string) => Number((await db.one<{ n: bigint }>(sql)).n);

describe('crash', () => {
  const children: ChildProcess[] = [];
  let db: Db | undefined;
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await db?.close();
  });

  it('when a process is killed with SIGKILL while events are queued and being handled, then after a restart none is lost and none takes effect twice', async (t) => {
    const { url } = await createTestDatabase();
    // Two handlers stall in the first process, so work is surely in its hands when it dies.
    const first = startChild(url, EVENTS, [30, 31]);
    children.push(first.child);
    await first.ready;
    db = createDb({ connectionString: url, max: 2 });
    const active = "select count(*) as n from pgboss.job where name = 'crashy.recorder' and state = 'active'";
    await waitFor(async () => (await count(db!, 'select count(*) as n from crashy.effects')) >= 40 && (await count(db!, active)) >= 2, {
      timeoutMs: 20_000,
      what: 'handling under way',
    });

    first.child.kill('SIGKILL');
    await exited(first.child);
    const handledAtKill = await count(db, 'select count(*) as n from crashy.effects');
    const activeAtKill = await count(db, active);
    t.diagnostic(`at SIGKILL: ${handledAtKill} of ${EVENTS} handled, ${activeAtKill} in the dead process's hands`);
    assert.ok(handledAtKill < EVENTS, 'events were still queued when the process died');
    assert.ok(activeAtKill >= 2, 'events were being handled when the process died');

    const second = startChild(url, 0);
    children.push(second.child);
    await second.ready;
    await waitFor(async () => (await count(db!, 'select count(distinct key) as n from crashy.effects')) === EVENTS, { timeoutMs: 30_000, what: 'every event handled' });

    assert.equal(await count(db, 'select count(*) as n from crashy.outbox'), EVENTS);
    assert.equal(await count(db, 'select count(*) as n from crashy.outbox o where not exists (select 1 from crashy.effects e where e.key = o.id::text)'), 0, 'none lost');
    assert.deepEqual(await db.query('select key, count(*) from crashy.effects group by key having count(*) > 1'), [], 'none twice');
    assert.equal(await count(db, 'select count(*) as n from crashy.effects'), EVENTS);
    assert.equal(await count(db, "select count(*) as n from crashy.inbox where subscriber = 'recorder'"), EVENTS);
  });
});
