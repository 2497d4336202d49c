/**
 * Safer gambling over HTTP on real PostgreSQL: self-exclusion (at once, cannot be undone early, the
 * balance returned by payments, marketing stopped), time-outs, and purchase spend limits counted from
 * payments' ledger events.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import type { PaymentsService } from '@verity/payments';
import { eligibility, expectProblem, idem, outboxEvents, startCorePlatform, verifiedPlayer, type CorePlatform, type Player } from './support/core.ts';

const FRICTIONLESS_CARD = '4000000000000036';

describe('safer gambling', () => {
  let cp: CorePlatform;
  before(async () => {
    cp = await startCorePlatform({ payments: true });
  });
  after(() => cp?.platform.stop());

  const http = () => cp.platform.http;
  const selfExclude = (p: Player, months: number) => http().post('/v1/safer-gambling/self-exclusion', { months }, p.accessToken);
  const timeOut = (p: Player, hours: number) => http().post('/v1/safer-gambling/time-out', { hours }, p.accessToken);
  const setLimits = (p: Player, body: Record<string, unknown>) => http().request('PUT', '/v1/safer-gambling/spend-limits', { body, token: p.accessToken });

  async function deposit(p: Player, amountMinor: string): Promise<void> {
    const res = await http().post('/v1/wallet/deposits', { amountMinor, currency: 'GBP', paymentMethod: FRICTIONLESS_CARD }, p.accessToken, idem());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'succeeded');
  }

  describe('self-exclusion', () => {
    it('when a player self-excludes, then a purchase or deposit checked in the same second is refused', async () => {
      const player = await verifiedPlayer(cp);
      const res = await selfExclude(player, 6);
      const purchase = await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 100n, currency: 'GBP' });
      const deposit = await cp.compliance.canDeposit({ playerId: player.playerId, amountMinor: 100n, currency: 'GBP' });
      const checkedAt = await cp.platform.db.now();
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(purchase, { allowed: false, reasons: ['self-excluded'] });
      assert.deepEqual(deposit, { allowed: false, reasons: ['self-excluded'] });
      const startsAt = new Date(res.body.startsAt);
      assert.ok(checkedAt.getTime() - startsAt.getTime() < 1000, 'checked within the same second');
      const months = (new Date(res.body.endsAt).getUTCFullYear() - startsAt.getUTCFullYear()) * 12 + new Date(res.body.endsAt).getUTCMonth() - startsAt.getUTCMonth();
      assert.equal(months, 6);
      const view = await eligibility(cp.platform, player.accessToken);
      assert.deepEqual([view.body.deposit.reasons, view.body.purchase.reasons, view.body.withdraw.reasons], [['self-excluded'], ['self-excluded'], ['self-excluded']]);
      const refused = await http().post('/v1/wallet/deposits', { amountMinor: '500', currency: 'GBP', paymentMethod: FRICTIONLESS_CARD }, player.accessToken, idem());
      expectProblem(refused, 403, 'deposit-not-allowed');
      assert.deepEqual(refused.body.reasons, ['self-excluded']);
    });

    it('when a self-excluded player asks again, then it can only be extended, never shortened or ended early', async () => {
      const player = await verifiedPlayer(cp);
      const first = await selfExclude(player, 12);
      assert.equal(first.status, 201);
      const shorter = await selfExclude(player, 6);
      expectProblem(shorter, 409, 'self-exclusion-in-force');
      assert.equal(shorter.body.endsAt, first.body.endsAt);
      expectProblem(await selfExclude(player, 12), 409, 'self-exclusion-in-force');
      const longer = await selfExclude(player, 60);
      assert.equal(longer.status, 201);
      assert.equal(longer.body.extended, true);
      assert.ok(new Date(longer.body.endsAt) > new Date(first.body.endsAt));
      assert.equal(longer.body.startsAt, first.body.startsAt, 'the exclusion runs on from when it began');
      expectProblem(await selfExclude(player, 5), 400, 'validation-failed');
      expectProblem(await selfExclude(player, 61), 400, 'validation-failed');
      // There is no route that ends it: the only change possible is another extension.
      const status = await http().get('/v1/safer-gambling', player.accessToken);
      assert.equal(status.body.selfExclusion.endsAt, longer.body.endsAt);
    });

    it('when a player with a balance self-excludes, then payments returns the whole balance to their card, audited, and marketing stops', async () => {
      const player = await verifiedPlayer(cp);
      await deposit(player, '2500');
      const res = await selfExclude(player, 6);
      assert.equal(res.status, 201);
      const withdrawal = await waitFor(async () => (await http().get('/v1/wallet/withdrawals', player.accessToken)).body.items?.[0], { what: 'the balance return' });
      assert.equal(withdrawal.amountMinor, '2500');
      assert.equal(withdrawal.requestedBy, 'player');
      await waitFor(async () => (await http().get(`/v1/wallet/withdrawals/${withdrawal.withdrawalId}`, player.accessToken)).body.status === 'paid', { what: 'the payout', timeoutMs: 20_000 });
      const balance = await cp.platform.service<PaymentsService>('payments').balance({ playerId: player.playerId, currency: 'GBP' });
      assert.equal(balance.postedMinor, 0n);
      const audit = await cp.platform.db.one<{ data: Record<string, any> }>(
        "select data from kernel.audit_log where action = 'payments.self-exclusion-balance-returned' and subject = $1", [`player:${player.playerId}`],
      );
      assert.deepEqual(audit.data.gateReasonsPassed, ['self-excluded']);
      assert.equal((await http().get('/v1/safer-gambling', player.accessToken)).body.marketingSuppressed, true);
      assert.equal((await outboxEvents(cp.platform, 'compliance.marketing-suppressed.v1', player.playerId)).length, 1);
      // The return does not open the door: the player's own withdrawals stay refused.
      const own = await http().post('/v1/wallet/withdrawals', { amountMinor: '1' }, player.accessToken, idem());
      expectProblem(own, 403, 'withdrawal-refused');
    });

    it('when a self-excluded player is also under investigation, then the balance stays and a payout-exception case is opened', async () => {
      const player = await verifiedPlayer(cp);
      await deposit(player, '1200');
      const { caseId } = await cp.compliance.openCase({ type: 'aml-alert', subject: `player:${player.playerId}`, summary: 'Rapid in-out', data: {} });
      const { operatorSession } = await import('@verity/identity/testing');
      const manager = await operatorSession(cp.platform, ['compliance-manager']);
      await http().post(`/v1/cases/${caseId}/decisions`, { outcome: 'investigation-opened', reason: 'Source of funds' }, manager.accessToken);
      await selfExclude(player, 6);
      const opened = await waitFor(async () => (await http().get(`/v1/cases?type=payout-exception&playerId=${player.playerId}`, manager.accessToken)).body.items?.[0], { what: 'the payout-exception case' });
      assert.equal(opened.data.kind, 'self-exclusion-return');
      assert.deepEqual(opened.data.reasons, ['self-excluded', 'open-investigation']);
      const balance = await cp.platform.service<PaymentsService>('payments').balance({ playerId: player.playerId, currency: 'GBP' });
      assert.equal(balance.availableMinor, 1200n);
    });
  });

  describe('time-outs', () => {
    it('when a player takes a time-out, then purchases and deposits are refused until it ends, withdrawals are not, and it cannot be shortened', async () => {
      const player = await verifiedPlayer(cp);
      expectProblem(await timeOut(player, 23), 400, 'validation-failed');
      expectProblem(await timeOut(player, 1009), 400, 'validation-failed');
      const res = await timeOut(player, 24);
      assert.equal(res.status, 201);
      assert.equal(new Date(res.body.endsAt).getTime() - new Date(res.body.startsAt).getTime(), 24 * 3_600_000);
      const view = await eligibility(cp.platform, player.accessToken);
      assert.deepEqual([view.body.deposit.reasons, view.body.purchase.reasons, view.body.withdraw.reasons], [['time-out'], ['time-out'], []]);
      expectProblem(await timeOut(player, 24), 409, 'time-out-in-force');
      const longer = await timeOut(player, 1008);
      assert.equal(longer.status, 201);
      assert.equal(longer.body.extended, true);
      // Once it has run out (moved into the past here), the player may play again.
      await cp.platform.db.query("update compliance.time_outs set starts_at = starts_at - interval '43 days', ends_at = ends_at - interval '43 days' where player_id = $1", [player.playerId]);
      assert.equal((await eligibility(cp.platform, player.accessToken)).body.purchase.allowed, true);
    });
  });

  describe('purchase spend limits', () => {
    async function spend(p: Player, amountMinor: bigint): Promise<void> {
      const payments = cp.platform.service<PaymentsService>('payments');
      const competitionId = randomUUID();
      const hold = await payments.reserve({ transferId: randomUUID(), playerId: p.playerId, competitionId, amountMinor, currency: 'GBP', timeoutS: 600 });
      await payments.post({ transferId: randomUUID(), pendingTransferId: hold.transferId });
    }
    const limits = async (p: Player) => (await http().get('/v1/safer-gambling/spend-limits', p.accessToken)).body;

    it('when a limit is lowered, then it applies at once, counting purchases from payments and the purchase being checked', async () => {
      const player = await verifiedPlayer(cp);
      await deposit(player, '5000');
      const set = await setLimits(player, { daily: '1000' });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body.daily.amountMinor, '1000');
      assert.equal((await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 1001n, currency: 'GBP' })).reasons[0], 'limit-reached');
      await spend(player, 700n);
      await waitFor(async () => (await limits(player)).daily.usedMinor === '700', { what: 'the purchase to count' });
      const over = await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 301n, currency: 'GBP' });
      assert.deepEqual(over, { allowed: false, reasons: ['limit-reached'], remainingMinor: 300n });
      assert.deepEqual(await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 300n, currency: 'GBP' }), { allowed: true, reasons: [], remainingMinor: 300n });
      const view = await eligibility(cp.platform, player.accessToken, '?amountMinor=400');
      assert.deepEqual(view.body.purchase, { allowed: false, reasons: ['limit-reached'], remainingMinor: '300' });
      assert.deepEqual(view.body.deposit.reasons, [], 'spend limits are about purchases');
    });

    it('when a limit is raised, then the lower one stays in force for 24 hours; a limit of 0 stops all purchases; the lowest limit wins', async () => {
      const player = await verifiedPlayer(cp);
      await setLimits(player, { daily: '1000', weekly: '5000' });
      const raised = await setLimits(player, { daily: '3000' });
      assert.equal(raised.body.daily.amountMinor, '1000');
      assert.equal(raised.body.daily.pending.amountMinor, '3000');
      const waitS = (new Date(raised.body.daily.pending.effectiveAt).getTime() - Date.now()) / 1000;
      assert.ok(waitS > 23.9 * 3600 && waitS <= 24 * 3600, `effective in 24 h (got ${waitS} s)`);
      assert.equal((await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 2000n, currency: 'GBP' })).allowed, false);
      // 24 hours later (the change moved into the past), the higher limit is in force.
      await cp.platform.db.query("update compliance.spend_limit_changes set requested_at = requested_at - interval '25 hours', effective_at = effective_at - interval '25 hours' where player_id = $1", [player.playerId]);
      assert.equal((await limits(player)).daily.amountMinor, '3000');
      assert.equal((await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 2000n, currency: 'GBP' })).allowed, true);
      // The weekly limit is lower than daily + more: the lowest remaining wins.
      await setLimits(player, { weekly: '1500' });
      assert.deepEqual(await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 2000n, currency: 'GBP' }), { allowed: false, reasons: ['limit-reached'], remainingMinor: 1500n });
      const zero = await setLimits(player, { monthly: '0' });
      assert.equal(zero.body.monthly.amountMinor, '0');
      assert.deepEqual(await cp.compliance.canPurchase({ playerId: player.playerId, amountMinor: 0n, currency: 'GBP' }), { allowed: false, reasons: ['limit-reached'], remainingMinor: 0n });
      // Removing a limit is a loosening too: it waits.
      const removed = await setLimits(player, { monthly: null });
      assert.equal(removed.body.monthly.amountMinor, '0');
      assert.equal(removed.body.monthly.pending.amountMinor, null);
      expectProblem(await setLimits(player, { daily: '-1' }), 400, 'validation-failed');
      expectProblem(await setLimits(player, {}), 400, 'validation-failed');
    });

    it('when a purchase reservation is voided, then it stops counting', async () => {
      const player = await verifiedPlayer(cp);
      await deposit(player, '3000');
      await setLimits(player, { daily: '2000' });
      const payments = cp.platform.service<PaymentsService>('payments');
      const hold = await payments.reserve({ transferId: randomUUID(), playerId: player.playerId, competitionId: randomUUID(), amountMinor: 1500n, currency: 'GBP', timeoutS: 600 });
      await waitFor(async () => (await limits(player)).daily.usedMinor === '1500', { what: 'the reservation to count' });
      await payments.void({ transferId: randomUUID(), pendingTransferId: hold.transferId, reason: 'tickets not issued' });
      await waitFor(async () => (await limits(player)).daily.usedMinor === '0', { what: 'the void to release it' });
    });
  });
});
