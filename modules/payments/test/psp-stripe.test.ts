/**
 * The Stripe adapter on the official library, against a local fake of Stripe's HTTP API (no
 * network): what it sends (idempotency key, metadata.reference, confirm, expand), how it maps
 * PaymentIntents (3-D Secure, funding, declines, failures, the card's holder name and fingerprint),
 * and webhook verification with
 * signatures made by the library's own `generateTestHeaderString`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { createLogger } from '@verity/kernel';
import { createResilientPsp } from '../src/psp/resilient.ts';
import { StripePsp } from '../src/psp/stripe.ts';

const WEBHOOK_SECRET = 'whsec_test_stripe_fake';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

function paymentIntent(overrides: Record<string, unknown> = {}) {
  return {
    id: 'pi_test_1', object: 'payment_intent', amount: 1000, currency: 'gbp', status: 'requires_action',
    metadata: { reference: '01900000-0000-7000-8000-00000000000a', player_id: 'p1' },
    next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://hooks.stripe.test/3ds/pi_test_1', return_url: 'https://verity.test/back' } },
    payment_method: { id: 'pm_1', object: 'payment_method', type: 'card', card: { brand: 'visa', funding: 'debit', last4: '0002' } },
    latest_charge: null, last_payment_error: null, cancellation_reason: null, created: 1_700_000_000,
    ...overrides,
  };
}

/** A PaymentMethod whose billing details the player's browser filled in (Stripe.js). */
const namedMethod = {
  id: 'pm_named', object: 'payment_method', type: 'card', billing_details: { name: '  MRS A  LOVELACE ', email: null },
  card: { brand: 'visa', funding: 'debit', last4: '0036', fingerprint: 'Xt5EWLLDS7FJjR1c' },
};

