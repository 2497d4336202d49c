/**
 * PSP webhooks over HTTP: signature and timestamp on the raw body, dedupe by event id, out-of-order
 * deliveries, and events for objects we do not know. Each case checks that nothing changed, or that
 * the change happened exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  DEBIT_CHALLENGE, WEBHOOK_PATH, completeChallenge, deliveries, deposit, depositRow, newPlayer, paymentEvent, postWebhook, sandboxControl, signedWebhook,
  startPspPlatform, waitForDeposit, wallet, webhookEventCount, type PspPlatform,
} from './support/psp.ts';

describe('PSP webhooks', () => {
  let p: PspPlatform;
  before(async () => {
    p = await startPspPlatform();
  });
  after(() => p?.platform.stop());

  /** A deposit waiting for its challenge, with the webhooks of the sandbox paused (the test sends its own). */
  async function waitingDeposit(amountMinor = '1500') {
    const player = await newPlayer(p.platform);
    const res = await deposit(p.platform, player.accessToken, { amountMinor, paymentMethod: DEBIT_CHALLENGE });
    assert.equal(res.body.status, 'requires_action');
    const { psp_payment_id } = await depositRow(p.platform, res.body.depositId);
    return { player, depositId: res.body.depositId as string, pspPaymentId: psp_payment_id!, amountMinor };
  }

  const succeededEvent = (d: { depositId: string; pspPaymentId: string; amountMinor: string }, eventId?: string) =>
    paymentEvent('payment.succeeded', { id: d.pspPaymentId, reference: d.depositId, amountMinor: d.amountMinor, status: 'succeeded' }, eventId ? { eventId } : {});

  it('when the sandbox delivers every webhook twice, then each is applied once and the wallet is credited once', async () => {
    await sandboxControl(p.sandboxUrl, { duplicatePercent: 100 });
    try {
      const d = await waitingDeposit();
      await completeChallenge((await p.platform.http.get(`/v1/wallet/deposits/${d.depositId}`, d.player.accessToken)).body.actionUrl);
      const acknowledgedTwice = async () => {
        const records = await deliveries(p.sandboxUrl, d.pspPaymentId);
        return records.length === 2 && records.every((r) => r.copies === 2 && r.acknowledged === 2) ? records : undefined;
      };
      await waitFor(acknowledgedTwice, { what: 'both copies of both webhooks acknowledged' });
      assert.equal((await depositRow(p.platform, d.depositId)).status, 'succeeded');
      assert.equal(await wallet(p.platform, d.player.playerId), 1500n);
      assert.equal(await webhookEventCount(p.platform, d.depositId), 2, 'one dedupe row per event id');
    } finally {
      await sandboxControl(p.sandboxUrl, { duplicatePercent: 0 });
    }
  });

  it('when the same signed event arrives again, or five times at once, then it is applied once', async () => {
    const d = await waitingDeposit();
    await sandboxControl(p.sandboxUrl, { webhooksEnabled: false });
    try {
      const hook = signedWebhook(succeededEvent(d));
      const answers = await Promise.all(Array.from({ length: 5 }, () => postWebhook(p.platform, hook)));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
      assert.deepEqual(answers.map((a) => a.body.outcome).sort(), ['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
      const later = await postWebhook(p.platform, hook);
      assert.equal(later.body.outcome, 'duplicate');
      assert.equal(await wallet(p.platform, d.player.playerId), 1500n);
    } finally {
      await sandboxControl(p.sandboxUrl, { webhooksEnabled: true });
    }
  });

  it('when events arrive out of order, then a late requires_action or failed does not move a succeeded deposit back', async () => {
    await sandboxControl(p.sandboxUrl, { outOfOrder: true });
    try {
      const d = await waitingDeposit('900');
      await completeChallenge((await p.platform.http.get(`/v1/wallet/deposits/${d.depositId}`, d.player.accessToken)).body.actionUrl);
      // The sandbox held requires_action until the payment settled, then sent succeeded first.
      await waitFor(async () => ((await deliveries(p.sandboxUrl, d.pspPaymentId)).filter((r) => r.acknowledged > 0).length === 2) || undefined, { what: 'both webhooks delivered' });
      const outcomes = await p.platform.db.query<{ event_type: string; outcome: string }>('select event_type, outcome from payments.psp_webhook_events where reference = $1 order by received_at', [d.depositId]);
      assert.deepEqual(outcomes.map((o) => o.event_type), ['payment.succeeded', 'payment.requires_action']);
      assert.equal(outcomes[1]!.outcome, 'ignored');
    } finally {
      await sandboxControl(p.sandboxUrl, { outOfOrder: false });
    }
    const d = await waitingDeposit('800');
    await sandboxControl(p.sandboxUrl, { webhooksEnabled: false });
    try {
      assert.equal((await postWebhook(p.platform, signedWebhook(succeededEvent(d)))).body.outcome, 'applied');
      const lateFailure = paymentEvent('payment.failed', { id: d.pspPaymentId, reference: d.depositId, amountMinor: d.amountMinor, status: 'failed' }, { at: new Date(Date.now() - 60_000) });
      assert.equal((await postWebhook(p.platform, signedWebhook(lateFailure))).body.outcome, 'ignored');
      assert.equal((await depositRow(p.platform, d.depositId)).status, 'succeeded');
      assert.equal(await wallet(p.platform, d.player.playerId), 800n);
    } finally {
      await sandboxControl(p.sandboxUrl, { webhooksEnabled: true });
    }
  });

  it('when the signature is wrong, or the body was changed after signing, then it is a 400 and nothing changes', async () => {
    const d = await waitingDeposit();
    const forged = signedWebhook(succeededEvent(d), { secret: 'whsec_not_the_right_secret_at_all' });
    const bad = await postWebhook(p.platform, forged);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'webhook-signature-invalid');
    assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);

    const genuine = signedWebhook(succeededEvent(d));
    const tampered = { rawBody: genuine.rawBody.replace('"1500"', '"9999"'), headers: genuine.headers };
    assert.equal((await postWebhook(p.platform, tampered)).status, 400);
    const unsigned = await p.platform.http.request('POST', WEBHOOK_PATH, { rawBody: genuine.rawBody });
    assert.equal(unsigned.status, 400);

    assert.equal((await depositRow(p.platform, d.depositId)).status, 'requires_action');
    assert.equal(await webhookEventCount(p.platform, d.depositId, 'payment.succeeded'), 0, 'no event recorded');
    assert.equal(await wallet(p.platform, d.player.playerId), 0n);
  });

  it('when the signed timestamp is older than five minutes, then it is a 400 and nothing changes', async () => {
    const d = await waitingDeposit();
    const stale = await postWebhook(p.platform, signedWebhook(succeededEvent(d), { ageS: 6 * 60 }));
    assert.equal(stale.status, 400);
    assert.equal(stale.body.code, 'webhook-timestamp-stale');
    assert.equal((await depositRow(p.platform, d.depositId)).status, 'requires_action');
    assert.equal(await webhookEventCount(p.platform, d.depositId, 'payment.succeeded'), 0);
    // Within the tolerance it is accepted.
    const fresh = await postWebhook(p.platform, signedWebhook(succeededEvent(d), { ageS: 4 * 60 }));
    assert.equal(fresh.body.outcome, 'applied');
    await waitForDeposit(p.platform, d.depositId, (r) => r.status === 'succeeded', 'the deposit to succeed');
  });

  it('when an event names a payment we do not know, then it is acknowledged, recorded and ignored', async () => {
    const event = paymentEvent('payment.succeeded', { id: 'pay_nobody', reference: '01900000-0000-7000-8000-000000000000', amountMinor: '100', status: 'succeeded' });
    const hook = signedWebhook(event);
    // Whatever the media type (or none), the signed bytes are what count.
    const res = await fetch(p.platform.url + WEBHOOK_PATH, { method: 'POST', body: Buffer.from(hook.rawBody), headers: { 'verity-sandbox-signature': hook.headers['verity-sandbox-signature']! } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { outcome: string }).outcome, 'unknown-reference');
    const again = await postWebhook(p.platform, { rawBody: hook.rawBody, headers: { ...hook.headers, 'content-type': 'text/plain; charset=utf-8' } });
    assert.equal(again.body.outcome, 'duplicate');
    assert.equal(await webhookEventCount(p.platform, '01900000-0000-7000-8000-000000000000'), 1);
  });

  it('when the provider is unknown or the body is too large, then it is refused', async () => {
    const hook = signedWebhook({ id: 'evt_x', type: 'payment.succeeded' });
    assert.equal((await p.platform.http.request('POST', '/v1/payments/webhooks/acme', { rawBody: hook.rawBody, headers: hook.headers })).status, 404);
    const huge = signedWebhook({ id: 'evt_big', pad: 'x'.repeat(300 * 1024) });
    assert.equal((await postWebhook(p.platform, huge)).status, 413);
  });
});
