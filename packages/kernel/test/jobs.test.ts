/**
 * Module jobs and timers on the queue engine, through the platform on real PostgreSQL: delayed
 * jobs, transactional enqueue, moving timers (singletonKey), cron declared by modules, retries and
 * the dead-letter queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openReplayTools, replayDeadLetters, type JobDefinition, type ModuleContext } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { probeModule, recordEffect, type ProbeService } from './fixtures/probe.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const FAST = { QUEUE_SUPERVISE_INTERVAL_S: '1' };

function jobbyJobs(ctx: ModuleContext, state: { doomedFixed: boolean }, withCron: boolean): JobDefinition<any>[] {
  return [
    { name: 'note', handle: async (data, run) => recordEffect(ctx, 'note', String(data.key), { ...data, attempt: run.attempt, jobId: run.id }) },
    { name: 'timer', handle: async (data) => recordEffect(ctx, 'timer', String(data.key), data) },
    {
      name: 'doomed',
      retryLimit: 1,
      retryDelayS: 1,
      async handle(data) {
        if (!state.doomedFixed) throw new Error('doomed job');
        await recordEffect(ctx, 'doomed', String(data.key));
      },
    },
    { name: 'nightly', ...(withCron ? { cron: '0 4 * * *' } : {}), handle: async () => recordEffect(ctx, 'nightly', 'run') },
  ];
}

describe('jobs and timers', () => {
  let p: TestPlatform;
  let svc: ProbeService;
  const state = { doomedFixed: false };
  const jobby = probeModule('jobby', (ctx) => ({ jobs: jobbyJobs(ctx, state, true) }));

  before(async () => {
    p = await startTestPlatform({ modules: [jobby], env: FAST });
    svc = p.service<ProbeService>('jobby');
  });
  after(() => p?.stop());

  it('when a job is enqueued in a transaction that rolls back, then it never runs; when it commits, then it runs once in the enqueuer’s trace', async () => {
    const lost = await svc.enqueue('note', { key: 'lost' }, { rollback: true });
    const kept = await svc.enqueue('note', { key: 'kept' }, { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` });
    await waitFor(async () => (await svc.effects('note')).length === 1, { what: 'the committed job' });
    const [effect] = await svc.effects('note');
    assert.equal(effect!.key, 'kept');
    assert.deepEqual(effect!.payload, { key: 'kept', attempt: 1, jobId: kept });
    assert.equal(effect!.trace_id, TRACE_ID);
    assert.equal((await p.db.query("select 1 from pgboss.job where name = 'jobby.job.note' and id = $1", [lost])).length, 0);
  });

  it('when a module declares a cron job, then its schedule is registered in UTC, and a restart without the cron removes it', async () => {
    assert.deepEqual((await p.bus.schedules()).find((s) => s.queue === 'jobby.job.nightly'), { queue: 'jobby.job.nightly', cron: '0 4 * * *', timezone: 'UTC' });
    const withoutCron = probeModule('jobby', (ctx) => ({ jobs: jobbyJobs(ctx, state, false) }));
    const other = await startTestPlatform({ modules: [withoutCron], env: FAST, config: { databaseUrl: p.config.databaseUrl } });
    try {
      assert.equal((await other.bus.schedules()).find((s) => s.queue === 'jobby.job.nightly'), undefined);
    } finally {
      await other.stop();
    }
  });

  it('when a job declares an invalid cron or a bad setting, then registration refuses it', async () => {
    await assert.rejects(p.bus.register('jobby', [], [{ name: 'bad-cron', cron: 'every day', handle: async () => {} }]), /cron "every day" is not valid/);
    await assert.rejects(p.bus.register('jobby', [], [{ name: 'bad-timeout', timeoutS: 0, handle: async () => {} }]), /timeoutS/);
    await assert.rejects(p.bus.register('jobby', [{ name: 'job', events: ['jobby.x.v1'], handle: async () => {} }], []), /not be "job"/);
  });

  describe('timing', { concurrency: true }, () => {
    it('when a job is enqueued to start after 2 s, then it waits in the queue and runs after that time, not before', async () => {
      const enqueuedAt = await p.db.now();
      await svc.enqueue('note', { key: 'delayed' }, { startAfter: 2 });
      const waiting = (await p.bus.stats()).find((q) => q.queue === 'jobby.job.note');
      assert.equal(waiting?.kind, 'job');
      assert.ok(waiting!.depth >= 1, 'counted as waiting');
      await waitFor(async () => (await svc.effects('note')).some((e) => e.key === 'delayed'), { what: 'the delayed job' });
      const ran = (await svc.effects('note')).find((e) => e.key === 'delayed')!;
      assert.ok(ran.at.getTime() - enqueuedAt.getTime() >= 1_990, `ran ${ran.at.getTime() - enqueuedAt.getTime()} ms after enqueue`);
    });

    it('when a timer is enqueued twice with the same singletonKey, then one job runs, with the second data and start time', async () => {
      await svc.enqueue('timer', { key: 'draw-1', v: 1 }, { singletonKey: 'draw-1', startAfter: 600 });
      await svc.enqueue('timer', { key: 'draw-1', v: 2 }, { singletonKey: 'draw-1', startAfter: new Date(Date.now() + 1_000) });
      const states = async () => (await p.db.query("select state::text from pgboss.job where name = 'jobby.job.timer' and singleton_key = 'draw-1'")).map((r) => r.state);
      assert.deepEqual(await states(), ['created'], 'one pending job');
      await waitFor(async () => (await states()).join() === 'completed', { what: 'the moved timer' });
      assert.deepEqual((await svc.effects('timer')).map((e) => e.payload), [{ key: 'draw-1', v: 2 }]);
    });

    it('when a job keeps failing, then after its retries it is in the dead-letter queue, and replay --dlq runs it once after the fix', async () => {
      await svc.enqueue('doomed', { key: 'd1' });
      await waitFor(async () => (await p.bus.stats()).find((q) => q.queue === 'jobby.job.doomed')?.dlqDepth === 1, { timeoutMs: 15_000, what: 'a dead letter' });
      assert.equal((await svc.effects('doomed')).length, 0);
      state.doomedFixed = true;
      const tools = await openReplayTools(p.config.databaseUrl!);
      try {
        assert.equal((await replayDeadLetters(tools, { queue: 'jobby.job.doomed' })).redriven, 1);
      } finally {
        await tools.close();
      }
      await waitFor(async () => (await svc.effects('doomed')).length === 1, { what: 'the redriven job' });
      assert.equal((await p.bus.stats()).find((q) => q.queue === 'jobby.job.doomed')?.dlqDepth, 0);
    });
  });

  it('when enqueue gets bad input, then it refuses before touching the queue', async () => {
    const jobs = p.bus.jobsFor('jobby');
    await assert.rejects(jobs.enqueue('Not A Name', {}), /not a job name/);
    await assert.rejects(jobs.enqueue('note', { big: 'x'.repeat(300_000) }), /limit is 262144/);
    await assert.rejects(jobs.enqueue('note', {}, { startAfter: -1 }), /startAfter/);
    await assert.rejects(jobs.enqueue('unknown-job', {}), /does not exist/);
  });
});
