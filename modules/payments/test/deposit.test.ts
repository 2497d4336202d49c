/**
 * Card deposits over HTTP, on real PostgreSQL, with the sandbox PSP running: 3-D Secure, webhooks,
 * credit cards, retries of the same command, PSP timeouts and PSP outages.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  CREDIT_CHALLENGE, DEBIT_CHALLENGE, DEBIT_FRICTIONLESS, DECLINED, completeChallenge, deliveries, deposit, depositRow, newPlayer, sandboxControl,
  startPspPlatform, waitForDeposit, wallet, type PspPlatform,
} from './support/psp.ts';

describe('deposits', () => {
  let p: PspPlatform;
  before(async () => {
    p = await startPspPlatform();
  });
  after(() => p?.platform.stop());

  it('when a player deposits with a debit card and completes 3-D Secure, then the webhook credits the wallet once', async () => {
    const player = await newPlayer(p.platform);
    const res = await deposit(p.platform, player.accessToken, { amountMinor: '2500', paymentMethod: DEBIT_CHALLENGE });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'requires_action');
    assert.match(res.body.actionUrl, /\/sandbox\/3ds\/pay_/);
    assert.equal(await wallet(p.platform, player.playerId), 0n, 'nothing credited before the payment succeeds');

    const payment = await completeChallenge(res.body.actionUrl);
    assert.equal(payment.status, 'succeeded');
    await waitForDeposit(p.platform, res.body.depositId, (d) => d.status === 'succeeded', 'the deposit to succeed');
    assert.equal(await wallet(p.platform, player.playerId), 2500n);

    const view = await p.platform.http.get(`/v1/wallet/deposits/${res.body.depositId}`, player.accessToken);
    assert.equal(view.status, 200);
    assert.equal(view.body.status, 'succeeded');
    assert.equal(view.body.fundingType, 'debit');
    assert.equal(view.body.actionUrl, undefined);
    // Both webhooks (requires_action, succeeded) were acknowledged; the money moved once.
    await waitFor(async () => (await deliveries(p.sandboxUrl, payment.id)).every((d) => d.acknowledged >= 1) || undefined, { what: 'webhooks acknowledged' });
    assert.equal(await wallet(p.platform, player.playerId), 2500n);
  });

  it('when a card needs no challenge, then the deposit succeeds in the answer itself', async () => {
    const player = await newPlayer(p.platform);
    const res = await deposit(p.platform, player.accessToken, { amountMinor: '1000', paymentMethod: DEBIT_FRICTIONLESS });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'succeeded');
    assert.equal(await wallet(p.platform, player.playerId), 1000n);
  });

  it('when the same deposit is retried with the same Idempotency-Key, then one payment is taken; another body under that key is a 422', async () => {
    const player = await newPlayer(p.platform);
    const key = randomUUID();
    const first = await deposit(p.platform, player.accessToken, { amountMinor: '700', paymentMethod: DEBIT_FRICTIONLESS }, key);
    const again = await deposit(p.platform, player.accessToken, { amountMinor: '700', paymentMethod: DEBIT_FRICTIONLESS }, key);
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.depositId, first.body.depositId);
    assert.equal(await wallet(p.platform, player.playerId), 700n);
    const other = await deposit(p.platform, player.accessToken, { amountMinor: '701', paymentMethod: DEBIT_FRICTIONLESS }, key);
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'idempotency-key-reused');
    const missing = await p.platform.http.post('/v1/wallet/deposits', { amountMinor: '700' }, player.accessToken);
    assert.equal(missing.status, 400);
  });

  it('when the card is a credit card, then the deposit is refused, nothing is credited and the payment is refunded', async () => {
    const player = await newPlayer(p.platform);
    const res = await deposit(p.platform, player.accessToken, { amountMinor: '3000', paymentMethod: CREDIT_CHALLENGE });
    assert.equal(res.status, 201);
    await completeChallenge(res.body.actionUrl);
    const row = await waitForDeposit(p.platform, res.body.depositId, (d) => d.refund_status === 'succeeded', 'the refund of the refused deposit', 20_000);
    assert.equal(row.status, 'refused_credit_card');
    assert.equal(row.failure_reason, 'credit-card');
    assert.equal(await wallet(p.platform, player.playerId), 0n);
    const view = await p.platform.http.get(`/v1/wallet/deposits/${res.body.depositId}`, player.accessToken);
    assert.equal(view.body.status, 'refused_credit_card');
    assert.equal(view.body.refundStatus, 'succeeded');
  });

  it('when the issuer declines or the challenge fails, then the deposit fails and nothing is credited', async () => {
    const player = await newPlayer(p.platform);
    const declined = await deposit(p.platform, player.accessToken, { amountMinor: '500', paymentMethod: DECLINED });
    assert.equal(declined.body.status, 'failed');
    assert.equal(declined.body.failureReason, 'card_declined');
    const challenged = await deposit(p.platform, player.accessToken, { amountMinor: '500', paymentMethod: DEBIT_CHALLENGE });
    await completeChallenge(challenged.body.actionUrl, 'fail');
    await waitForDeposit(p.platform, challenged.body.depositId, (d) => d.status === 'failed', 'the deposit to fail');
    assert.equal(await wallet(p.platform, player.playerId), 0n);
  });

  it('when another player asks for a deposit, then it does not exist for them', async () => {
    const owner = await newPlayer(p.platform);
    const other = await newPlayer(p.platform);
    const res = await deposit(p.platform, owner.accessToken, { amountMinor: '500', paymentMethod: DEBIT_CHALLENGE });
    const peek = await p.platform.http.get(`/v1/wallet/deposits/${res.body.depositId}`, other.accessToken);
    assert.equal(peek.status, 404);
  });

  it('when the API is described, then the deposit, limit and webhook operations are in the OpenAPI document', async () => {
    const doc = await p.platform.http.get('/openapi.json');
    const ids = Object.values(doc.body.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    for (const id of ['createDeposit', 'getDeposit', 'handlePspWebhook', 'setDepositLimits', 'getDepositLimits']) assert.ok(ids.includes(id), `${id} documented`);
    assert.ok(doc.body.paths['/v1/wallet/deposits'].post.parameters.some((param: { name: string; in: string; required?: boolean }) => param.name === 'idempotency-key' && param.in === 'header' && param.required));
  });

  it('when the PSP takes the payment but never answers, then the deposit is unknown and the status job settles it', async () => {
    const player = await newPlayer(p.platform);
    await sandboxControl(p.sandboxUrl, { timeoutPercent: 100, webhooksEnabled: false });
    let res;
    try {
      res = await deposit(p.platform, player.accessToken, { amountMinor: '1200', paymentMethod: DEBIT_FRICTIONLESS });
    } finally {
      await sandboxControl(p.sandboxUrl, { timeoutPercent: 0 });
    }
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'unknown');
    assert.equal(await wallet(p.platform, player.playerId), 0n);
    // No webhook comes (deliveries paused): the status query finds the payment by our reference.
    await waitForDeposit(p.platform, res.body.depositId, (d) => d.status === 'succeeded', 'the status job to settle the deposit', 20_000);
    assert.equal(await wallet(p.platform, player.playerId), 1200n);
    // The webhook arriving late changes nothing.
    await sandboxControl(p.sandboxUrl, { webhooksEnabled: true });
    const { psp_payment_id } = await depositRow(p.platform, res.body.depositId);
    await waitFor(async () => (await deliveries(p.sandboxUrl, psp_payment_id!)).some((d) => d.acknowledged >= 1) || undefined, { what: 'the late webhook' });
    assert.equal(await wallet(p.platform, player.playerId), 1200n);
  });
});

describe('deposits during a PSP outage', () => {
  let p: PspPlatform;
  before(async () => {
    p = await startPspPlatform({ PSP_BREAKER_HALF_OPEN_MS: '1500' });
  });
  after(() => p?.platform.stop());

  it('when the PSP fails every call, then the breaker opens, deposits fail fast with psp-unavailable, and they work again after recovery', async () => {
    const player = await newPlayer(p.platform);
    await sandboxControl(p.sandboxUrl, { failurePercent: 100 });
    // Failing calls (each retried once with the same key) open the breaker after 3 consecutive failures.
    const failing = [];
    for (let i = 0; i < 2; i++) failing.push(await deposit(p.platform, player.accessToken, { amountMinor: '100', paymentMethod: DEBIT_FRICTIONLESS }));
    for (const f of failing) assert.ok([201, 503].includes(f.status), JSON.stringify(f.body));

    const started = performance.now();
    const refused = await deposit(p.platform, player.accessToken, { amountMinor: '100', paymentMethod: DEBIT_FRICTIONLESS });
    const elapsedMs = performance.now() - started;
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'psp-unavailable');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'a Retry-After header');
    assert.ok(elapsedMs < 300, `refused fast (took ${Math.round(elapsedMs)} ms)`);

    await sandboxControl(p.sandboxUrl, { failurePercent: 0 });
    // After the half-open delay a trial call passes and closes the breaker.
    const recovered = await waitFor(async () => {
      const r = await deposit(p.platform, player.accessToken, { amountMinor: '100', paymentMethod: DEBIT_FRICTIONLESS });
      return r.status === 201 ? r : undefined;
    }, { timeoutMs: 10_000, intervalMs: 300, what: 'deposits to work again' });
    assert.equal(recovered.body.status, 'succeeded');
    assert.equal(await wallet(p.platform, player.playerId), 100n);
  });
});
