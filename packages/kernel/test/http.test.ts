import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';

describe('HTTP foundation', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
  });
  after(() => p?.stop());

  it('when a route does not exist, then it answers a problem+json 404 with the request id as instance', async () => {
    const res = await p.http.get('/v1/nothing-here');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(res.body.type, '/problems/not-found');
    assert.equal(res.body.instance, `urn:request:${res.headers.get('x-request-id')}`);
  });

  it('when a caller sends traceparent, then the response continues the same trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await p.http.request('GET', '/healthz', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('traceparent') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it('when the platform is up, then readiness is 200 and the OpenAPI document is 3.1', async () => {
    assert.equal((await p.http.get('/readyz')).status, 200);
    const doc = await p.http.get('/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
  });
});
