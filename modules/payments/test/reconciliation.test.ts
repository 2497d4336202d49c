import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { playerToken } from '@verity/identity/testing';
import { waitFor } from '@verity/kernel/testing';
import {
  appendSettlementLine, complianceFixture, fakeIssuer, fundWallet, idem, requestWithdrawal, sandboxPayouts, startPayoutsPlatform, waitForStatus,
  walletBalance, type PayoutsPlatform,
} from './support/payouts.ts';

const today = () => new Date().toISOString().slice(0, 10);

describe('reconciliation: ledger proofs, settlement report, finance exceptions', () => {
  let p: PayoutsPlatform;
  let issuer: Awaited<ReturnType<typeof fakeIssuer>>;
  let finance: string;
  const compliance = complianceFixture();

  before(async () => {
    issuer = await fakeIssuer();
    p = await startPayoutsPlatform({ modules: [compliance.module], config: { oidcIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, rolesClaim: 'cognito:groups' }] } });
    finance = await issuer.token({ groups: ['finance'] });
  });
  after(async () => {
    await p?.platform.stop();
    await issuer?.close();
  });

  const run = async (settlementDay?: string) => {
    const res = await p.platform.http.post('/v1/finance/reconciliations', settlementDay ? { settlementDay } : {}, finance);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const openExceptions = async (kind: string) => (await p.platform.http.get(`/v1/finance/exceptions?status=open&kind=${kind}`, finance)).body.items;
  /** Runs a statement as the superuser with triggers off: what a bug or a hand-edit could do. */
  const corrupt = (sql: string, params: unknown[]) =>
    p.platform.db.tx(async () => {
      await p.platform.db.query('set local session_replication_role = replica');
      await p.platform.db.query(sql, params);
    });

  it('when the reconciliation job is scheduled, then it runs daily from cron', async () => {
    const schedules = await p.platform.bus.schedules();
    assert.ok(schedules.some((s) => s.queue === 'payments.job.reconciliation' && s.cron === '30 2 * * *'));
  });

  it('when the ledger and the PSP agree, then the run is clean and raises nothing', async () => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, 10_000n, { settledIn: p.platform });
    const paid = await requestWithdrawal(p.platform, player.accessToken, '2500');
    // A card deposit through the sandbox PSP, paid back out to the same card.
    const carded = await playerToken(p.platform.http);
    const deposit = await p.platform.http.post('/v1/wallet/deposits', { amountMinor: '8000', paymentMethod: '4000000000000036' }, carded.accessToken, idem());
    assert.equal(deposit.status, 201, JSON.stringify(deposit.body));
    await waitFor(async () => (await walletBalance(p.platform, carded.playerId)).posted === 8_000n, { what: 'the card deposit in the wallet' });
    const cardPayout = await requestWithdrawal(p.platform, carded.accessToken, '3000');
    await waitForStatus(p.platform, paid.body.withdrawalId, 'paid');
    await waitForStatus(p.platform, cardPayout.body.withdrawalId, 'paid');

    const report = await run(today());
    assert.equal(report.status, 'clean', JSON.stringify(report));
    assert.deepEqual(report.ledger, { unbalancedCurrencies: 0, balanceMismatches: 0 });
    assert.equal(report.settlement.matched, 4, 'two deposits and two payouts matched');
    assert.equal(report.discrepancyCount, 0);
  });

  it('when entries stop summing to zero and a balance drifts from its entries, then each is a finance exception, raised once', async () => {
    const a = await playerToken(p.platform.http);
    const b = await playerToken(p.platform.http);
    await fundWallet(p.ledger, a.playerId, 1_000n, { settledIn: p.platform });
    await fundWallet(p.ledger, b.playerId, 1_000n, { settledIn: p.platform });
    const transfer = await p.platform.db.one<{ id: string }>(
      "select t.id from payments.transfers t join payments.accounts a on a.id = t.credit_account_id where a.owner_id = $1 limit 1", [a.playerId]);
    const walletB = await p.platform.db.one<{ id: bigint }>("select id from payments.accounts where type = 'player_wallet' and owner_id = $1", [b.playerId]);
    await corrupt("insert into payments.entries (transfer_id, account_id, amount, currency) values ($1, $2, 7, 'GBP')", [transfer.id, walletB.id]);
    await corrupt("update payments.accounts set posted_credits = posted_credits + 100 where type = 'player_wallet' and owner_id = $1", [a.playerId]);
    try {
      const report = await run('2020-01-01');
      assert.equal(report.status, 'discrepancies');
      assert.equal(report.ledger.unbalancedCurrencies, 1);
      assert.equal(report.ledger.balanceMismatches, 2, "A's stored balance and B's entries");
      const [unbalanced] = await openExceptions('entries-unbalanced');
      assert.equal(unbalanced.currency, 'GBP');
      assert.equal(unbalanced.details.sumMinor, '7');
      assert.deepEqual(unbalanced.details.transferIds, [transfer.id]);
      const drifted = (await openExceptions('balance-mismatch')).find((e: { details: { ownerId: string } }) => e.details.ownerId === a.playerId);
      assert.equal(drifted.details.storedMinor, '1100');
      assert.equal(drifted.details.entriesMinor, '1000');
      const events = await p.platform.db.query("select data from payments.outbox where type = 'payments.reconciliation-discrepancy.v1'");
      assert.ok(events.length >= 3, 'an event per exception');

      const again = await run('2020-01-01');
      assert.equal(again.discrepancyCount, 3, 'still found');
      assert.ok(again.discrepancies.every((d: { exceptionId?: string }) => d.exceptionId === undefined), 'but not raised again while open');
      assert.equal((await openExceptions('entries-unbalanced')).length, 1);
    } finally {
      await corrupt('delete from payments.entries where transfer_id = $1 and account_id = $2', [transfer.id, walletB.id]);
      await corrupt("update payments.accounts set posted_credits = posted_credits - 100 where type = 'player_wallet' and owner_id = $1", [a.playerId]);
    }
    const clean = await run('2020-01-01');
    assert.deepEqual(clean.ledger, { unbalancedCurrencies: 0, balanceMismatches: 0 });
  });

  it('when the settlement report and our books differ, then missing, extra and amount mismatches each become an exception', async () => {
    const player = await playerToken(p.platform.http);
    const unbooked = randomUUID();
    appendSettlementLine(p.platform, { kind: 'payment', pspObjectId: 'pay_unbooked', reference: unbooked, amountMinor: 999n });
    const unsettled = await fundWallet(p.ledger, player.playerId, 20_000n);
    const paid = await requestWithdrawal(p.platform, player.accessToken, '1234');
    await waitForStatus(p.platform, paid.body.withdrawalId, 'paid');
    const [payout] = sandboxPayouts(p.platform, paid.body.withdrawalId);
    appendSettlementLine(p.platform, { kind: 'payout', pspObjectId: payout!.id, reference: paid.body.withdrawalId, amountMinor: 1n });

    const report = await run(today());
    assert.equal(report.status, 'discrepancies');
    const subjects = report.discrepancies.map((d: { kind: string; subject: string }) => `${d.kind} ${d.subject}`);
    assert.ok(subjects.includes(`settlement-missing payment:${unbooked}:GBP`), JSON.stringify(subjects));
    assert.ok(subjects.includes(`settlement-extra payment:${unsettled}:GBP`), JSON.stringify(subjects));
    assert.ok(subjects.includes(`settlement-amount-mismatch payout:${paid.body.withdrawalId}:GBP`), JSON.stringify(subjects));
    const [mismatch] = (await openExceptions('settlement-amount-mismatch')).filter((e: { details: { reference: string } }) => e.details.reference === paid.body.withdrawalId);
    assert.equal(mismatch.details.pspAmountMinor, '1235');
    assert.equal(mismatch.details.ourAmountMinor, '1234');
  });

  it('when finance resolves an exception with a note, then it is closed, audited, and only open ones are listed as open', async () => {
    const [open] = await openExceptions('settlement-missing');
    const resolved = await p.platform.http.post(`/v1/finance/exceptions/${open.exceptionId}/resolve`, { note: 'PSP refunded the stray payment on 3 March' }, finance);
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.equal(resolved.body.status, 'resolved');
    assert.ok(resolved.body.resolvedBy.startsWith('operator:'));
    const twice = await p.platform.http.post(`/v1/finance/exceptions/${open.exceptionId}/resolve`, { note: 'again' }, finance);
    assert.equal(twice.status, 409);
    assert.ok(!(await openExceptions('settlement-missing')).some((e: { exceptionId: string }) => e.exceptionId === open.exceptionId));
    const audit = await p.platform.db.query("select reason from kernel.audit_log where action = 'payments.finance-exception-resolved' and subject = $1", [`finance-exception:${open.exceptionId}`]);
    assert.equal(audit.length, 1);
    const player = await playerToken(p.platform.http);
    assert.equal((await p.platform.http.get('/v1/finance/exceptions', player.accessToken)).status, 403);
    const support = await issuer.token({ groups: ['support'] });
    assert.equal((await p.platform.http.post('/v1/finance/reconciliations', {}, support)).status, 403);
  });

  it('when exceptions span more than a page, then the list pages through them newest first', async () => {
    const first = await p.platform.http.get('/v1/finance/exceptions?limit=2', finance);
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await p.platform.http.get(`/v1/finance/exceptions?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, finance);
    assert.ok(second.body.items.length >= 1);
    const ids = [...first.body.items, ...second.body.items].map((e: { exceptionId: string }) => e.exceptionId);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(Date.parse(first.body.items[1].detectedAt) >= Date.parse(second.body.items[0].detectedAt));
  });
});
