import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Type } from 'typebox';
import { createLogger, defineModule, startPlatform, Strict, type Platform } from '@verity/kernel';
import { startTestPlatform, testConfig, testHttp, waitFor, type TestHttp, type TestPlatform } from '@verity/kernel/testing';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';

/** A careless module that logs whatever body it is given. */
const chattyModule = defineModule({
  name: 'fixture_chatty',
  migrationsDir: '/nonexistent',
  remoteMethods: [],
  setup: (ctx) => ({
    service: {},
    routes(app) {
      const body = Strict({ email: Type.String(), password: Type.String(), profile: Type.Optional(Strict({ email: Type.String() })) });
      app.post('/v1/fixture/chatter', { schema: { operationId: 'fixtureChatter', body } }, async (req) => {
        ctx.log.info({ body: req.body }, 'received a sign-up');
        return { ok: true };
      });
    },
  }),
});

/** An OTLP/HTTP collector on loopback that keeps every span it receives. */
async function startCollector(): Promise<{ url: string; spans: Record<string, unknown>[]; close(): Promise<void>; server: Server }> {
  const spans: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(raw.toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
        for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A module with one job nobody runs soon, so its queue has depth. */
const queuedModule = defineModule({
  name: 'fixture_queued',
  migrationsDir: '/nonexistent',
  remoteMethods: [],
  setup: () => ({ service: {}, jobs: [{ name: 'later', handle: async () => {} }] }),
});

describe('observability: health, readiness, metrics', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [queuedModule] });
  });
  after(() => p?.stop());

  it('when the process is up, then /healthz is 200 and /readyz reports every check ok', async () => {
    assert.deepEqual((await p.http.get('/healthz')).body, { status: 'ok' });
    const ready = await p.http.get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { database: 'ok', migrations: 'ok', queues: 'ok' } });
  });

  it('when a migration is not applied, then /readyz is a 503 problem naming the migrations check', async () => {
    const row = await p.db.one<Record<string, unknown>>("select * from kernel.schema_migrations where module = 'kernel' and version = 1");
    await p.db.query("delete from kernel.schema_migrations where module = 'kernel' and version = 1");
    try {
      const res = await p.http.get('/readyz');
      assert.equal(res.status, 503);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.type, '/problems/service-unavailable');
      assert.deepEqual(res.body.checks, { database: 'ok', migrations: 'failed', queues: 'ok' });
    } finally {
      await p.db.query('insert into kernel.schema_migrations (module, version, name, checksum, applied_at) values ($1, $2, $3, $4, $5)', [row.module, row.version, row.name, row.checksum, row.applied_at]);
    }
    assert.equal((await p.http.get('/readyz')).status, 200);
  });

  it('when requests were served, then /metrics shows their rate and latency by route template, with process, pool and queue series', async () => {
    await p.http.get('/healthz');
    await p.http.get('/v1/no/such/route/123');
    const res = await p.http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = res.body as string;
    assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+/);
    assert.match(text, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status_code="200"\}/);
    // An unknown path is one series, not one per path asked for.
    assert.match(text, /route="unmatched",status_code="404"/);
    assert.doesNotMatch(text, /no\/such\/route/);
    assert.match(text, /process_cpu_user_seconds_total/);
    assert.match(text, /nodejs_eventloop_lag_seconds/);
    assert.match(text, /verity_db_pool_connections\{state="total"\} \d+/);
    assert.match(text, /verity_queue_dlq_depth\{queue="kernel.job.event-retention"\} 0/);
    assert.match(text, /# TYPE verity_outbox_unpublished gauge/);
  });

  it('when a job waits in a queue, then /metrics shows the depth of that queue', async () => {
    await p.db.tx(() => p.bus.jobsFor('fixture_queued').enqueue('later', { n: 1 }, { startAfter: 3600 }));
    await waitFor(async () => /verity_queue_depth\{queue="fixture_queued.job.later"\} 1/.test((await p.http.get('/metrics')).body), { what: 'depth 1 in /metrics' });
  });

  it('when two platforms share a process, then each counts only its own requests', async () => {
    const count = (text: string) => Number(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    const other = await startTestPlatform({ modules: [] });
    try {
      const mineBefore = count((await p.http.get('/metrics')).body);
      for (let i = 0; i < 3; i++) await other.http.get('/healthz');
      assert.equal(count((await other.http.get('/metrics')).body), 3);
      assert.equal(count((await p.http.get('/metrics')).body), mineBefore);
    } finally {
      await other.stop();
    }
  });

  it('when the operations routes are listed, then they carry their operationIds in the OpenAPI document', async () => {
    const doc = (await p.http.get('/openapi.json')).body;
    assert.equal(doc.paths['/healthz'].get.operationId, 'getHealth');
    assert.equal(doc.paths['/readyz'].get.operationId, 'getReadiness');
    assert.equal(doc.paths['/metrics'].get.operationId, 'getMetrics');
  });
});

describe('observability: traces and logs', () => {
  let platform: Platform;
  let http: TestHttp;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const lines: Record<string, unknown>[] = [];
  const rawLines: string[] = [];

  before(async () => {
    collector = await startCollector();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          rawLines.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const config = await testConfig({ LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    platform = await startPlatform({ config, modules: [chattyModule], log: createLogger('info', { destination: sink }) });
    http = testHttp(platform.url);
  });
  after(async () => {
    await platform?.stop();
    await collector?.close();
  });

  it('when a request continues a caller trace, then one server span with the same ids is exported by OTLP', async () => {
    const res = await http.request('GET', '/healthz', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` } });
    const [, traceId, spanId] = (res.headers.get('traceparent') ?? '').split('-');
    assert.equal(traceId, TRACE_ID);
    const span = await waitFor(() => collector.spans.find((s) => s.spanId === spanId), { what: 'the exported span', timeoutMs: 10_000 });
    assert.equal(span.traceId, TRACE_ID);
    assert.equal(span.parentSpanId, PARENT_SPAN_ID);
    assert.equal(span.name, 'GET /healthz');
    assert.equal(span.kind, 2); // SERVER
  });

  it('when a request body holds a password and an email, then no log line contains them, and every line of the request has its trace id', async () => {
    const secret = { email: 'alice.secret@example.com', password: 'correct horse battery staple', profile: { email: 'second.secret@example.com' } };
    const res = await http.post('/v1/fixture/chatter', secret);
    assert.equal(res.status, 200);
    const traceId = (res.headers.get('traceparent') ?? '').split('-')[1];
    const ofRequest = await waitFor(() => {
      const found = lines.filter((l) => l.traceId === traceId);
      return found.length >= 2 ? found : undefined;
    }, { what: 'the module line and the request line' });
    assert.ok(ofRequest.some((l) => l.msg === 'received a sign-up' && l.module === 'fixture_chatty'));
    assert.ok(ofRequest.some((l) => l.msg === 'request' && l.route === '/v1/fixture/chatter' && l.status === 200));
    const all = rawLines.join('\n');
    for (const value of [secret.email, secret.password, secret.profile.email]) assert.ok(!all.includes(value), `a log line contains ${value}`);
    // Every line is JSON with a level and a time.
    for (const l of lines) assert.ok(typeof l.level === 'string' && typeof l.time === 'string');
  });
});
