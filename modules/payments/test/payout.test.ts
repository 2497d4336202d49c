import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openReplayTools, replayDeadLetters } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';
import { playerToken } from '@verity/identity/testing';
import { signPayload } from '../src/psp/signature.ts';
import {
  complianceFixture, fakeIssuer, fundWallet, requestWithdrawal, sandboxControl, sandboxPayouts, startPayoutsPlatform, waitForStatus, walletBalance,
  type PayoutsPlatform,
} from './support/payouts.ts';

const WEBHOOK_SECRET = 'whsec_payout_tests_0123456789';

describe('payouts: PSP timeouts, failures, dead letters and returns', () => {
  let p: PayoutsPlatform;
  let issuer: Awaited<ReturnType<typeof fakeIssuer>>;
  let finance: string;
  const compliance = complianceFixture();

  before(async () => {
    issuer = await fakeIssuer();
    p = await startPayoutsPlatform({
      modules: [compliance.module],
      env: { PSP_TIMEOUT_MS: '400', PSP_SANDBOX_WEBHOOK_SECRET: WEBHOOK_SECRET },
      config: { oidcIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, rolesClaim: 'cognito:groups' }] },
    });
    finance = await issuer.token({ groups: ['finance'] });
  });
  after(async () => {
    await p?.platform.stop();
    await issuer?.close();
  });

  const fundedPlayer = async (amountMinor: bigint, pspPaymentId?: string) => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, amountMinor, pspPaymentId ? { pspPaymentId } : {});
    return player;
  };
  const withdrawal = (id: string) => p.platform.db.one<{ status: string; attempts: number; psp_payout_id: string | null }>('select status, attempts, psp_payout_id from payments.withdrawals where id = $1', [id]);
  const exceptionsFor = async (withdrawalId: string) =>
    (await p.platform.http.get('/v1/finance/exceptions?status=open', finance)).body.items.filter((e: { details: { withdrawalId?: string } }) => e.details.withdrawalId === withdrawalId);

  it('when the PSP does not answer a payout in time, then it is unknown until a status query settles it, and it is never sent again', async () => {
    await sandboxControl(p.sandboxUrl, { timeoutPercent: 100, webhooksEnabled: false, payoutDelayMs: 1_500 });
    try {
      const player = await fundedPlayer(10_000n);
      const res = await requestWithdrawal(p.platform, player.accessToken, '3000');
      await waitForStatus(p.platform, res.body.withdrawalId, 'unknown');
      assert.equal((await walletBalance(p.platform, player.playerId)).reserved, 3_000n, 'the hold stays while the outcome is unknown');
      await sandboxControl(p.sandboxUrl, { timeoutPercent: 0 });

      await waitForStatus(p.platform, res.body.withdrawalId, 'paid');
      const w = await withdrawal(res.body.withdrawalId);
      assert.equal(w.attempts, 1, 'settled by the status query, not by a second send');
      const payouts = sandboxPayouts(p.platform, res.body.withdrawalId);
      assert.equal(payouts.length, 1, 'one payout at the PSP: one idempotency key');
      assert.equal(w.psp_payout_id, payouts[0]!.id);
      assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 7_000n, reserved: 0n });
    } finally {
      await sandboxControl(p.sandboxUrl, { timeoutPercent: 0, webhooksEnabled: true, payoutDelayMs: 200 });
    }
  });

  it('when the bank bounces a payout, then the hold is voided, the withdrawal fails, and a finance exception opens a compliance case', async () => {
    const player = await fundedPlayer(10_000n, `pay_decline_${randomUUID().slice(0, 8)}`);
    const res = await requestWithdrawal(p.platform, player.accessToken, '4000');
    await waitForStatus(p.platform, res.body.withdrawalId, 'failed');
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 10_000n, reserved: 0n });
    const mine = await p.platform.http.get(`/v1/wallet/withdrawals/${res.body.withdrawalId}`, player.accessToken);
    assert.equal(mine.body.failureReason, 'destination_declined');

    const [exception] = await waitFor(async () => {
      const found = await exceptionsFor(res.body.withdrawalId);
      return found.length ? found : undefined;
    }, { what: 'the payout exception' });
    assert.equal(exception.kind, 'payout-failed');
    assert.ok(compliance.cases.some((c) => c.type === 'payout-exception' && c.data.withdrawalId === res.body.withdrawalId), 'a compliance case was opened');
    assert.ok(exception.caseId, 'the exception names its case');
  });

  it('when the PSP is down until the settle job is exhausted, then the job is dead-lettered, and a replay settles it under the same key', async () => {
    await sandboxControl(p.sandboxUrl, { failurePercent: 100 });
    let id: string;
    try {
      const player = await fundedPlayer(10_000n);
      const res = await requestWithdrawal(p.platform, player.accessToken, '2000');
      id = res.body.withdrawalId;
      await waitFor(async () => {
        const row = await p.platform.db.maybeOne<{ n: bigint }>("select count(*) as n from pgboss.job where name = 'payments.job.payout-settle.dlq' and data->'data'->>'withdrawalId' = $1", [id]);
        return (row?.n ?? 0n) > 0n;
      }, { timeoutMs: 30_000, intervalMs: 200, what: 'the settle job in the dead-letter queue' });
      assert.equal((await withdrawal(id)).status, 'unknown');

      // Stuck long enough: the sweeper raises it (and opens a case); time is moved by back-dating the send.
      await p.platform.db.query("update payments.withdrawals set submitted_at = submitted_at - interval '2 hours' where id = $1", [id]);
      await p.platform.bus.jobsFor('payments').enqueue('payout-sweep', {});
      const [stuck] = await waitFor(async () => {
        const found = await exceptionsFor(id);
        return found.length ? found : undefined;
      }, { what: 'the payout-unknown exception' });
      assert.equal(stuck.kind, 'payout-unknown');
    } finally {
      await sandboxControl(p.sandboxUrl, { failurePercent: 0 });
    }
    // `verity replay --dlq payments.job.payout-settle` runs exactly this.
    const tools = await openReplayTools(p.platform.config.databaseUrl!);
    try {
      const replayed = await waitFor(async () => (await replayDeadLetters(tools, { queue: 'payments.job.payout-settle' })).redriven, { what: 'a redrive' });
      assert.ok(replayed >= 1);
    } finally {
      await tools.close();
    }
    await waitForStatus(p.platform, id!, 'paid', 20_000);
    const w = await withdrawal(id!);
    assert.equal(w.attempts, 2, 'sent again after the PSP said it had no record of it');
    assert.equal(sandboxPayouts(p.platform, id!).length, 1, 'under the same key: one payout');
  });

  it('when the PSP reports a paid payout as failed later, then an older event is ignored and a newer one credits the wallet back by a new transfer', async () => {
    const player = await fundedPlayer(10_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '1500');
    await waitForStatus(p.platform, res.body.withdrawalId, 'paid');
    const [payout] = sandboxPayouts(p.platform, res.body.withdrawalId);
    await waitFor(async () => (await p.platform.db.maybeOne('select 1 from payments.withdrawals where id = $1 and last_psp_event_at is not null', [res.body.withdrawalId])), { what: 'the payout.paid webhook' });

    const send = async (createdAt: Date) => {
      const body = JSON.stringify({
        id: `evt_${randomUUID().replaceAll('-', '')}`, type: 'payout.failed', created_at: createdAt.toISOString(),
        data: { object: { ...payout, object: 'payout', status: 'failed', amount_minor: '1500', currency: 'GBP', failure_reason: 'account_closed' } },
      });
      const signature = signPayload(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000));
      return p.platform.http.request('POST', '/v1/payments/webhooks/sandbox', { rawBody: body, headers: { 'verity-sandbox-signature': signature } });
    };
    const stale = await send(new Date(Date.now() - 3_600_000));
    assert.equal(stale.status, 200, JSON.stringify(stale.body));
    assert.equal((await withdrawal(res.body.withdrawalId)).status, 'paid', 'an event older than the one applied changes nothing');

    const returned = await send(new Date(Date.now() + 1_000));
    assert.equal(returned.status, 200);
    assert.equal((await withdrawal(res.body.withdrawalId)).status, 'reversed');
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 10_000n, reserved: 0n }, 'credited back');
    const reversal = await p.platform.db.one<{ n: bigint }>("select count(*) as n from payments.transfers where kind = 'payout-reversal' and metadata->>'withdrawalId' = $1", [res.body.withdrawalId]);
    assert.equal(reversal.n, 1n, 'a new transfer, the paid one untouched');
    assert.equal((await exceptionsFor(res.body.withdrawalId))[0]?.kind, 'payout-returned');
  });
});
