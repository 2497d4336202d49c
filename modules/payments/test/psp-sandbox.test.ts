/**
 * The sandbox PSP on its own, through our adapter, as a card PSP's integration tests would: the
 * same idempotency key gives the same payment, 3-D Secure, signed webhooks with retries, funding
 * types per test card, payouts, refunds, the settlement report, hangs, and its journal.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';
import { SandboxPsp } from '../src/psp/sandbox/adapter.ts';
import { SandboxServer } from '../src/psp/sandbox/server.ts';
import { SANDBOX_SIGNATURE_HEADER } from '../src/psp/sandbox/webhook-sender.ts';
import { createResilientPsp } from '../src/psp/resilient.ts';
import { verifySignature } from '../src/psp/signature.ts';
import { CREDIT_CHALLENGE, DEBIT_CHALLENGE, DEBIT_FRICTIONLESS, DECLINED } from './support/psp.ts';

const SECRET = 'whsec_sandbox_unit_test_secret';
const API_KEY = 'sk_sandbox_unit_test';
const log = createLogger('silent');

interface Received {
  body: Buffer;
  signature: string;
}

/** Our webhook endpoint, stand-in: records what arrives; answers `status()` (200 unless told). */
async function receiver(status: () => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks), signature: String(req.headers[SANDBOX_SIGNATURE_HEADER]) });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, events: () => received.map((r) => JSON.parse(r.body.toString()) as { id: string; type: string }), close: () => new Promise((r) => server.close(r)) };
}

async function sandbox(dir?: string) {
  const server = new SandboxServer({ host: '127.0.0.1', port: 0, apiKey: API_KEY, webhookSecret: SECRET, ...(dir ? { dir } : {}), control: { webhookRetryBaseMs: 20, payoutDelayMs: 20 }, log });
  await server.start();
  return server;
}

const reference = () => crypto.randomUUID();

