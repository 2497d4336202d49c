// The SES adapter of the notification port, against a local HTTP server standing in for the SESv2
// API (REST JSON: POST /v2/email/outbound-emails), reached through the SDK's standard endpoint
// override AWS_ENDPOINT_URL_SESV2.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { playerToken, strongPassword } from '@verity/identity/testing';
import { sesNotifier } from '../src/adapters/ses-notifier.ts';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, any>;
}

/** Answers SendEmail like SES does; `failNext` makes the next calls fail with a 500. */
async function fakeSes() {
  const received: Received[] = [];
  let failNext = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : {} });
      if (failNext > 0) {
        failNext--;
        res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure' });
        return res.end(JSON.stringify({ message: 'try again' }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ MessageId: `0100018f-${received.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    fail: (n: number) => void (failNext = n),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('identity: notifications through Amazon SES', () => {
  let ses: Awaited<ReturnType<typeof fakeSes>>;
  let p: TestPlatform;
  const saved = { ...process.env };
  before(async () => {
    ses = await fakeSes();
    // The SDK's own configuration, as in AWS (where the task role supplies credentials).
    Object.assign(process.env, { AWS_ENDPOINT_URL_SESV2: ses.url, AWS_REGION: 'eu-west-2', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' });
    p = await startTestPlatform({ modules: [identityModule], env: { NOTIFICATION_SENDER: 'ses', MAIL_FROM: 'Verity <no-reply@verity.example>' } });
  });
  after(async () => {
    await p?.stop();
    await ses?.close();
    process.env = saved;
  });

  it('when a password reset is requested, then SES receives a signed SendEmail from MAIL_FROM with the reset link, and the link works', async () => {
    const player = await playerToken(p.http);
    const res = await p.http.post('/v1/auth/password-reset', { email: player.email });
    assert.equal(res.status, 202);
    const call = await waitFor(() => ses.received.at(-1), { what: 'the SendEmail call' });
    assert.equal(call.method, 'POST');
    assert.equal(call.url, '/v2/email/outbound-emails');
    assert.match(String(call.headers['content-type']), /application\/json/);
    assert.match(String(call.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-2\/ses\/aws4_request/);
    assert.equal(call.body.FromEmailAddress, 'Verity <no-reply@verity.example>');
    assert.deepEqual(call.body.Destination, { ToAddresses: [player.email] });
    assert.equal(call.body.Content.Simple.Subject.Data, 'Reset your Verity password');
    assert.equal(call.body.Content.Simple.Body.Text.Charset, 'UTF-8');
    assert.deepEqual(call.body.EmailTags, [{ Name: 'template', Value: 'password-reset' }]);
    const token = /#token=([A-Za-z0-9_-]{43})/.exec(call.body.Content.Simple.Body.Text.Data)![1]!;
    assert.equal((await p.http.post('/v1/auth/password-reset/confirm', { token, newPassword: strongPassword() })).status, 204);
  });

  it('when SES fails once, then the SDK retries; when it keeps failing, then the send rejects and the request that caused it is not affected', async () => {
    const notifier = sesNotifier({ from: 'no-reply@verity.example', log: createLogger('silent') });
    try {
      const message = { to: 'someone@example.test', subject: 's', text: 't', template: 'password-reset' as const, data: {} };
      const callsBefore = ses.received.length;
      ses.fail(1);
      await notifier.send(message);
      assert.equal(ses.received.length - callsBefore, 2, 'one failure, one retry');
      ses.fail(10);
      await assert.rejects(notifier.send(message));
      ses.fail(0);
    } finally {
      notifier.close?.();
    }
    const player = await playerToken(p.http);
    const callsBefore = ses.received.length;
    ses.fail(3);
    assert.equal((await p.http.post('/v1/auth/password-reset', { email: player.email })).status, 202);
    await waitFor(() => ses.received.length - callsBefore === 3, { what: 'three failed attempts' });
    assert.equal((await p.http.get('/readyz')).status, 200, 'a failed send is logged, nothing crashed');
  });
});