/** Stripe's API, as far as these tests need it. */
async function fakeStripe() {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stripe');
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      seen.push({ method: req.method!, path: url.pathname, query: url.searchParams, form, headers: req.headers });
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake' }).end(JSON.stringify(body));
      if (req.method === 'POST' && url.pathname === '/v1/payment_intents') {
        const amount = form.get('amount');
        if (amount === '500') return send(500, { error: { type: 'api_error', message: 'Stripe is having a bad day' } });
        if (amount === '1500') return send(200, paymentIntent({ amount: 1500, status: 'succeeded', next_action: null, payment_method: namedMethod }));
        if (amount === '402') {
          return send(402, { error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.', payment_intent: paymentIntent({ status: 'requires_payment_method', next_action: null, last_payment_error: { code: 'card_declined' } }) } });
        }
        return send(200, paymentIntent({ amount: Number(amount), metadata: { reference: form.get('metadata[reference]'), player_id: form.get('metadata[player_id]') } }));
      }
      if (req.method === 'GET' && url.pathname === '/v1/payment_intents/search') {
        const found = url.searchParams.get('query')?.includes('01900000-0000-7000-8000-00000000000a');
        return send(200, { object: 'search_result', data: found ? [paymentIntent({ status: 'succeeded', next_action: null })] : [], has_more: false, next_page: null, url: '/v1/payment_intents/search' });
      }
      if (req.method === 'GET' && url.pathname === '/v1/payment_intents/pi_named') {
        return send(200, paymentIntent({ id: 'pi_named', status: 'succeeded', next_action: null, payment_method: namedMethod }));
      }
      if (req.method === 'GET' && url.pathname === '/v1/payment_intents/pi_test_1') {
        return send(200, paymentIntent({ status: 'succeeded', next_action: null, payment_method: 'pm_1', latest_charge: { id: 'ch_1', object: 'charge', payment_method_details: { type: 'card', card: { funding: 'credit' } } } }));
      }
      if (req.method === 'POST' && url.pathname === '/v1/transfers') {
        return send(200, { id: 'tr_1', object: 'transfer', amount: Number(form.get('amount')), currency: form.get('currency'), destination: form.get('destination'), transfer_group: form.get('transfer_group'), reversed: false, metadata: {} });
      }
      if (req.method === 'POST' && url.pathname === '/v1/refunds') {
        return send(200, { id: 're_1', object: 'refund', amount: Number(form.get('amount')), currency: 'gbp', status: 'succeeded', payment_intent: form.get('payment_intent'), metadata: {} });
      }
      return send(404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such object' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

describe('Stripe adapter', () => {
  let stripe: Awaited<ReturnType<typeof fakeStripe>>;
  let psp: StripePsp;
  before(async () => {
    stripe = await fakeStripe();
    psp = new StripePsp({ secretKey: 'sk_test_fake', webhookSecret: WEBHOOK_SECRET, apiBase: stripe.url, timeoutMs: 2_000 });
  });
  after(() => stripe?.close());

  const reference = '01900000-0000-7000-8000-00000000000a';
  const create = (amountMinor: bigint, key = `dep-${amountMinor}-key`) =>
    psp.createPayment({ idempotencyKey: key, reference, amountMinor, currency: 'GBP', playerId: 'p1', paymentMethod: 'pm_card_visa_debit', returnUrl: 'https://verity.test/back' });

  it('when a payment is created, then a confirmed PaymentIntent is sent with our idempotency key and reference, and 3-D Secure comes back', async () => {
    const session = await create(1000n, 'dep-idem-0001');
    assert.deepEqual(session, { pspPaymentId: 'pi_test_1', status: 'requires_action', actionUrl: 'https://hooks.stripe.test/3ds/pi_test_1', fundingType: 'debit' });
    const request = stripe.seen.at(-1)!;
    assert.equal(request.headers['idempotency-key'], 'dep-idem-0001');
    assert.equal(request.headers.authorization, 'Bearer sk_test_fake');
    assert.equal(request.form.get('amount'), '1000');
    assert.equal(request.form.get('currency'), 'gbp');
    assert.equal(request.form.get('confirm'), 'true');
    assert.equal(request.form.get('metadata[reference]'), reference);
    assert.equal(request.form.get('return_url'), 'https://verity.test/back');
    assert.deepEqual([request.form.get('expand[0]'), request.form.get('expand[1]')], ['payment_method', 'latest_charge']);
  });

  it('when the card is declined, then the session has failed with the reason (a decline is an answer, not an error)', async () => {
    const session = await create(402n);
    assert.equal(session.status, 'failed');
    assert.equal(session.failureReason, 'insufficient_funds');
  });

  it('when a payment succeeds, then the holder name of its PaymentMethod and the card fingerprint come back (not while it waits for 3-D Secure)', async () => {
    const session = await create(1500n, 'dep-named-0001');
    assert.equal(session.status, 'succeeded');
    assert.equal(session.holderName, 'MRS A  LOVELACE');
    assert.equal(session.methodRef, 'Xt5EWLLDS7FJjR1c');
    const challenged = await create(1000n, 'dep-named-0002');
    assert.equal(challenged.status, 'requires_action');
    assert.equal(challenged.holderName, undefined);
    // A status query expands the PaymentMethod: what deposits use when a webhook left the name out.
    const queried = await psp.getPayment('pi_named');
    assert.deepEqual([queried.holderName, queried.methodRef], ['MRS A  LOVELACE', 'Xt5EWLLDS7FJjR1c']);
    assert.equal(stripe.seen.at(-1)!.query.get('expand[0]'), 'payment_method');
  });

  it('when Stripe answers 500, then the call is retried with the same key and its outcome is unknown', async () => {
    const before = stripe.seen.length;
    const wrapped = createResilientPsp(psp, { timeoutMs: 2_000, retryMax: 1, retryInitialDelayMs: 5, retryMaxDelayMs: 10, breakerFailures: 10, breakerHalfOpenMs: 1_000, bulkheadMax: 2, bulkheadQueue: 2 }, createLogger('silent'));
    await assert.rejects(
      wrapped.createPayment({ idempotencyKey: 'dep-500-key-1', reference, amountMinor: 500n, currency: 'GBP', playerId: 'p1' }),
      (err: Error & { code?: string }) => err.code === 'psp-outcome-unknown',
    );
    const attempts = stripe.seen.slice(before);
    assert.equal(attempts.length, 2);
    assert.deepEqual(attempts.map((a) => a.headers['idempotency-key']), ['dep-500-key-1', 'dep-500-key-1']);
  });

  it('when a payment is looked up, then its status, funding (from the charge) and our reference come back', async () => {
    const found = await psp.findPaymentByReference(reference);
    assert.equal(found?.status, 'succeeded');
    assert.equal(found?.reference, reference);
    assert.equal(found?.amountMinor, 1000n);
    assert.match(stripe.seen.at(-1)!.query.get('query') ?? '', /metadata\['reference'\]:'01900000-0000-7000-8000-00000000000a'/);
    assert.equal(await psp.findPaymentByReference('01900000-0000-7000-8000-0000000000ff'), undefined);
    const status = await psp.getPayment('pi_test_1');
    assert.equal(status.fundingType, 'credit');
    assert.equal(status.currency, 'GBP');
    await assert.rejects(psp.getPayment('pi_missing'), (err: Error & { kind?: string }) => err.kind === 'not-found');
  });

  it('when a payout or refund is made, then a Transfer to the connected account or a Refund is created with our key', async () => {
    const payout = await psp.createPayout({ idempotencyKey: 'wd-000000001', reference: 'wd-1', amountMinor: 700n, currency: 'GBP', playerId: 'p1', destination: 'acct_123' });
    assert.deepEqual(payout, { pspPayoutId: 'tr_1', status: 'paid' });
    assert.equal(stripe.seen.at(-1)!.form.get('transfer_group'), 'wd-1');
    assert.equal(stripe.seen.at(-1)!.headers['idempotency-key'], 'wd-000000001');
    const refund = await psp.refundPayment({ idempotencyKey: 'rf-000000001', pspPaymentId: 'pi_test_1', amountMinor: 300n, reason: 'credit-card-refused', reference });
    assert.deepEqual(refund, { pspRefundId: 're_1', status: 'succeeded' });
    assert.equal(stripe.seen.at(-1)!.form.get('metadata[reference]'), reference);
  });

  describe('webhooks', () => {
    const signer = new Stripe('sk_test_fake');
    const event = (type: string, object: unknown) => JSON.stringify({ id: 'evt_1', object: 'event', type, created: 1_700_000_100, api_version: '2025-01-01', data: { object } });
    const header = (payload: string, timestamp = Math.floor(Date.now() / 1000)) => signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp });

    it('when a signed payment_intent.succeeded arrives, then it becomes payment.succeeded with our reference and amount', () => {
      const payload = event('payment_intent.succeeded', paymentIntent({ status: 'succeeded', next_action: null }));
      const parsed = psp.parseWebhook(Buffer.from(payload), { 'stripe-signature': header(payload) });
      assert.equal(parsed?.type, 'payment.succeeded');
      assert.equal(parsed?.eventId, 'evt_1');
      assert.equal(parsed?.reference, reference);
      assert.equal(parsed?.amountMinor, 1000n);
      assert.equal(parsed?.currency, 'GBP');
      assert.equal(parsed?.fundingType, 'debit');
      assert.equal(parsed?.occurredAt.getTime(), 1_700_000_100_000);
    });

    it('when payment_intent.succeeded carries the PaymentMethod expanded, then the holder name and fingerprint come with it; unexpanded (as Stripe sends it), neither does', () => {
      const expanded = event('payment_intent.succeeded', paymentIntent({ status: 'succeeded', next_action: null, payment_method: namedMethod }));
      const named = psp.parseWebhook(Buffer.from(expanded), { 'stripe-signature': header(expanded) });
      assert.deepEqual([named?.holderName, named?.methodRef], ['MRS A  LOVELACE', 'Xt5EWLLDS7FJjR1c']);
      const bare = event('payment_intent.succeeded', paymentIntent({ status: 'succeeded', next_action: null, payment_method: 'pm_named' }));
      const unnamed = psp.parseWebhook(Buffer.from(bare), { 'stripe-signature': header(bare) });
      assert.equal(unnamed?.type, 'payment.succeeded');
      assert.deepEqual([unnamed?.holderName, unnamed?.methodRef], [undefined, undefined]);
      // So deposits ask for the payment (expanded) to learn the name.
      assert.equal(psp.paymentEventsLackHolderName, true);
    });

    it('when the body was changed or the signature is from another secret, then it is webhook-signature-invalid', () => {
      const payload = event('payment_intent.succeeded', paymentIntent());
      const signature = header(payload);
      assert.throws(() => psp.parseWebhook(Buffer.from(payload.replace('1000', '9000')), { 'stripe-signature': signature }), (err: Error & { code?: string }) => err.code === 'webhook-signature-invalid');
      const other = signer.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' });
      assert.throws(() => psp.parseWebhook(Buffer.from(payload), { 'stripe-signature': other }), (err: Error & { code?: string }) => err.code === 'webhook-signature-invalid');
      assert.throws(() => psp.parseWebhook(Buffer.from(payload), {}), (err: Error & { code?: string }) => err.code === 'webhook-signature-invalid');
    });

    it('when the signed timestamp is older than five minutes, then it is webhook-timestamp-stale', () => {
      const payload = event('payment_intent.succeeded', paymentIntent());
      assert.throws(() => psp.parseWebhook(Buffer.from(payload), { 'stripe-signature': header(payload, Math.floor(Date.now() / 1000) - 600) }), (err: Error & { code?: string }) => err.code === 'webhook-timestamp-stale');
    });

    it('when the event is of a type we do not act on, then it is verified and ignored; transfers and refunds map to payouts and refunds', () => {
      const customer = event('customer.created', { id: 'cus_1', object: 'customer' });
      assert.equal(psp.parseWebhook(Buffer.from(customer), { 'stripe-signature': header(customer) }), undefined);
      const transfer = event('transfer.reversed', { id: 'tr_1', object: 'transfer', amount: 700, currency: 'gbp', transfer_group: 'wd-1', reversed: true, metadata: {} });
      assert.equal(psp.parseWebhook(Buffer.from(transfer), { 'stripe-signature': header(transfer) })?.type, 'payout.failed');
      const refund = event('refund.updated', { id: 're_1', object: 'refund', amount: 300, currency: 'gbp', status: 'succeeded', metadata: { reference } });
      const parsed = psp.parseWebhook(Buffer.from(refund), { 'stripe-signature': header(refund) });
      assert.equal(parsed?.type, 'refund.succeeded');
      assert.equal(parsed?.reference, reference);
    });
  });
});