describe('sandbox PSP', () => {
  let server: SandboxServer;
  let hooks: Awaited<ReturnType<typeof receiver>>;
  let psp: SandboxPsp;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sandbox-psp-'));
    server = await sandbox(dir);
    hooks = await receiver();
    psp = new SandboxPsp({ baseUrl: () => server.url, apiKey: API_KEY, webhookSecret: SECRET, notifyUrl: () => hooks.url });
  });
  after(async () => {
    await server?.stop();
    await hooks?.close();
  });

  const pay = (ref: string, paymentMethod = DEBIT_CHALLENGE, key = ref, amountMinor = 1000n) =>
    psp.createPayment({ idempotencyKey: key, reference: ref, amountMinor, currency: 'GBP', playerId: 'p1', paymentMethod });

  it('when the same Idempotency-Key is sent again, then the same payment comes back; with another body it is refused', async () => {
    const ref = reference();
    const first = await pay(ref);
    const again = await pay(ref);
    assert.equal(again.pspPaymentId, first.pspPaymentId);
    assert.equal([...server.store.payments.values()].filter((p) => p.reference === ref).length, 1);
    await assert.rejects(pay(ref, DEBIT_CHALLENGE, ref, 999n), (err: Error & { kind?: string; pspCode?: string }) => err.kind === 'rejected' && err.pspCode === 'idempotency_error');
    const unauthorised = await fetch(`${server.url}/v1/payments/${first.pspPaymentId}`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(unauthorised.status, 401);
  });

  it('when the player completes 3-D Secure, then the payment succeeds and signed webhooks arrive in order', async () => {
    const ref = reference();
    const session = await pay(ref);
    assert.equal(session.status, 'requires_action');
    assert.equal(session.fundingType, 'debit');
    const page = await fetch(session.actionUrl!);
    assert.match(await page.text(), /Sandbox 3-D Secure/);
    const done = await fetch(`${session.actionUrl}/complete?outcome=succeed`, { method: 'POST' });
    assert.equal(((await done.json()) as { status: string }).status, 'succeeded');

    const mine = () => hooks.received.filter((r) => r.body.toString().includes(session.pspPaymentId));
    await waitFor(() => mine().length === 2 || undefined, { what: 'two webhooks' });
    const nowS = Math.floor(Date.now() / 1000);
    for (const r of mine()) verifySignature(r.body, r.signature, SECRET, nowS);
    const events = mine().map((r) => psp.parseWebhook(r.body, { [SANDBOX_SIGNATURE_HEADER]: r.signature })!);
    assert.deepEqual(events.map((e) => e.type), ['payment.requires_action', 'payment.succeeded']);
    assert.equal(events[1]!.reference, ref);
    assert.equal(events[1]!.amountMinor, 1000n);
    assert.equal((await psp.getPayment(session.pspPaymentId)).status, 'succeeded');
    assert.equal((await psp.findPaymentByReference(ref))?.pspPaymentId, session.pspPaymentId);
    assert.equal(await psp.findPaymentByReference(reference()), undefined);
  });

  it('when a test card is used, then the sandbox reports its funding type and flow like a real sandbox', async () => {
    assert.equal((await pay(reference(), CREDIT_CHALLENGE)).fundingType, 'credit');
    assert.equal((await pay(reference(), '4000000000000028')).fundingType, 'prepaid');
    const frictionless = await pay(reference(), DEBIT_FRICTIONLESS);
    assert.equal(frictionless.status, 'succeeded');
    const declined = await pay(reference(), DECLINED);
    assert.equal(declined.status, 'failed');
    assert.equal(declined.failureReason, 'card_declined');
    await assert.rejects(pay(reference(), '4111111111111111'), (err: Error & { kind?: string }) => err.kind === 'rejected');
  });

  it('when our endpoint fails, then the sandbox retries the delivery with backoff until it is acknowledged', async () => {
    let calls = 0;
    const flaky = await receiver(() => (++calls <= 2 ? 503 : 200));
    const flakyPsp = new SandboxPsp({ baseUrl: () => server.url, apiKey: API_KEY, webhookSecret: SECRET, notifyUrl: () => flaky.url });
    try {
      const session = await flakyPsp.createPayment({ idempotencyKey: reference(), reference: reference(), amountMinor: 500n, currency: 'GBP', playerId: 'p1', paymentMethod: DEBIT_FRICTIONLESS });
      const record = await waitFor(() => [...server.sender.records.values()].find((r) => r.objectId === session.pspPaymentId && r.acknowledged === 1), { what: 'an acknowledged delivery' });
      assert.equal(record.attempts, 3);
      assert.equal(flaky.received.length, 3);
      // Every attempt is signed afresh and carries the same event.
      assert.equal(new Set(flaky.events().map((e) => e.id)).size, 1);
    } finally {
      await flaky.close();
    }
  });

  it('when payouts and refunds are made, then they settle and the daily report lists every settled object', async () => {
    const payoutRef = reference();
    const payout = await psp.createPayout({ idempotencyKey: payoutRef, reference: payoutRef, amountMinor: 700n, currency: 'GBP', playerId: 'p1', destination: 'card_4000000000000002' });
    assert.equal(payout.status, 'pending');
    await waitFor(async () => (await psp.findPayoutByReference(payoutRef))?.status === 'paid', { what: 'the payout to be paid' });
    const bounced = reference();
    await psp.createPayout({ idempotencyKey: bounced, reference: bounced, amountMinor: 300n, currency: 'GBP', playerId: 'p1', destination: 'card_decline' });
    await waitFor(async () => (await psp.findPayoutByReference(bounced))?.status === 'failed', { what: 'the payout to bounce' });

    const paymentRef = reference();
    const paid = await pay(paymentRef, DEBIT_FRICTIONLESS, paymentRef, 2000n);
    const refund = await psp.refundPayment({ idempotencyKey: `refund-${paymentRef}`, pspPaymentId: paid.pspPaymentId, amountMinor: 1500n, reason: 'test' });
    assert.equal(refund.status, 'succeeded');
    await assert.rejects(psp.refundPayment({ idempotencyKey: `refund2-${paymentRef}`, pspPaymentId: paid.pspPaymentId, amountMinor: 501n, reason: 'test' }), /exceeds/);

    const day = new Date().toISOString().slice(0, 10);
    const lines = await psp.settlementReport(day);
    const find = (kind: string, ref: string) => lines.find((l) => l.kind === kind && l.reference === ref);
    assert.equal(find('payout', payoutRef)?.amountMinor, 700n);
    assert.equal(find('payout', bounced), undefined, 'a bounced payout never settles');
    assert.equal(find('payment', paymentRef)?.amountMinor, 2000n);
    assert.equal(find('refund', paymentRef)?.amountMinor, 1500n);
    const csv = await fetch(`${server.url}/sandbox/settlements/${day}.csv`);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.match((await csv.text()).split('\n')[0]!, /^kind,psp_object_id,reference,amount_minor,currency,settled_at$/);
  });

  it('when the sandbox takes a payment and then hangs, then the caller times out and finds the payment by reference', async () => {
    server.configure({ timeoutPercent: 100 });
    const resilient = createResilientPsp(psp, { timeoutMs: 200, retryMax: 2, retryInitialDelayMs: 10, retryMaxDelayMs: 50, breakerFailures: 10, breakerHalfOpenMs: 1000, bulkheadMax: 4, bulkheadQueue: 4 }, log);
    const ref = reference();
    try {
      await assert.rejects(resilient.createPayment({ idempotencyKey: ref, reference: ref, amountMinor: 100n, currency: 'GBP', playerId: 'p1', paymentMethod: DEBIT_FRICTIONLESS }), (err: Error & { code?: string }) => err.code === 'psp-outcome-unknown');
    } finally {
      server.configure({ timeoutPercent: 0 });
    }
    assert.equal([...server.store.payments.values()].filter((p) => p.reference === ref).length, 1, 'sent once: a timed-out write is not retried');
    assert.equal((await resilient.findPaymentByReference(ref))?.status, 'succeeded');
  });

  it('when the control gets a bad value, then it is refused and nothing changes', async () => {
    const res = await fetch(`${server.url}/sandbox/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failurePercent: 150 }) });
    assert.equal(res.status, 400);
    assert.equal(server.control.failurePercent, 0);
  });

  it('when the sandbox restarts on the same folder, then it still knows its payments and payouts', async () => {
    const ref = reference();
    const session = await pay(ref, DEBIT_FRICTIONLESS);
    const second = await sandbox(dir);
    try {
      const reopened = new SandboxPsp({ baseUrl: () => second.url, apiKey: API_KEY, webhookSecret: SECRET, notifyUrl: () => undefined });
      assert.equal((await reopened.findPaymentByReference(ref))?.pspPaymentId, session.pspPaymentId);
    } finally {
      await second.stop();
    }
  });
});
