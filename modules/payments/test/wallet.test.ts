import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { playerToken } from '@verity/identity/testing';
import { complianceFixture, fakeIssuer, fundWallet, requestWithdrawal, startPayoutsPlatform, waitForStatus, type PayoutsPlatform } from './support/payouts.ts';

describe('wallet: balances, lifetime net deposits and history', () => {
  let p: PayoutsPlatform;
  let issuer: Awaited<ReturnType<typeof fakeIssuer>>;
  const compliance = complianceFixture();

  before(async () => {
    issuer = await fakeIssuer();
    p = await startPayoutsPlatform({ modules: [compliance.module], config: { oidcIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, rolesClaim: 'cognito:groups' }] } });
  });
  after(async () => {
    await p?.platform.stop();
    await issuer?.close();
  });

  it('when a player deposited, won and withdrew, then the wallet shows available and reserved money and lifetime net deposits exclude winnings', async () => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, 10_000n);
    await fundWallet(p.ledger, player.playerId, 5_000n);
    await p.ledger.transfer({
      transferId: randomUUID(), kind: 'prize', amountMinor: 2_000n,
      debit: { type: 'prize_liability', ownerId: randomUUID(), currency: 'GBP' }, credit: { type: 'player_wallet', ownerId: player.playerId, currency: 'GBP' },
    });
    const paid = await requestWithdrawal(p.platform, player.accessToken, '3000');
    await waitForStatus(p.platform, paid.body.withdrawalId, 'paid');
    await requestWithdrawal(p.platform, player.accessToken, '60000').then((r) => assert.equal(r.status, 409, 'more than the wallet holds'));
    const held = await requestWithdrawal(p.platform, player.accessToken, '1000');
    await waitForStatus(p.platform, held.body.withdrawalId, 'paid');

    const wallet = await p.platform.http.get('/v1/wallet', player.accessToken);
    assert.equal(wallet.status, 200, JSON.stringify(wallet.body));
    const gbp = wallet.body.balances.find((b: { currency: string }) => b.currency === 'GBP');
    assert.deepEqual(gbp, {
      currency: 'GBP', postedMinor: '13000', reservedMinor: '0', availableMinor: '13000',
      lifetimeDepositsMinor: '15000', lifetimeWithdrawalsMinor: '4000', lifetimeNetDepositsMinor: '11000',
    });
  });

  it('when a withdrawal is waiting for approval, then its amount is reserved, not available', async () => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, 80_000n);
    const res = await requestWithdrawal(p.platform, player.accessToken, '50000');
    assert.equal(res.body.status, 'awaiting_approval');
    const gbp = (await p.platform.http.get('/v1/wallet', player.accessToken)).body.balances[0];
    assert.equal(gbp.postedMinor, '80000');
    assert.equal(gbp.reservedMinor, '50000');
    assert.equal(gbp.availableMinor, '30000');
    assert.equal(gbp.lifetimeNetDepositsMinor, '80000', 'nothing was paid out yet');
  });

  it('when the history is longer than a page, then the pages cover every movement once, newest first', async () => {
    const player = await playerToken(p.platform.http);
    for (let i = 1; i <= 7; i++) await fundWallet(p.ledger, player.playerId, BigInt(i * 100));
    const seen: { transferId: string; amountMinor: string }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await p.platform.http.get(`/v1/wallet/transactions?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, player.accessToken);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.items.length <= 3);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen.map((t) => t.amountMinor), ['700', '600', '500', '400', '300', '200', '100']);
    assert.equal(new Set(seen.map((t) => t.transferId)).size, 7);
    const first = (await p.platform.http.get('/v1/wallet/transactions?limit=1', player.accessToken)).body.items[0];
    assert.equal(first.kind, 'deposit');
    assert.ok(first.details.depositId, 'our own reference is shown');
    assert.equal(first.details.pspPaymentId, undefined, 'internal metadata is not');
  });

  it('when since and until are given, then only movements in that window are listed; a bad cursor is a 400', async () => {
    const player = await playerToken(p.platform.http);
    for (let i = 1; i <= 4; i++) await fundWallet(p.ledger, player.playerId, BigInt(i));
    const all = (await p.platform.http.get('/v1/wallet/transactions', player.accessToken)).body.items as { at: string; amountMinor: string }[];
    const since = all[2]!.at;
    const until = all[0]!.at;
    const window = await p.platform.http.get(`/v1/wallet/transactions?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`, player.accessToken);
    assert.deepEqual(window.body.items.map((t: { amountMinor: string }) => t.amountMinor), ['3', '2']);
    const backwards = await p.platform.http.get(`/v1/wallet/transactions?since=${encodeURIComponent(until)}&until=${encodeURIComponent(since)}`, player.accessToken);
    assert.equal(backwards.status, 400);
    assert.equal((await p.platform.http.get('/v1/wallet/transactions?cursor=bm9wZQ', player.accessToken)).status, 400);
    assert.equal((await p.platform.http.get('/v1/wallet/transactions?limit=1000', player.accessToken)).status, 400, 'the page size is bounded');
  });

  it('when a movement is older than 90 days, then the player still finds it in the history', async () => {
    const player = await playerToken(p.platform.http);
    await fundWallet(p.ledger, player.playerId, 4_242n);
    // Ledger rows are immutable; the test moves time by back-dating as the superuser with triggers off.
    await p.platform.db.tx(async () => {
      await p.platform.db.query('set local session_replication_role = replica');
      await p.platform.db.query(
        `update payments.transfers set created_at = created_at - interval '120 days'
          where credit_account_id in (select id from payments.accounts where type = 'player_wallet' and owner_id = $1)`,
        [player.playerId],
      );
    });
    const history = await p.platform.http.get('/v1/wallet/transactions', player.accessToken);
    assert.equal(history.body.items.length, 1);
    assert.ok(Date.now() - Date.parse(history.body.items[0].at) > 100 * 86_400_000);
  });

  it('when someone other than a player asks for a wallet, then 403; players only ever see their own', async () => {
    const operator = await issuer.token({ groups: ['finance'] });
    assert.equal((await p.platform.http.get('/v1/wallet', operator)).status, 403);
    assert.equal((await p.platform.http.get('/v1/wallet')).status, 401);
    const a = await playerToken(p.platform.http);
    const b = await playerToken(p.platform.http);
    await fundWallet(p.ledger, a.playerId, 999n);
    const theirs = await p.platform.http.get('/v1/wallet', b.accessToken);
    assert.equal(theirs.body.playerId, b.playerId);
    assert.equal(theirs.body.balances[0].postedMinor, '0');
    assert.equal((await p.platform.http.get('/v1/wallet/transactions', b.accessToken)).body.items.length, 0);
  });
});
