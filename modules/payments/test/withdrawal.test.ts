import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { operatorSession, playerToken } from '@verity/identity/testing';
import {
  complianceFixture, fakeIssuer, fundWallet, idem, requestWithdrawal, sandboxPayouts, startPayoutsPlatform, waitForStatus, walletBalance,
  type PayoutsPlatform,
} from './support/payouts.ts';

describe('withdrawals: without a compliance module', () => {
  let p: PayoutsPlatform;
  before(async () => {
    p = await startPayoutsPlatform();
  });
  after(() => p?.platform.stop());

  it('when no compliance module runs, then every withdrawal is refused as compliance-unavailable and nothing is held', async () => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, 10_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '1000');
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.code, 'withdrawal-refused');
    assert.deepEqual(res.body.reasons, ['compliance-unavailable']);
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 10_000n, reserved: 0n });
  });
});

describe('withdrawals: compliance gate, four eyes and payout', () => {
  let p: PayoutsPlatform;
  let issuer: Awaited<ReturnType<typeof fakeIssuer>>;
  const compliance = complianceFixture();
  let financeA: Awaited<ReturnType<typeof operatorSession>>;
  let financeB: Awaited<ReturnType<typeof operatorSession>>;

  before(async () => {
    issuer = await fakeIssuer();
    p = await startPayoutsPlatform({ modules: [compliance.module], config: { oidcIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, rolesClaim: 'cognito:groups' }] } });
    financeA = await operatorSession(p.platform, ['finance']);
    financeB = await operatorSession(p.platform, ['finance']);
  });
  after(async () => {
    await p?.platform.stop();
    await issuer?.close();
  });

  const fundedPlayer = async (amountMinor: bigint) => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, amountMinor);
    return player;
  };

  it('when compliance refuses the player, then 403 names its reasons and nothing is held', async () => {
    const player = await fundedPlayer(10_000n);
    compliance.refuse(player.playerId, ['not-verified', 'sanctions-hold']);
    const res = await requestWithdrawal(p.platform, player.accessToken, '1000');
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'withdrawal-refused');
    assert.deepEqual(res.body.reasons, ['not-verified', 'sanctions-hold']);
    assert.equal((await walletBalance(p.platform, player.playerId)).reserved, 0n);
  });

  it('when a player withdraws less than the approval threshold, then it is approved at once and paid out through the sandbox PSP', async () => {
    const player = await fundedPlayer(10_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '2500');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'approved');
    assert.equal(res.body.approvalsRequired, 0);
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 10_000n, reserved: 2_500n }, 'held while it is paid out');

    await waitForStatus(p.platform, res.body.withdrawalId, 'paid');
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 7_500n, reserved: 0n });
    const mine = await p.platform.http.get(`/v1/wallet/withdrawals/${res.body.withdrawalId}`, player.accessToken);
    assert.equal(mine.body.status, 'paid');
    assert.ok(mine.body.paidAt);
    const payouts = sandboxPayouts(p.platform, res.body.withdrawalId);
    assert.equal(payouts.length, 1);
    assert.equal(payouts[0]!.status, 'paid');
    const other = await playerToken(p.platform.http);
    assert.equal((await p.platform.http.get(`/v1/wallet/withdrawals/${res.body.withdrawalId}`, other.accessToken)).status, 404, "another player's withdrawal does not exist for them");
  });

  it('when a withdrawal is retried with the same Idempotency-Key, then the first answer is replayed and one withdrawal exists; without a key it is refused', async () => {
    const player = await fundedPlayer(10_000n);
    const headers = idem();
    const first = await p.platform.http.post('/v1/wallet/withdrawals', { amountMinor: '1000' }, player.accessToken, headers);
    const again = await p.platform.http.post('/v1/wallet/withdrawals', { amountMinor: '1000' }, player.accessToken, headers);
    assert.equal(first.status, 201);
    assert.equal(again.body.withdrawalId, first.body.withdrawalId);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const none = await p.platform.http.post('/v1/wallet/withdrawals', { amountMinor: '1000' }, player.accessToken);
    assert.equal(none.status, 400, 'a command without an Idempotency-Key is refused');
    const list = await p.platform.http.get('/v1/wallet/withdrawals', player.accessToken);
    assert.equal(list.body.items.length, 1);
  });

  it('when the wallet does not cover the amount, then 409 insufficient-funds and no withdrawal is recorded', async () => {
    const player = await fundedPlayer(1_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '1001');
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'insufficient-funds');
    assert.equal((await p.platform.http.get('/v1/wallet/withdrawals', player.accessToken)).body.items.length, 0);
  });

  it('when the amount reaches the approval threshold, then it waits for finance; an approval by another operator pays it', async () => {
    const player = await fundedPlayer(100_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '50000');
    assert.equal(res.body.status, 'awaiting_approval');
    assert.equal(res.body.approvalsRequired, 1);
    const pending = await p.platform.http.get('/v1/withdrawals?status=awaiting_approval', financeA.accessToken);
    assert.ok(pending.body.items.some((w: { withdrawalId: string }) => w.withdrawalId === res.body.withdrawalId));
    assert.equal((await p.platform.http.get('/v1/withdrawals', player.accessToken)).status, 403, 'players do not list withdrawals');

    const approved = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, { note: 'documents checked' }, financeA.accessToken, idem());
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    assert.equal(approved.body.decisions[0].operatorId, financeA.operatorId);
    await waitForStatus(p.platform, res.body.withdrawalId, 'paid');
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 50_000n, reserved: 0n });
    const audit = await p.platform.db.query(`select actor from kernel.audit_log where action = 'payments.withdrawal-approved' and subject = $1`, [`withdrawal:${res.body.withdrawalId}`]);
    assert.equal(audit.length, 1);
  });

  it('when the operator who requested a payout approves it, then 403 four-eyes-required; another operator approves it', async () => {
    const player = await fundedPlayer(20_000n);
    const created = await p.platform.http.post(`/v1/players/${player.playerId}/withdrawals`, { amountMinor: '5000', reason: 'account closure' }, financeA.accessToken, idem());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'awaiting_approval', 'an operator-initiated payout always needs a second operator');
    assert.equal(created.body.requesterId, financeA.operatorId);

    const self = await p.platform.http.post(`/v1/withdrawals/${created.body.withdrawalId}/approve`, {}, financeA.accessToken, idem());
    assert.equal(self.status, 403);
    assert.equal(self.body.code, 'four-eyes-required');
    const selfReject = await p.platform.http.post(`/v1/withdrawals/${created.body.withdrawalId}/reject`, { note: 'changed my mind' }, financeA.accessToken, idem());
    assert.equal(selfReject.body.code, 'four-eyes-required');

    const other = await p.platform.http.post(`/v1/withdrawals/${created.body.withdrawalId}/approve`, {}, financeB.accessToken, idem());
    assert.equal(other.status, 200, JSON.stringify(other.body));
    await waitForStatus(p.platform, created.body.withdrawalId, 'paid');
  });

  it('when an approver signed in longer ago than the step-up window, then 403 step-up-required and the withdrawal still waits', async () => {
    const player = await fundedPlayer(100_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '60000');
    const stale = await issuer.token({ groups: ['finance'], authTimeS: Math.floor(Date.now() / 1000) - 3_600 });
    const refused = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, stale, idem());
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'step-up-required');
    const noMfa = await issuer.token({ groups: ['finance'], amr: ['pwd'] });
    assert.equal((await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, noMfa, idem())).body.code, 'mfa-required');
    const support = await issuer.token({ groups: ['support'] });
    assert.equal((await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, support, idem())).body.code, 'forbidden');
    const fresh = await issuer.token({ groups: ['finance'] });
    const ok = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, fresh, idem());
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('when a withdrawal needs two approvals, then the same operator cannot approve twice and a second operator releases it', async () => {
    const player = await fundedPlayer(2_000_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '1000000');
    assert.equal(res.body.approvalsRequired, 2);
    const first = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, financeA.accessToken, idem());
    assert.equal(first.body.status, 'awaiting_approval');
    assert.equal(first.body.approvals, 1);
    const twice = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, financeA.accessToken, idem());
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'already-decided');
    const second = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, financeB.accessToken, idem());
    assert.equal(second.body.status, 'approved');
    assert.equal(second.body.approvals, 2);
    await waitForStatus(p.platform, res.body.withdrawalId, 'paid');
  });

  it('when finance rejects a withdrawal, then its hold is released to the wallet and it cannot be approved later', async () => {
    const player = await fundedPlayer(80_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '70000');
    assert.equal((await walletBalance(p.platform, player.playerId)).reserved, 70_000n);
    const rejected = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/reject`, { note: 'source of funds not evidenced' }, financeA.accessToken, idem());
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.equal(rejected.body.status, 'rejected');
    assert.deepEqual(await walletBalance(p.platform, player.playerId), { posted: 80_000n, reserved: 0n });
    const late = await p.platform.http.post(`/v1/withdrawals/${res.body.withdrawalId}/approve`, {}, financeB.accessToken, idem());
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'withdrawal-not-awaiting-approval');
    assert.equal(sandboxPayouts(p.platform, res.body.withdrawalId).length, 0, 'nothing was sent to the PSP');
  });
});
