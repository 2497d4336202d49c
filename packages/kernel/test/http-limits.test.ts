import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from 'typebox';
import { defineModule, Strict } from '@verity/kernel';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';

const ALLOWED_ORIGIN = 'https://app.verity.example';

const echoModule = defineModule({
  name: 'fixture_echo',
  migrationsDir: '/nonexistent',
  remoteMethods: [],
  setup: () => ({
    service: {},
    routes(app) {
      const body = Strict({ name: Type.String({ maxLength: 20 }), count: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })), tags: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })) });
      app.post('/v1/fixture/echoes', { schema: { operationId: 'fixtureEcho', body, response: { 200: body } } }, async (req) => req.body);
      app.get('/v1/fixture/echoes', { schema: { operationId: 'fixtureListEchoes', querystring: Strict({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }) } }, async () => ({ items: [] }));
      app.get('/v1/fixture/echoes/:echoId', { schema: { operationId: 'fixtureGetEcho', params: Strict({ echoId: Type.String({ maxLength: 300 }) }) } }, async () => ({}));
    },
  }),
});

const problemOf = (res: { status: number; headers: Headers; body: any }, status: number, type: string) => {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.type, `/problems/${type}`);
  assert.equal(res.body.status, status);
  assert.equal(res.body.instance, `urn:request:${res.headers.get('x-request-id')}`);
  assert.equal(res.body.stack, undefined);
};

describe('HTTP limits and protections', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [echoModule], env: { BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: ALLOWED_ORIGIN } });
  });
  after(() => p?.stop());

  it('when the body is larger than BODY_LIMIT_BYTES, then the answer is a 413 problem', async () => {
    const res = await p.http.request('POST', '/v1/fixture/echoes', { rawBody: JSON.stringify({ name: 'x', pad: 'y'.repeat(3000) }) });
    problemOf(res, 413, 'payload-too-large');
  });

  it('when the body is not JSON, then the answer is a 415 problem', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await p.http.request('POST', '/v1/fixture/echoes', { rawBody: 'name=x', headers: { 'content-type': type } });
      problemOf(res, 415, 'unsupported-media-type');
    }
  });

  it('when the JSON cannot be parsed, then the answer is a 400 malformed-request problem', async () => {
    problemOf(await p.http.request('POST', '/v1/fixture/echoes', { rawBody: '{"name": "x",' }), 400, 'malformed-request');
    problemOf(await p.http.request('POST', '/v1/fixture/echoes', { rawBody: '' }), 400, 'malformed-request');
  });

  it('when the body has an unknown field, then the answer is a 400 with a pointer to that field', async () => {
    const res = await p.http.post('/v1/fixture/echoes', { name: 'x', isAdmin: true });
    problemOf(res, 400, 'validation-failed');
    assert.deepEqual(res.body.errors, [{ pointer: '/body/isAdmin', detail: 'is not a known field' }]);
  });

  it('when fields have the wrong type or size, then every bad field is named with its pointer', async () => {
    const res = await p.http.post('/v1/fixture/echoes', { name: 'n'.repeat(21), count: 'many', tags: ['a', 'b', 'c', 'd', 'e', 'f'] });
    problemOf(res, 400, 'validation-failed');
    const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer).sort();
    assert.deepEqual(pointers, ['/body/count', '/body/name', '/body/tags']);
  });

  it('when a number arrives as the string "1e999", then it is refused rather than passed on as Infinity', async () => {
    // JSON bodies are not coerced: a string where a number belongs is a type error.
    const body = await p.http.post('/v1/fixture/echoes', { name: 'x', count: '1e999' });
    problemOf(body, 400, 'validation-failed');
    assert.deepEqual(body.body.errors.map((e: { pointer: string }) => e.pointer), ['/body/count']);
    const query = await p.http.get('/v1/fixture/echoes?limit=-1e999');
    problemOf(query, 400, 'validation-failed');
    assert.deepEqual(query.body.errors.map((e: { pointer: string }) => e.pointer), ['/querystring/limit']);
  });

  it('when a string carries a NUL character, then it is refused before it reaches the database', async () => {
    const body = await p.http.post('/v1/fixture/echoes', { name: 'a\u0000b', count: 1 });
    problemOf(body, 400, 'validation-failed');
    assert.deepEqual(body.body.errors, [{ pointer: '/body/name', detail: 'must not contain the NUL character' }]);
  });

  it('when a body field has the wrong JSON type, then it is refused, not coerced', async () => {
    const res = await p.http.post('/v1/fixture/echoes', { name: 123, count: '2' });
    problemOf(res, 400, 'validation-failed');
    assert.deepEqual(res.body.errors.map((e: { pointer: string }) => e.pointer).sort(), ['/body/count', '/body/name']);
  });

  it('when a path parameter is too long or badly encoded, then the router answers a problem too', async () => {
    problemOf(await p.http.get(`/v1/fixture/echoes/${'x'.repeat(300)}`), 414, 'uri-too-long');
    problemOf(await p.http.get('/v1/fixture/echoes/%E0%A4%A'), 400, 'malformed-request');
  });

  it('when a valid body is sent, then it passes the limits unchanged', async () => {
    const res = await p.http.post('/v1/fixture/echoes', { name: 'ok', count: 2 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { name: 'ok', count: 2 });
  });

  it('when any answer goes out, then it carries the security headers', async () => {
    const res = await p.http.get('/v1/fixture/echoes');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('when an allowed origin asks, then CORS lets it in; when another origin asks, then it does not', async () => {
    const preflight = (origin: string) =>
      p.http.request('OPTIONS', '/v1/fixture/echoes', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const allowed = await preflight(ALLOWED_ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    const refused = await preflight('https://evil.example');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);

    const simple = await p.http.request('GET', '/v1/fixture/echoes', { headers: { origin: ALLOWED_ORIGIN } });
    assert.equal(simple.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.match(simple.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
    const other = await p.http.request('GET', '/v1/fixture/echoes', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

describe('HTTP rate limits', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [echoModule], env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  after(() => p?.stop());

  it('when a client goes over the limit, then it gets a 429 problem with retry-after, and probes still answer', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await p.http.get('/v1/fixture/echoes')).status, 200);
    const res = await p.http.get('/v1/fixture/echoes');
    problemOf(res, 429, 'rate-limited');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, `retry-after ${res.headers.get('retry-after')}`);
    assert.equal(res.body.retryAfterSeconds, retryAfter);
    // Health probes and scrapes are exempt: an orchestrator must not be told a busy process is dead.
    for (let i = 0; i < 5; i++) assert.equal((await p.http.get('/healthz')).status, 200);
  });
});
