/**
 * Deposit limits (UK RTS 12) over HTTP on real PostgreSQL. "Now" is the database's: a test moves
 * time for one player by shifting that player's stored request and deposit times.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DEBIT_FRICTIONLESS, ageDeposits, ageLimitRequests, deposit, newPlayer, setLimits, startPspPlatform, wallet, type PspPlatform,
} from './support/psp.ts';

describe('deposit limits', () => {
  let p: PspPlatform;
  before(async () => {
    p = await startPspPlatform();
  });
  after(() => p?.platform.stop());

  const pay = (token: string, amountMinor: string) => deposit(p.platform, token, { amountMinor, paymentMethod: DEBIT_FRICTIONLESS });

  it('when a player sets a limit, then it applies at once and a deposit over it is refused naming the limit and what is left', async () => {
    const player = await newPlayer(p.platform);
    const set = await setLimits(p.platform, player.accessToken, { daily: '5000' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.daily.amountMinor, '5000');
    assert.equal(set.body.daily.pending, null);
    assert.equal((await pay(player.accessToken, '3000')).status, 201);

    const over = await pay(player.accessToken, '2500');
    assert.equal(over.status, 409);
    assert.equal(over.body.code, 'deposit-limit-reached');
    assert.equal(over.body.limit, 'daily');
    assert.equal(over.body.remainingMinor, '2000');
    assert.equal(over.body.limitMinor, '5000');
    assert.equal((await pay(player.accessToken, '2000')).status, 201, 'exactly up to the limit is allowed');
    assert.equal(await wallet(p.platform, player.playerId), 5000n);

    const view = await p.platform.http.get('/v1/wallet/deposit-limits', player.accessToken);
    assert.equal(view.body.daily.usedMinor, '5000');
    assert.equal(view.body.daily.remainingMinor, '0');
    assert.equal(view.body.weekly.amountMinor, null);
  });

  it('when a player lowers a limit it applies at once; when they raise or remove it, only after 24 hours', async () => {
    const player = await newPlayer(p.platform);
    await setLimits(p.platform, player.accessToken, { weekly: '10000' });
    const lowered = await setLimits(p.platform, player.accessToken, { weekly: '4000' });
    assert.equal(lowered.body.weekly.amountMinor, '4000');

    const raised = await setLimits(p.platform, player.accessToken, { weekly: '20000' });
    assert.equal(raised.body.weekly.amountMinor, '4000', 'the lower limit stays in force');
    assert.equal(raised.body.weekly.pending.amountMinor, '20000');
    const waitH = (Date.parse(raised.body.weekly.pending.effectiveAt) - Date.now()) / 3_600_000;
    assert.ok(waitH > 23.9 && waitH <= 24.01, `effective in 24 h (got ${waitH.toFixed(3)} h)`);
    assert.equal((await pay(player.accessToken, '5000')).status, 409);

    // Asking again for the same increase does not restart its cooling-off.
    await ageLimitRequests(p.platform, player.playerId, 12);
    const again = await setLimits(p.platform, player.accessToken, { weekly: '20000' });
    assert.equal(again.body.weekly.pending.effectiveAt, new Date(Date.parse(raised.body.weekly.pending.effectiveAt) - 12 * 3_600_000).toISOString());

    await ageLimitRequests(p.platform, player.playerId, 12);
    const later = await p.platform.http.get('/v1/wallet/deposit-limits', player.accessToken);
    assert.equal(later.body.weekly.amountMinor, '20000');
    assert.equal(later.body.weekly.pending, null);
    assert.equal((await pay(player.accessToken, '5000')).status, 201);

    const removed = await setLimits(p.platform, player.accessToken, { weekly: null });
    assert.equal(removed.body.weekly.amountMinor, '20000');
    assert.equal(removed.body.weekly.pending.amountMinor, null);
    await ageLimitRequests(p.platform, player.playerId, 24);
    assert.equal((await p.platform.http.get('/v1/wallet/deposit-limits', player.accessToken)).body.weekly.amountMinor, null);
  });

  it('when a lower limit is set while an increase is pending, then the increase is cancelled', async () => {
    const player = await newPlayer(p.platform);
    await setLimits(p.platform, player.accessToken, { monthly: '10000' });
    await setLimits(p.platform, player.accessToken, { monthly: '50000' });
    const lowered = await setLimits(p.platform, player.accessToken, { monthly: '8000' });
    assert.equal(lowered.body.monthly.amountMinor, '8000');
    assert.equal(lowered.body.monthly.pending, null);
    await ageLimitRequests(p.platform, player.playerId, 25);
    assert.equal((await p.platform.http.get('/v1/wallet/deposit-limits', player.accessToken)).body.monthly.amountMinor, '8000');
  });

  it('when a limit is 0, then every deposit is refused', async () => {
    const player = await newPlayer(p.platform);
    assert.equal((await setLimits(p.platform, player.accessToken, { daily: '0' })).status, 200);
    const res = await pay(player.accessToken, '1');
    assert.equal(res.status, 409);
    assert.equal(res.body.remainingMinor, '0');
  });

  it('when several limits apply, then the lowest remaining one wins', async () => {
    const player = await newPlayer(p.platform);
    await setLimits(p.platform, player.accessToken, { daily: '3000', weekly: '4000', monthly: '100000' });
    assert.equal((await pay(player.accessToken, '2500')).status, 201);
    // Yesterday's deposits leave the daily window but stay in the weekly one.
    await ageDeposits(p.platform, player.playerId, 25);
    const res = await pay(player.accessToken, '2000');
    assert.equal(res.status, 409);
    assert.equal(res.body.limit, 'weekly');
    assert.equal(res.body.remainingMinor, '1500');
    assert.equal((await pay(player.accessToken, '1500')).status, 201);
  });

  it('when deposits race a limit, then together they never exceed it', async () => {
    const player = await newPlayer(p.platform);
    await setLimits(p.platform, player.accessToken, { daily: '10000' });
    const results = await Promise.all(Array.from({ length: 12 }, () => pay(player.accessToken, '3000')));
    const accepted = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    assert.equal(accepted.length, 3, JSON.stringify(results.map((r) => r.status)));
    assert.equal(refused.length, 9);
    assert.ok(refused.every((r) => r.body.code === 'deposit-limit-reached'));
    assert.equal(await wallet(p.platform, player.playerId), 9000n);
  });

  it('when the request is malformed, then it is a 400 problem', async () => {
    const player = await newPlayer(p.platform);
    assert.equal((await setLimits(p.platform, player.accessToken, {})).status, 400);
    assert.equal((await setLimits(p.platform, player.accessToken, { daily: '-5' })).status, 400);
    assert.equal((await setLimits(p.platform, player.accessToken, { daily: 500 })).status, 400);
    assert.equal((await setLimits(p.platform, player.accessToken, { hourly: '5' })).status, 400);
    assert.equal((await setLimits(p.platform, player.accessToken, { daily: '5', currency: 'EUR' })).status, 400);
    assert.equal((await p.platform.http.request('PUT', '/v1/wallet/deposit-limits', { body: { daily: '5' } })).status, 401);
  });
});
