/**
 * KYC vendor webhooks over HTTP: the signature over the raw body, dedupe by event id, duplicate and
 * out-of-order deliveries from the sandbox vendor, and why a webhook cannot decide anything on its
 * own (the result is always fetched from the vendor).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  application, checkEvent, currentVendorCheckId, deliveries, newPlayer, postWebhook, sandboxControl, sign, startKyc, startKycPlatform, verificationEvents,
  waitForStatus, type KycPlatform,
} from './support/kyc.ts';

describe('KYC webhooks', () => {
  let k: KycPlatform;
  before(async () => {
    k = await startKycPlatform();
  });
  after(() => k?.platform.stop());

  /** A player whose sandbox check never finishes: nothing but our test touches it. */
  async function pendingCheck() {
    const player = await newPlayer(k.platform, 'Timeout');
    await startKyc(k.platform, player.accessToken);
    return { player, vendorCheckId: await currentVendorCheckId(k.platform, player.playerId) };
  }

  const eventRows = (vendorCheckId: string) => k.platform.db.query<{ event_id: string; outcome: string }>('select event_id, outcome from kyc.webhook_events where vendor_check_id = $1 order by received_at', [vendorCheckId]);

  it('when the signature is wrong or missing, then the webhook is refused with a 400 problem and nothing is recorded', async () => {
    const { vendorCheckId } = await pendingCheck();
    const eventId = `evt_forged_${Date.now()}`;
    const body = checkEvent(vendorCheckId, 'check.completed', eventId);
    const forged = await postWebhook(k.platform, body, sign(body, 'not-the-secret-at-all'));
    assert.equal(forged.status, 400);
    assert.equal(forged.body.code, 'webhook-signature-invalid');
    assert.equal((await postWebhook(k.platform, body, null)).status, 400);
    // The body re-serialised (other bytes, same JSON) does not carry the signature of the original.
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    assert.equal((await postWebhook(k.platform, reformatted, sign(body))).status, 400);
    assert.deepEqual((await eventRows(vendorCheckId)).filter((r) => r.event_id === eventId), []);
  });

  it('when a validly signed webhook claims a check completed that the vendor still runs, then nothing changes', async () => {
    const { player, vendorCheckId } = await pendingCheck();
    const res = await postWebhook(k.platform, checkEvent(vendorCheckId));
    assert.equal(res.status, 200);
    assert.equal(res.body.outcome, 'unchanged');
    assert.equal((await application(k.platform, player.playerId)).status, 'pending');
  });

  it('when the same signed event arrives again, or five times at once, then it is handled once', async () => {
    const { vendorCheckId } = await pendingCheck();
    const eventId = `evt_test_${Date.now()}`;
    const body = checkEvent(vendorCheckId, 'check.started', eventId);
    const answers = await Promise.all(Array.from({ length: 5 }, () => postWebhook(k.platform, body)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    assert.deepEqual(answers.map((a) => a.body.outcome).sort(), ['duplicate', 'duplicate', 'duplicate', 'duplicate', 'unchanged']);
    assert.equal((await postWebhook(k.platform, body)).body.outcome, 'duplicate');
    // The sandbox's own started event may land too; ours is recorded once.
    assert.equal((await eventRows(vendorCheckId)).filter((r) => r.event_id === eventId).length, 1);
  });

  it('when the sandbox delivers every webhook twice, then the check is applied once', async () => {
    await sandboxControl(k.sandboxUrl, { duplicatePercent: 100 });
    try {
      const player = await newPlayer(k.platform, 'Approve');
      await startKyc(k.platform, player.accessToken);
      await waitForStatus(k.platform, player.accessToken, 'approved');
      const vendorCheckId = await currentVendorCheckId(k.platform, player.playerId);
      await waitFor(async () => {
        const records = await deliveries(k.sandboxUrl, vendorCheckId);
        return records.length === 2 && records.every((r) => r.copies === 2 && r.acknowledged === 2) ? records : undefined;
      }, { what: 'both copies of both webhooks acknowledged' });
      const rows = await eventRows(vendorCheckId);
      assert.equal(rows.length, 2, 'one dedupe row per event id');
      assert.deepEqual((await verificationEvents(k.platform, player.playerId)).map((e) => e.status), ['pending', 'approved']);
    } finally {
      await sandboxControl(k.sandboxUrl, { duplicatePercent: 0 });
    }
  });

  it('when webhooks arrive newest first, then the late "started" does not move a decided check back', async () => {
    await sandboxControl(k.sandboxUrl, { outOfOrder: true });
    try {
      const player = await newPlayer(k.platform, 'Reject');
      await startKyc(k.platform, player.accessToken);
      const vendorCheckId = await currentVendorCheckId(k.platform, player.playerId);
      await waitFor(async () => ((await eventRows(vendorCheckId)).length === 2) || undefined, { what: 'both webhooks handled' });
      const records = await deliveries(k.sandboxUrl, vendorCheckId);
      assert.deepEqual(records.map((r) => r.type), ['check.completed', 'check.started'], 'newest first');
      // Both were sent after the check ended: the first handled applies the result (unless the poll
      // job did already), the other finds it settled. Never two transitions.
      const outcomes = (await eventRows(vendorCheckId)).map((r) => r.outcome).sort();
      assert.ok(['applied,unchanged', 'unchanged,unchanged'].includes(outcomes.join(',')), outcomes.join(','));
      await waitForStatus(k.platform, player.accessToken, 'rejected_final');
      assert.deepEqual((await verificationEvents(k.platform, player.playerId)).map((e) => e.status), ['pending', 'rejected_final']);
    } finally {
      await sandboxControl(k.sandboxUrl, { outOfOrder: false });
    }
  });

  it('when a webhook names a check we do not know (yet), then it is a 409 so the vendor delivers it again', async () => {
    const res = await postWebhook(k.platform, checkEvent('sbx_chk_unknown0000000000'));
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'kyc-check-unknown');
    assert.deepEqual(await eventRows('sbx_chk_unknown0000000000'), []);
  });

  it('when webhooks are paused and resumed after the check ended, then the late delivery finds it already settled by the poll', async () => {
    await sandboxControl(k.sandboxUrl, { webhooksEnabled: false });
    let player: Awaited<ReturnType<typeof newPlayer>>;
    try {
      player = await newPlayer(k.platform, 'Approve');
      await startKyc(k.platform, player.accessToken);
      // No webhook: the poll job (KYC_CHECK_POLL_S=1) asks the vendor and applies the result.
      await waitForStatus(k.platform, player.accessToken, 'approved');
    } finally {
      await sandboxControl(k.sandboxUrl, { webhooksEnabled: true });
    }
    const vendorCheckId = await currentVendorCheckId(k.platform, player.playerId);
    await waitFor(async () => ((await eventRows(vendorCheckId)).length === 2) || undefined, { what: 'the held webhooks delivered' });
    assert.deepEqual((await eventRows(vendorCheckId)).map((r) => r.outcome), ['unchanged', 'unchanged']);
    assert.deepEqual((await verificationEvents(k.platform, player.playerId)).map((e) => e.status), ['pending', 'approved']);
  });

  it('when a webhook is for another provider or too large, then it is a problem', async () => {
    const other = await k.platform.http.request('POST', '/v1/kyc/webhooks/onfido', { rawBody: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(other.status, 404);
    const big = await postWebhook(k.platform, JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'payload-too-large');
  });
});
