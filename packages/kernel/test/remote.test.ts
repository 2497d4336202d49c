/**
 * Modules in separate processes. The first suite is the proof the platform issue asks for: a real
 * `verity start --modules identity` child process, and a platform in this process that runs only a
 * fixture module calling identity's service over HTTP. The second suite pins the transport rules
 * (codec, tracing, timeouts that never re-send, the circuit breaker) with in-process fixtures.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DomainError, defineModule, requestContext, type ModuleDefinition } from '@verity/kernel';
import { createTestDatabase, startTestPlatform, testHttp, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule, type IdentityService } from '@verity/identity';
import { freePort } from '../src/db/embedded.ts';
import { createRemoteService, serviceTokenSecret, signServiceToken } from '../src/remote.ts';
import { loadConfig } from '../src/config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Fixture modules own no tables; a folder that does not exist has no migrations. */
const NO_MIGRATIONS = path.join(ROOT, 'packages', 'kernel', 'test', 'no-migrations');

/** A module of this test only: its route asks identity, wherever identity runs. */
function gatewayModule(): ModuleDefinition<object> {
  return defineModule<object>({
    name: 'gateway',
    migrationsDir: NO_MIGRATIONS,
    remoteMethods: [],
    setup: (ctx) => ({
      service: {},
      routes(app) {
        app.get<{ Params: { id: string } }>('/v1/gateway/players/:id', { schema: { operationId: 'gatewayPlayer' } }, async (req) => {
          const summary = await ctx.service<IdentityService>('identity').getPlayerSummary(req.params.id);
          return { ...summary, createdAtIsDate: summary.createdAt instanceof Date };
        });
      },
    }),
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('a module in another process (verity start --modules identity)', () => {
  const secret = randomBytes(32).toString('hex');
  let dataDir: string;
  let child: ChildProcess | undefined;
  let childUrl: string;
  let childLog = '';
  let caller: TestPlatform;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-remote-'));
    const port = await freePort();
    childUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: (await createTestDatabase()).url,
      PORT: String(port),
      VERITY_DATA_DIR: dataDir,
      VERITY_KEY_FILE: path.join(dataDir, 'keys', 'master.key'),
      SERVICE_TOKEN_SECRET: secret,
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'false',
      VERITY_ENV: 'test',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      RATE_LIMIT_MAX: '100000',
    };
    delete env.NODE_TEST_CONTEXT;
    child = spawn(process.execPath, ['apps/platform/src/cli.ts', 'start', '--modules', 'identity'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Should this test process die first, the child must not outlive it.
    process.once('exit', () => child?.kill('SIGKILL'));
    child.stdout!.on('data', (b) => (childLog += b));
    child.stderr!.on('data', (b) => (childLog += b));
    await waitFor(async () => {
      if (child!.exitCode !== null) throw new Error(`the identity process exited (${child!.exitCode}):\n${childLog}`);
      return fetch(`${childUrl}/readyz`).then((r) => r.status === 200, () => false);
    }, { timeoutMs: 90_000, intervalMs: 100, what: 'the identity process to be ready' });

    caller = await startTestPlatform({
      modules: [identityModule, gatewayModule()],
      run: ['gateway'],
      env: { VERITY_SERVICE_URLS: `identity=${childUrl}`, SERVICE_TOKEN_SECRET: secret },
      config: { dataDir, keyFile: env.VERITY_KEY_FILE! },
    });
  });

  after(async () => {
    await stopChild(child);
    await caller?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when this process does not run identity, then its service is an HTTP client and the call crosses processes', async () => {
    assert.deepEqual(caller.running, ['gateway']);
    const identity = testHttp(childUrl);
    const email = `remote-${randomUUID()}@example.test`;
    const registered = await identity.post('/v1/players', {
      email,
      password: `Correct-Horse-${randomUUID()}`,
      legalName: 'Ada Remote',
      dateOfBirth: '1990-04-01',
      address: { line1: '1 Test Street', city: 'London', postcode: 'EC1A 1AA', country: 'GB' },
      country: 'GB',
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));

    const res = await caller.http.get(`/v1/gateway/players/${registered.body.playerId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.playerId, registered.body.playerId);
    assert.equal(res.body.country, 'GB');
    assert.equal(res.body.createdAtIsDate, true, 'createdAt crossed the codec as a Date');

    const direct = await caller.service<IdentityService>('identity').getPlayerSummary(registered.body.playerId);
    assert.ok(direct.createdAt instanceof Date);
    assert.ok(Math.abs(direct.createdAt.getTime() - Date.now()) < 10 * 60_000);
  });

  it('when identity throws a DomainError, then the caller answers the same problem', async () => {
    const missing = randomUUID();
    const viaCaller = await caller.http.get(`/v1/gateway/players/${missing}`);
    const token = await signServiceToken(secret, 'test', 'identity');
    const atSource = await testHttp(childUrl).post('/internal/v1/identity/getPlayerSummary', { args: [missing] }, token);
    assert.equal(atSource.status, 404);
    assert.equal(viaCaller.status, 404);
    assert.match(viaCaller.headers.get('content-type') ?? '', /application\/problem\+json/);
    for (const field of ['type', 'title', 'status', 'detail', 'code'] as const) assert.equal(viaCaller.body[field], atSource.body[field], field);
    assert.equal(viaCaller.body.instance, `urn:request:${viaCaller.headers.get('x-request-id')}`);
  });

  it('when an internal call has no service token, a forged one, or one for another module, then it is a 401 problem', async () => {
    const http = testHttp(childUrl);
    const url = '/internal/v1/identity/getPlayerSummary';
    const body = { args: [randomUUID()] };
    const forged = await signServiceToken(randomBytes(32).toString('hex'), 'test', 'identity');
    const wrongAudience = await signServiceToken(secret, 'test', 'payments');
    for (const token of [undefined, forged, wrongAudience, 'not-a-jwt']) {
      const res = await http.post(url, body, token);
      assert.equal(res.status, 401, String(token));
      assert.equal(res.body.code, 'service-token-invalid');
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
  });

  it('when the internal endpoint is asked for an unknown module or method, then it is a 404 problem, and it is not in the OpenAPI document', async () => {
    const http = testHttp(childUrl);
    const unknownMethod = await http.post('/internal/v1/identity/dropAllTables', { args: [] }, await signServiceToken(secret, 'test', 'identity'));
    assert.equal(unknownMethod.status, 404);
    assert.equal(unknownMethod.body.code, 'service-method-not-found');
    const unknownModule = await http.post('/internal/v1/payments/balance', { args: [] }, await signServiceToken(secret, 'test', 'payments'));
    assert.equal(unknownModule.status, 404);
    const doc = await http.get('/openapi.json');
    assert.ok(!Object.keys(doc.body.paths ?? {}).some((p) => p.startsWith('/internal')));
  });

  it('when the identity process is killed, then the caller answers a 503 problem quickly instead of hanging or failing with a 500', async () => {
    await stopChild(child);
    const started = performance.now();
    const res = await caller.http.get(`/v1/gateway/players/${randomUUID()}`);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'upstream-unavailable');
    assert.equal(res.body.upstream, 'identity');
    assert.ok(performance.now() - started < 5_000, 'failed fast');
  });
});

describe('service calls between processes: transport rules', () => {
  const secret = randomBytes(32).toString('hex');
  const calls = { hold: 0 };
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));

  interface EchoService {
    echo(value: unknown): Promise<unknown>;
    trace(): Promise<string | undefined>;
    caller(): Promise<string | undefined>;
    reject(): Promise<never>;
    hold(): Promise<string>;
  }
  const echoModule = defineModule<EchoService>({
    name: 'echo_fixture',
    migrationsDir: NO_MIGRATIONS,
    remoteMethods: ['echo', 'trace', 'caller', 'reject', 'hold'],
    setup: () => ({
      service: {
        echo: async (value) => value,
        trace: async () => requestContext.traceId(),
        caller: async () => requestContext.get()?.principal?.subject,
        reject: async () => {
          throw new DomainError('limit-exceeded', 409, 'Limit exceeded', 'The deposit limit is 100.00 GBP.', { limitMinor: '10000' }, [{ pointer: '/body/amount', detail: 'too large' }]);
        },
        hold: async () => {
          calls.hold++;
          await held;
          return 'finished';
        },
      },
    }),
  });
  let callee: TestPlatform;
  let echo: EchoService;

  before(async () => {
    // A public rate limit this low would throttle the suite if service calls were not exempt from it.
    callee = await startTestPlatform({ modules: [echoModule], env: { SERVICE_TOKEN_SECRET: secret, RATE_LIMIT_MAX: '3' } });
    echo = createRemoteService<EchoService>(echoModule, { baseUrl: callee.url, secret, callerModule: 'ticketing', timeoutMs: 500 });
  });
  after(async () => {
    release();
    // After the aborted `hold` call, fetch re-dials and leaves a connection that never sends a request;
    // Node counts it as busy and would hold close() for ~30 s (reported to the kernel-ops owner).
    callee?.app.server.closeAllConnections();
    await callee?.stop();
  });

  it('when arguments and results hold bigint money, dates and nesting, then they arrive intact', async () => {
    const value = { amountMinor: 12_345_678_901_234_567_890n, at: new Date('2030-01-01T00:00:00Z'), lines: [{ qty: 2n }], note: null };
    assert.deepEqual(await echo.echo(value), value);
    assert.equal(await echo.echo(undefined), undefined);
  });

  it('when service calls outnumber the public per-client rate limit, then none is throttled', async () => {
    for (let i = 0; i < 10; i++) assert.equal(await echo.echo(i), i);
    const publicRoute = await Promise.all(Array.from({ length: 5 }, () => callee.http.get('/openapi.json')));
    assert.ok(publicRoute.some((r) => r.status === 429), 'the public limit is in force');
  });

  it('when the caller is inside a traced request, then the callee continues the same trace and knows the calling service', async () => {
    const traceId = randomBytes(16).toString('hex');
    const seen = await requestContext.run({ requestId: randomUUID(), trace: { traceId, spanId: randomBytes(8).toString('hex'), sampled: true } }, () => echo.trace());
    assert.equal(seen, traceId);
    assert.equal(await echo.caller(), 'service:ticketing');
  });

  it('when the service throws a DomainError, then the caller gets a DomainError with the same code, status, title, detail and extensions', async () => {
    const err = await echo.reject().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'limit-exceeded');
    assert.equal(err.status, 409);
    assert.equal(err.title, 'Limit exceeded');
    assert.equal(err.detail, 'The deposit limit is 100.00 GBP.');
    assert.equal(err.extensions.limitMinor, '10000');
    assert.deepEqual(err.errors, [{ pointer: '/body/amount', detail: 'too large' }]);
  });

  it('when a command outlives the timeout, then the caller gets 503 with an unknown outcome and the command is not sent again', async () => {
    const started = performance.now();
    const err = await echo.hold().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'upstream-unavailable');
    assert.equal(err.status, 503);
    assert.equal(err.extensions.outcome, 'unknown');
    assert.ok(performance.now() - started < 3_000);
    assert.equal(calls.hold, 1, 'sent exactly once');
  });

  it('when a method is not in remoteMethods, then the proxy refuses it without a network call', async () => {
    const loose = echo as unknown as { dropTables(): Promise<void> };
    await assert.rejects(loose.dropTables(), /not in echo_fixture's remoteMethods/);
    assert.equal((echo as unknown as { then?: unknown }).then, undefined, 'the proxy is not a thenable');
  });

  it('when nothing listens at the target, then calls fail as not executed and, after repeated failures, the breaker fails them fast', async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const dead = createRemoteService<EchoService>(echoModule, { baseUrl: deadUrl, secret, callerModule: 'ticketing', timeoutMs: 2_000 });
    const first = await dead.echo(1).then(() => undefined, (e: unknown) => e as DomainError);
    assert.equal(first?.code, 'upstream-unavailable');
    assert.equal(first?.extensions.outcome, 'not-executed');
    for (let i = 0; i < 5; i++) await dead.echo(1).catch(() => {});
    const started = performance.now();
    const paused = await dead.echo(1).then(() => undefined, (e: unknown) => e as DomainError);
    assert.match(paused?.detail ?? '', /paused/);
    assert.ok(performance.now() - started < 50, 'the open breaker does not touch the network');
  });
});

describe('the service token secret', () => {
  it('when two processes share a key file and set no SERVICE_TOKEN_SECRET, then they derive the same secret, and the file is private', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'verity-keys-'));
    try {
      const keyFile = path.join(dir, 'keys', 'master.key');
      const a = await serviceTokenSecret(loadConfig({ VERITY_DATA_DIR: dir }));
      const b = await serviceTokenSecret(loadConfig({ VERITY_KEY_FILE: keyFile }));
      assert.equal(a, b);
      assert.match(a, /^[0-9a-f]{64}$/);
      assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
      const master = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64');
      assert.equal(master.length, 32);
      assert.ok(!a.includes(master.toString('hex')), 'the master key is never the secret');
      const other = await serviceTokenSecret(loadConfig({ VERITY_KEY_FILE: path.join(dir, 'other.key') }));
      assert.notEqual(other, a);
      const explicit = 'x'.repeat(40);
      assert.equal(await serviceTokenSecret(loadConfig({ SERVICE_TOKEN_SECRET: explicit })), explicit);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
