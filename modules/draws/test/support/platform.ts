/**
 * Test support for the draws tests: the platform with identity, payments, compliance, a ticketing
 * module (the stand-in, or the real one with skill) and draws, its beacon sandbox on a known port
 * with a 1-second period so rounds come quickly, and small helpers (bundle download, replay).
 */
import { createLogger, openReplayTools, replayOutbox, startPlatform, type Clock, type ModuleDefinition } from '@verity/kernel';
import { freePort, startTestPlatform, testConfig, testHttp, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { adminToken, operatorSession, type TestOperator } from '@verity/identity/testing';
import { complianceModule } from '@verity/compliance';
import { paymentsModule } from '@verity/payments';
import { drawsModule, type DrawsService } from '@verity/draws';
import { ticketingStandIn, type TicketingStandIn } from './ticketing-stand-in.ts';

export const FAST_ENV = { QUEUE_SUPERVISE_INTERVAL_S: '1', COMPLIANCE_SELF_EXCLUSION_REGISTER: 'none', LOG_CHECKPOINT_INTERVAL_MS: '100', LOG_ANCHOR_DIR: 'none' };

/** Draw settings for tests (config keys of src/settings.ts): a fast sandbox chain and short margins. */
export function drawsTestConfig(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { drawsBeacon: 'sandbox', drawsBeaconSandboxPort: port, drawsBeaconSandboxPeriodS: 1, drawsMarginRounds: 3, drawsFallbackRounds: 2, drawsRoundWindowS: 30, drawsDrawSlackMs: 200, drawsLogTimeoutMs: 20_000, ...extra };
}

export interface DrawsPlatform {
  platform: TestPlatform;
  beaconUrl: string;
  draws: DrawsService;
  stop(): Promise<void>;
}

export async function startDrawsPlatform(options: { modules: ModuleDefinition<any>[]; env?: Record<string, string>; config?: Record<string, unknown>; clock?: Clock }): Promise<DrawsPlatform> {
  const port = await freePort();
  const modules = [identityModule, paymentsModule, complianceModule, ...options.modules, drawsModule];
  const env = { ...FAST_ENV, PSP_PROVIDER: 'sandbox', PSP_SANDBOX_PORT: String(await freePort()), ...options.env };
  const config = drawsTestConfig(port, options.config) as never;
  let platform: TestPlatform;
  if (options.clock) {
    const cfg = await testConfig(env, config);
    const started = await startPlatform({ config: cfg, modules, clock: options.clock, log: createLogger(cfg.logLevel) });
    platform = Object.assign(started, { http: testHttp(started.url) });
  } else platform = await startTestPlatform({ modules, env, config });
  return { platform, beaconUrl: `http://127.0.0.1:${port}`, draws: platform.service<DrawsService>('draws'), stop: () => platform.stop() };
}

/** The platform with the ticketing stand-in (tests of draw behaviour the real ticketing cannot misbehave into). */
export async function startWithStandIn(options: { env?: Record<string, string>; config?: Record<string, unknown>; clock?: Clock } = {}): Promise<DrawsPlatform & { ticketing: TicketingStandIn }> {
  const p = await startDrawsPlatform({ modules: [ticketingStandIn], ...options });
  return { ...p, ticketing: p.platform.service<{ control(): TicketingStandIn }>('ticketing').control() };
}

export const drawManager = (p: TestPlatform): Promise<TestOperator> => operatorSession(p, ['draw-manager']);
export { adminToken };

/** Waits until the competition's draw reaches one of the states. */
export async function waitForDrawState(dp: DrawsPlatform, competitionId: string, states: readonly string[], timeoutMs = 30_000) {
  let last: unknown;
  try {
    return await waitFor(async () => {
      const d = await dp.draws.getDraw({ competitionId });
      last = d;
      return d && states.includes(d.state) ? d : undefined;
    }, { timeoutMs, intervalMs: 100, what: `draw of ${competitionId} to be ${states.join(' or ')}` });
  } catch (err) {
    const winners = await dp.platform.db.query('select w.position, w.state, w.prize_kind from draws.winners w join draws.draws d using (draw_id) where d.competition_id = $1', [competitionId]);
    const outbox = await dp.platform.db.query('select type, published_at is not null as published from draws.outbox order by position desc limit 8');
    const queues = await dp.platform.db.query(`select name, state, start_after, singleton_key, retry_count, output from pgboss.job where name like 'draws.job.%' order by created_on`);
    throw new Error(`${(err as Error).message}; the draw was ${JSON.stringify(last)}; winners ${JSON.stringify(winners)}; outbox ${JSON.stringify(outbox)}; queues ${JSON.stringify(queues)}`, { cause: err });
  }
}

/** Re-delivers every retained outbox event of `module` to its subscribers (as `verity replay` does). */
export async function replayAll(p: TestPlatform, module: string): Promise<number> {
  const tools = await openReplayTools(p.config.databaseUrl!);
  try {
    return (await replayOutbox(tools, { module })).events;
  } finally {
    await tools.close();
  }
}

/** Events of one type draws wrote to its outbox. */
export async function drawEvents(p: TestPlatform, type: string): Promise<Record<string, any>[]> {
  const rows = await p.db.query<{ data: Record<string, any> }>('select data from draws.outbox where type = $1 order by position', [type]);
  return rows.map((r) => r.data);
}

/** Waits until every queue of draws is idle (nothing ready or running) — after a replay. */
export async function drawsQueuesIdle(p: TestPlatform): Promise<void> {
  await waitFor(async () => {
    const stats = await p.bus.stats();
    return stats.filter((s) => s.module === 'draws' && s.kind === 'subscriber').every((s) => s.ready === 0 && s.active === 0);
  }, { timeoutMs: 20_000, what: 'draws subscribers to drain' });
}

export function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string): void {
  if (res.status !== status || res.body?.code !== code) throw new Error(`expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`);
  if (!(res.headers.get('content-type') ?? '').includes('application/problem+json')) throw new Error('expected application/problem+json');
}

/** A clock that runs with real time plus an offset the test moves (the beacon sandbox follows it). */
export function offsetClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return { now: async () => new Date(Date.now() + offsetMs), advance: (ms) => void (offsetMs += ms) };
}
