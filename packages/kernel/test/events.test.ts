/**
 * Events through the platform on real PostgreSQL: transactional outbox, relay, subscriber queues
 * with retries and dead-letter queues, inboxes, replay, routing between processes, graceful stop.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createDb, openReplayTools, replayDeadLetters, replayOutbox, type CloudEvent, type ModuleContext, type ReplayTools } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { probeModule, recordEffect, type ProbeService } from './fixtures/probe.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const FAST = { QUEUE_SUPERVISE_INTERVAL_S: '1' };

const CLI = fileURLToPath(new URL('../../../apps/platform/src/cli.ts', import.meta.url));

/** Runs the `verity` command against `databaseUrl`. */
function cli(args: string[], databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** Jobs of `queue` carrying event `eventId`, by state (pg-boss's job table). */
async function jobStates(p: TestPlatform, queue: string, eventId: string): Promise<string[]> {
  const rows = await p.db.query<{ state: string }>("select state::text from pgboss.job where name = $1 and data->>'id' = $2 order by created_on", [queue, eventId]);
  return rows.map((r) => r.state);
}

describe('events in one process', () => {
  let p: TestPlatform;
  let svc: ProbeService;
  let alpha: ModuleContext;
  let tools: ReplayTools;
  const flakyAttemptsMs: number[] = [];
  const receivedMs = new Map<string, number>();
  let brokenFixed = false;

  const module = probeModule('alpha', (ctx) => {
    alpha = ctx;
    return {
      subscribers: [
        {
          name: 'audit-trail',
          events: ['alpha.thing-happened.v1'],
          async handle(event) {
            await recordEffect(ctx, 'audit-trail', event.id, event);
          },
        },
        {
          name: 'latency',
          events: ['alpha.ping.v1'],
          async handle(event) {
            receivedMs.set(event.id, performance.now());
          },
        },
        {
          name: 'flaky',
          events: ['alpha.flaky.v1'],
          retryLimit: 4,
          retryDelayS: 1,
          async handle(event, delivery) {
            flakyAttemptsMs.push(performance.now());
            await recordEffect(ctx, 'flaky', event.id, { attempt: delivery.attempt });
            // The effect above rolls back with the failure: only the successful attempt's stays.
            if (delivery.attempt <= 2) throw new Error(`flaky attempt ${delivery.attempt}`);
          },
        },
        {
          name: 'broken',
          events: ['alpha.broken.v1'],
          retryLimit: 1,
          retryDelayS: 1,
          async handle(event) {
            if (!brokenFixed) throw new Error('broken handler');
            await recordEffect(ctx, 'broken', event.id);
          },
        },
        {
          name: 'batched',
          events: ['alpha.counted.v1'],
          batchSize: 25,
          retryLimit: 1,
          retryDelayS: 1,
          async handle(event, delivery) {
            const { n, fails } = event.data as { n: number; fails: 'once' | 'always' | 'never' };
            await recordEffect(ctx, 'batched', event.id, { n, attempt: delivery.attempt, tx: (await ctx.db.one<{ tx: string }>('select txid_current()::text as tx')).tx });
            if (fails === 'always' || (fails === 'once' && delivery.attempt === 1)) throw new Error(`event ${n} fails (${fails})`);
          },
        },
      ],
    };
  });

  before(async () => {
    p = await startTestPlatform({ modules: [module], env: FAST });
    svc = p.service<ProbeService>('alpha');
    tools = await openReplayTools(p.config.databaseUrl!);
  });
  after(async () => {
    await tools?.close();
    await p?.stop();
  });

  it('when an event is published in a transaction that rolls back, then nothing is delivered; when it commits, then it is delivered once', async () => {
    const [lost] = await svc.publish([{ type: 'alpha.thing-happened.v1', subject: 'thing/1', data: { n: 1 } }], { rollback: true });
    const [kept] = await svc.publish([{ type: 'alpha.thing-happened.v1', subject: 'thing/2', data: { n: 2, amountMinor: 1234n } }], { traceparent: TRACEPARENT });
    await waitFor(async () => (await jobStates(p, 'alpha.audit-trail', kept!)).join() === 'completed', { what: 'the committed event handled' });

    const effects = await svc.effects('audit-trail');
    assert.deepEqual(effects.map((e) => e.key), [kept]);
    assert.equal((await p.db.query('select 1 from alpha.outbox where id = $1', [lost])).length, 0);
    assert.deepEqual(await jobStates(p, 'alpha.audit-trail', lost!), []);

    const event = effects[0]!.payload as CloudEvent;
    assert.equal(event.specversion, '1.0');
    assert.equal(event.id, kept);
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7');
    assert.equal(event.source, '/verity/alpha');
    assert.equal(event.type, 'alpha.thing-happened.v1');
    assert.equal(event.subject, 'thing/2');
    assert.equal(event.datacontenttype, 'application/json');
    assert.ok(!Number.isNaN(Date.parse(event.time)) && event.time.endsWith('Z'));
    assert.deepEqual(event.data, { n: 2, amountMinor: '1234' }, 'bigint travels as its decimal string');
    assert.equal(event.traceparent, TRACEPARENT);
    assert.equal(effects[0]!.trace_id, TRACE_ID, 'the handler continues the publisher’s trace');
  });

  it('when events.publish is called outside a transaction or with another module’s type, then it throws', async () => {
    await assert.rejects(alpha.events.publish({ type: 'alpha.thing-happened.v1', data: {} }), /inside db\.tx/);
    await assert.rejects(alpha.db.tx(() => alpha.events.publish({ type: 'beta.thing-happened.v1', data: {} })), /must look like "alpha\./);
    await assert.rejects(alpha.db.tx(() => alpha.events.publish({ type: 'alpha.too-big.v1', data: { blob: 'x'.repeat(300_000) } })), /limit is 262144/);
  });

  it('when an already-handled event is delivered again from the outbox, then the inbox skips it and its effect stays single', async () => {
    const [id] = await svc.publish([{ type: 'alpha.thing-happened.v1', data: { n: 3 } }]);
    await waitFor(async () => (await jobStates(p, 'alpha.audit-trail', id!)).join() === 'completed', { what: 'first delivery' });

    const replay = await replayOutbox(tools, { module: 'alpha', type: 'alpha.thing-happened.v1', subscriber: 'alpha.audit-trail' });
    assert.equal(replay.events, 2, 'both retained events of that type (the rolled-back one never existed)');
    assert.deepEqual(replay.deliveries, [{ queue: 'alpha.audit-trail', count: 2 }]);
    await waitFor(async () => (await jobStates(p, 'alpha.audit-trail', id!)).join() === 'completed,completed', { what: 'the replayed delivery handled' });

    const effects = (await svc.effects('audit-trail')).filter((e) => e.key === id);
    assert.equal(effects.length, 1);
    const inbox = await p.db.query("select 1 from alpha.inbox where subscriber = 'audit-trail' and event_id = $1", [id]);
    assert.equal(inbox.length, 1);
  });

  it('when events are published one at a time, then the subscriber sees them within milliseconds (LISTEN/NOTIFY, not polling)', async (t) => {
    const latenciesMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const startedMs = performance.now();
      const [id] = await svc.publish([{ type: 'alpha.ping.v1', data: { i } }]);
      await waitFor(() => receivedMs.has(id!), { intervalMs: 1, what: `ping ${i}` });
      latenciesMs.push(receivedMs.get(id!)! - startedMs);
    }
    latenciesMs.sort((a, b) => a - b);
    const p50 = latenciesMs[9]!;
    const p95 = latenciesMs[18]!;
    t.diagnostic(`publish→handler latency over 20 events: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${latenciesMs[19]!.toFixed(1)} ms`);
    // Polling alone (relay every 1 s, workers every 2 s) would put the median near a second.
    assert.ok(p50 < 400, `median latency ${p50} ms`);
  });

  it('when `verity replay --outbox` runs, then it prints what it re-published as JSON, and handlers see nothing twice', async () => {
    const before = new Map(receivedMs);
    const run = await cli(['replay', '--outbox', 'alpha', '--type', 'alpha.ping.v1', '--subscriber', 'alpha.latency'], p.config.databaseUrl!);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { module: 'alpha', events: 20, deliveries: [{ queue: 'alpha.latency', count: 20 }] });
    await waitFor(async () => {
      const rows = await p.db.query("select 1 from pgboss.job where name = 'alpha.latency' and state = 'completed'");
      return rows.length === 40;
    }, { what: 'the replayed pings handled' });
    assert.deepEqual(receivedMs, before, 'the inbox skipped every replayed ping before its handler ran');

    const bad = await cli(['replay', '--dlq', 'alpha.nothing'], p.config.databaseUrl!);
    assert.equal(bad.code, 2);
    assert.match(JSON.parse(bad.stdout).error, /does not exist/);
  });

  describe('failures', { concurrency: true }, () => {
    it('when a handler fails twice, then it is retried with growing delays and its effect happens once', async () => {
      const [id] = await svc.publish([{ type: 'alpha.flaky.v1', data: {} }]);
      await waitFor(async () => (await svc.effects('flaky')).some((e) => e.key === id), { timeoutMs: 20_000, what: 'the third attempt' });
      const effects = (await svc.effects('flaky')).filter((e) => e.key === id);
      assert.deepEqual(effects.map((e) => e.payload.attempt), [3]);
      assert.equal(flakyAttemptsMs.length, 3);
      const [a, b, c] = flakyAttemptsMs as [number, number, number];
      // retryDelayS 1: the first retry waits 1–2 s, the second 2–4 s (exponential, with jitter).
      assert.ok(b - a >= 950, `first retry after ${b - a} ms`);
      assert.ok(c - b >= 1_900, `second retry after ${c - b} ms`);
    });

    it('when a handler always fails, then the event ends in its dead-letter queue, and replay --dlq delivers it once after the fix', async () => {
      const [id] = await svc.publish([{ type: 'alpha.broken.v1', data: {} }]);
      const stat = await waitFor(async () => (await p.bus.stats()).find((q) => q.queue === 'alpha.broken' && q.dlqDepth === 1), { timeoutMs: 20_000, what: 'a dead letter' });
      assert.deepEqual(stat, { queue: 'alpha.broken', module: 'alpha', kind: 'subscriber', depth: 0, ready: 0, oldestReadyAgeS: 0, active: 0, dlqDepth: 1 });
      assert.equal((await svc.effects('broken')).length, 0);

      brokenFixed = true;
      const replay = await replayDeadLetters(tools, { queue: 'alpha.broken' });
      assert.deepEqual(replay, { queue: 'alpha.broken', deadLetterQueue: 'alpha.broken.dlq', redriven: 1 });
      await waitFor(async () => (await svc.effects('broken')).some((e) => e.key === id), { what: 'the redriven event handled' });
      assert.equal((await svc.effects('broken')).length, 1);
      assert.equal((await p.bus.stats()).find((q) => q.queue === 'alpha.broken')?.dlqDepth, 0);
    });

    it('when a batching subscriber gets a surge with two bad events, then the rest take effect once, many per transaction, the flaky one on its retry and the poison one in the DLQ', async () => {
      const fails = (n: number) => (n === 7 ? 'once' : n === 31 ? 'always' : 'never');
      const ids = await svc.publish(Array.from({ length: 60 }, (_, n) => ({ type: 'alpha.counted.v1', data: { n, fails: fails(n) } })));
      await waitFor(async () => (await p.bus.stats()).find((q) => q.queue === 'alpha.batched' && q.dlqDepth === 1 && q.depth === 0 && q.active === 0), { timeoutMs: 20_000, what: 'the poison event dead-lettered' });
      const effects = await svc.effects('batched');
      // Only committed effects stay: every event once, except the poison one, whose attempts all rolled back.
      assert.deepEqual(effects.map((e) => e.payload.n).sort((a, b) => a - b), Array.from({ length: 60 }, (_, n) => n).filter((n) => n !== 31));
      assert.deepEqual(new Set(effects.map((e) => e.key)).size, 59);
      assert.equal(effects.find((e) => e.payload.n === 7)!.payload.attempt, 2, 'the flaky event took effect on its retry');
      const perTx = new Map<string, number>();
      for (const e of effects) perTx.set(e.payload.tx, (perTx.get(e.payload.tx) ?? 0) + 1);
      assert.ok(Math.max(...perTx.values()) > 1 && perTx.size < 59, `events handled together (${perTx.size} transactions for 59 events)`);
      assert.deepEqual(await jobStates(p, 'alpha.batched', ids[31]!), ['failed']);
      assert.deepEqual(await jobStates(p, 'alpha.batched', ids[7]!), ['completed']);
    });

    it('when replay names a queue that does not exist, then it says so', async () => {
      await assert.rejects(replayDeadLetters(tools, { queue: 'alpha.nothing' }), /does not exist/);
      await assert.rejects(replayOutbox(tools, { module: 'nomodule' }), /no outbox/);
      await assert.rejects(replayOutbox(tools, { module: 'alpha', since: new Date('nope') }), /ISO 8601/);
    });
  });

  it('when published events are older than the retention, then the kernel’s retention job purges them and keeps the rest', async () => {
    const [old, recent] = await svc.publish([
      { type: 'alpha.thing-happened.v1', data: { n: 'old' } },
      { type: 'alpha.thing-happened.v1', data: { n: 'recent' } },
    ]);
    await waitFor(async () => (await jobStates(p, 'alpha.audit-trail', recent!)).join() === 'completed', { what: 'both handled' });
    await p.db.query("update alpha.outbox set created_at = created_at - interval '31 days' where id = $1", [old]);
    await p.db.query("update alpha.inbox set handled_at = handled_at - interval '61 days' where event_id = $1", [old]);

    await p.bus.jobsFor('kernel').enqueue('event-retention', {});
    await waitFor(async () => (await p.db.query('select 1 from alpha.outbox where id = $1', [old])).length === 0, { what: 'the purge' });
    assert.equal((await p.db.query('select 1 from alpha.outbox where id = $1', [recent])).length, 1);
    assert.equal((await p.db.query('select 1 from alpha.inbox where event_id = $1', [old])).length, 0);
    assert.equal((await p.db.query('select 1 from alpha.inbox where event_id = $1', [recent])).length, 1);
    assert.deepEqual((await p.bus.schedules()).find((s) => s.queue === 'kernel.job.event-retention'), { queue: 'kernel.job.event-retention', cron: '17 3 * * *', timezone: 'UTC' });
  });
});

describe('events between processes', () => {
  let origin: TestPlatform;
  let remote: TestPlatform | undefined;
  let tools: ReplayTools;
  const originModule = probeModule('origin');
  const remoteModule = probeModule('remote', (ctx) => ({
    subscribers: [{ name: 'listener', events: ['origin.signal.v1'], handle: (event) => recordEffect(ctx, 'listener', event.id, event.data) }],
  }));

  before(async () => {
    origin = await startTestPlatform({ modules: [originModule, remoteModule], run: ['origin'], env: FAST });
    tools = await openReplayTools(origin.config.databaseUrl!);
  });
  after(async () => {
    await tools?.close();
    await remote?.stop();
    await origin?.stop();
  });

  it('when a module in one process publishes, then the subscriber in another process handles it; events from before it subscribed arrive by replay, once', async () => {
    const [early] = await origin.service<ProbeService>('origin').publish([{ type: 'origin.signal.v1', data: { n: 'early' } }]);
    await waitFor(async () => (await origin.bus.outboxStats())[0]?.unpublished === 0, { what: 'the early event relayed (to nobody)' });

    remote = await startTestPlatform({ modules: [originModule, remoteModule], run: ['remote'], env: FAST, config: { databaseUrl: origin.config.databaseUrl } });
    assert.deepEqual(remote.running, ['remote']);
    const [late] = await origin.service<ProbeService>('origin').publish([{ type: 'origin.signal.v1', data: { n: 'late' } }]);
    const remoteSvc = remote.service<ProbeService>('remote');
    await waitFor(async () => (await remoteSvc.effects()).some((e) => e.key === late), { what: 'the remote subscriber' });
    assert.ok(!(await remoteSvc.effects()).some((e) => e.key === early), 'subscriptions are not retroactive');

    const replay = await replayOutbox(tools, { module: 'origin', subscriber: 'remote.listener' });
    assert.deepEqual(replay, { module: 'origin', events: 2, deliveries: [{ queue: 'remote.listener', count: 2 }] });
    await waitFor(async () => (await jobStates(remote!, 'remote.listener', late!)).join() === 'completed,completed', { what: 'the replay handled' });
    await waitFor(async () => (await jobStates(remote!, 'remote.listener', early!)).join() === 'completed', { what: 'the early event handled' });
    const keys = (await remoteSvc.effects()).map((e) => e.key).sort();
    assert.deepEqual(keys, [early, late].sort());
  });
});

describe('graceful stop', () => {
  let first: TestPlatform | undefined;
  let second: TestPlatform | undefined;
  const started = new Set<string>();
  let released = false;
  const slowModule = probeModule('slowmod', (ctx) => ({
    subscribers: [
      {
        name: 'worker',
        events: ['slowmod.work.v1'],
        concurrency: 2,
        retryDelayS: 1,
        async handle(event, delivery) {
          started.add(event.id);
          await recordEffect(ctx, 'worker', event.id);
          if ((event.data as { mode: string }).mode === 'quick') {
            await new Promise((resolve) => setTimeout(resolve, 300));
            return;
          }
          if (released) return;
          // A handler that cannot finish before the grace period: it gives up when told to.
          await new Promise((_resolve, reject) => delivery.signal.addEventListener('abort', () => reject(new Error('aborted by shutdown')), { once: true }));
        },
      },
    ],
  }));
  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('when the platform stops with handlers in flight, then finished ones complete and the rest are released to another process, each taking effect once', async () => {
    first = await startTestPlatform({ modules: [slowModule], env: FAST, config: { shutdownGraceMs: 1_000 } });
    const [quick, stuck] = await first.service<ProbeService>('slowmod').publish([
      { type: 'slowmod.work.v1', data: { mode: 'quick' } },
      { type: 'slowmod.work.v1', data: { mode: 'stuck' } },
    ]);
    await waitFor(() => started.has(quick!) && started.has(stuck!), { what: 'both handlers running' });
    const db = createDb({ connectionString: first.config.databaseUrl!, max: 1 });
    try {
      const stoppedMs = performance.now();
      await first.stop();
      assert.ok(performance.now() - stoppedMs < 5_000, 'stop waits for the grace period, not for the stuck handler');
      const states = await db.query<{ id: string; state: string }>("select data->>'id' as id, state::text from pgboss.job where name = 'slowmod.worker'");
      assert.deepEqual(Object.fromEntries(states.map((r) => [r.id, r.state])), { [quick!]: 'completed', [stuck!]: 'retry' }, 'the stuck one is released, not lost');
    } finally {
      await db.close();
    }

    released = true;
    second = await startTestPlatform({ modules: [slowModule], env: FAST, config: { databaseUrl: first.config.databaseUrl } });
    await waitFor(async () => (await jobStates(second!, 'slowmod.worker', stuck!)).join() === 'completed', { timeoutMs: 15_000, what: 'the released event handled by the second process' });
    const keys = (await second.service<ProbeService>('slowmod').effects()).map((e) => e.key).sort();
    assert.deepEqual(keys, [quick, stuck].sort());
  });
});
