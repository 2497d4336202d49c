/**
 * The draw life cycle against a ticketing stand-in (so the test controls sales): commit, snapshot,
 * the timer draw at round R, cash credited once, goods handed to fulfilment, settlement; and the ways
 * it stops — a reconciliation mismatch blocks it and opens a case, cancellation, redelivery.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyBundle } from '@verity/evidence';
import { playerToken } from '@verity/identity/testing';
import type { PaymentsService } from '@verity/payments';
import { waitFor } from '@verity/kernel/testing';
import { DrawEvents } from '@verity/draws';
import { drawEvents, drawManager, drawsQueuesIdle, expectProblem, replayAll, startWithStandIn, waitForDrawState, type DrawsPlatform } from './support/platform.ts';
import type { TicketingStandIn } from './support/ticketing-stand-in.ts';
import { bundleChecks, entryProofChecks } from './support/verify.ts';

const CASH = { tier: 1, description: '£250 cash', winners: 1, cashMinor: '25000', currency: 'GBP' };
const GOODS = { tier: 2, description: 'A bicycle', winners: 2 };

describe('draw life cycle (ticketing stand-in)', () => {
  let dp: DrawsPlatform & { ticketing: TicketingStandIn };
  before(async () => {
    dp = await startWithStandIn();
  });
  after(() => dp?.stop());

  const soon = (s: number) => new Date(Date.now() + s * 1000);

  it('when a random competition is published, then its manifest is logged, checkpointed and recorded by ticketing before sales', async () => {
    const c = await dp.ticketing.publish({ closesAt: soon(60), tiers: [CASH, GOODS] });
    const d = await waitForDrawState(dp, c.competitionId, ['committed']);
    assert.equal(c.manifest?.drawId, d.drawId);
    assert.equal(c.manifest?.manifestHash, d.manifestHash);
    const res = await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/manifest`);
    assert.equal(res.status, 200);
    assert.equal(res.body.manifest.winnerCount, 3);
    assert.equal(res.body.manifest.beacon.nonProduction, true);
    assert.equal(res.body.manifest.beacon.round, d.beaconRound);
    assert.equal(res.body.log.leafIndex, c.manifest?.logIndex);
    assert.ok(res.body.log.checkpoint.size > res.body.log.leafIndex, 'the checkpoint covers the manifest');
    const spot = await dp.ticketing.publish({ closesAt: soon(60), tiers: [CASH], drawKind: 'spot-the-ball' });
    await drawsQueuesIdle(dp.platform);
    assert.equal(await dp.draws.getDraw({ competitionId: spot.competitionId }), undefined, 'spot-the-ball is judged, not drawn');
  });

  it('when the competition closes, then the draw runs at round R, cash is credited once, goods go to fulfilment, and it settles', async () => {
    const c = await dp.ticketing.publish({ closesAt: soon(2), tiers: [CASH, GOODS] });
    await waitForDrawState(dp, c.competitionId, ['committed']);
    const buyer = await playerToken(dp.platform.http);
    const players = [buyer.playerId, randomUUID(), randomUUID()];
    for (const p of players) await dp.ticketing.buy(c.competitionId, p, 3);
    await dp.ticketing.postal(c.competitionId);
    await dp.ticketing.close(c.competitionId);
    const drawn = await waitForDrawState(dp, c.competitionId, ['settled'], 45_000);
    assert.deepEqual(c.calls.filter((x) => x.startsWith('mark')), ['markDrawn', 'markSettled']);
    assert.equal(c.drawn?.resultHash, drawn.resultHash);

    const bundle = await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/evidence`);
    assert.equal(bundle.status, 200);
    const report = verifyBundle(bundle.body);
    assert.equal(report.ok, true, JSON.stringify(report.checks.filter((x) => !x.ok)));
    assert.equal(report.nonProduction, true);
    assert.equal(bundle.body.close.entries.length, 10);

    await bundleChecks(dp, c.competitionId);
    await entryProofChecks(dp, c, buyer);

    const result = (await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/result`)).body;
    assert.equal(result.winners.length, 3);
    const cashWinner = result.winners.find((w: any) => w.tier === 1);
    const entry = c.entries.find((e) => e.entryId === cashWinner.ticketId)!;
    const credited = await drawEvents(dp.platform, DrawEvents.prizeCredited);
    const fulfil = (await drawEvents(dp.platform, DrawEvents.fulfilmentRequested)).filter((e) => e.competitionId === c.competitionId);
    if (entry.kind === 'paid') {
      const payments = dp.platform.service<PaymentsService>('payments');
      assert.equal((await payments.balance({ playerId: entry.playerId!, currency: 'GBP' })).postedMinor, 25_000n);
      assert.equal(credited.filter((e) => e.competitionId === c.competitionId).length, 1);
      assert.equal(fulfil.length, 2);
    } else {
      assert.equal(fulfil.length, 3, 'a postal entrant\'s cash prize goes to fulfilment');
    }

    // Every event redelivered: nothing new happens (no second draw, credit, or announcement).
    const before = { winners: (await drawEvents(dp.platform, DrawEvents.winnerSelected)).length, credited: credited.length, completed: (await drawEvents(dp.platform, DrawEvents.drawCompleted)).length };
    await replayAll(dp.platform, 'ticketing');
    await replayAll(dp.platform, 'draws');
    await drawsQueuesIdle(dp.platform);
    assert.equal((await drawEvents(dp.platform, DrawEvents.winnerSelected)).length, before.winners);
    assert.equal((await drawEvents(dp.platform, DrawEvents.prizeCredited)).length, before.credited);
    assert.equal((await drawEvents(dp.platform, DrawEvents.drawCompleted)).length, before.completed);
    if (entry.kind === 'paid') {
      assert.equal((await dp.platform.service<PaymentsService>('payments').balance({ playerId: entry.playerId!, currency: 'GBP' })).postedMinor, 25_000n, 'credited once');
    }
    assert.equal((await dp.draws.getDraw({ competitionId: c.competitionId }))!.resultHash, drawn.resultHash);
  });

  it('when the snapshot does not reconcile with sales, then the draw is blocked and a compliance case is opened', async () => {
    const manager = await drawManager(dp.platform);
    const c = await dp.ticketing.publish({ closesAt: soon(2), tiers: [CASH] });
    await waitForDrawState(dp, c.competitionId, ['committed']);
    await dp.ticketing.buy(c.competitionId, randomUUID(), 2);
    c.summaryOverride = { sold: 3 }; // ticketing says 3 sold; the snapshot lists 2
    await dp.ticketing.close(c.competitionId);
    const d = await waitForDrawState(dp, c.competitionId, ['blocked']);
    assert.match(d.blockedReason!, /snapshot has 2 entries; sales say sold 3/);
    const cases = await dp.platform.db.query<{ id: string; type: string; state: string }>('select id, type, state from compliance.cases where subject = $1', [`draw:${d.drawId}`]);
    assert.equal(cases.length, 1);
    assert.equal(cases[0]!.id, d.caseId);
    assert.equal((await drawEvents(dp.platform, DrawEvents.drawBlocked)).filter((e) => e.drawId === d.drawId).length, 1);
    const res = await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/result`);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'draw-not-drawn');

    // Fixed (ticketing's counts corrected) before R: an operator takes the snapshot again and the draw runs.
    c.summaryOverride = undefined;
    const retried = await dp.platform.http.post(`/v1/draws/${d.drawId}/snapshot`, undefined, manager.accessToken, { 'idempotency-key': randomUUID() });
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assert.equal((await waitForDrawState(dp, c.competitionId, ['settled'], 45_000)).entriesCount, 2);
    assert.equal(verifyBundle((await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/evidence`)).body).ok, true);

    const unsettled = await dp.ticketing.publish({ closesAt: soon(2), tiers: [CASH] });
    await waitForDrawState(dp, unsettled.competitionId, ['committed']);
    await dp.ticketing.buy(unsettled.competitionId, randomUUID(), 1);
    unsettled.summaryOverride = { unsettledPurchases: 1 };
    await dp.ticketing.close(unsettled.competitionId);
    assert.match((await waitForDrawState(dp, unsettled.competitionId, ['blocked'])).blockedReason!, /1 purchase\(s\) not settled/);
  });

  it('when the close snapshot is checkpointed only after round R exists, then the draw is blocked for good', async () => {
    const c = await dp.ticketing.publish({ closesAt: soon(2), tiers: [CASH] });
    await waitForDrawState(dp, c.competitionId, ['committed']);
    await dp.ticketing.buy(c.competitionId, randomUUID(), 2);
    c.listDelayMs = 5_000; // R is 3 one-second rounds after the close
    await dp.ticketing.close(c.competitionId);
    const d = await waitForDrawState(dp, c.competitionId, ['blocked']);
    assert.match(d.blockedReason!, /after beacon round \d+ was produced/);
    const manager = await drawManager(dp.platform);
    const retried = await dp.platform.http.post(`/v1/draws/${d.drawId}/snapshot`, undefined, manager.accessToken, { 'idempotency-key': randomUUID() });
    expectProblem(retried, 409, 'draw-snapshot-late');
  });

  it('when the closing time is moved past the committed round, then a case is opened while sales still run', async () => {
    const c = await dp.ticketing.publish({ closesAt: soon(60), tiers: [CASH] });
    const d = await waitForDrawState(dp, c.competitionId, ['committed']);
    await dp.ticketing.changeClosingTime(c.competitionId, new Date(new Date(d.roundAvailableAt!).getTime() + 5_000));
    const found = await waitFor(async () => dp.platform.db.maybeOne<{ summary: string }>('select summary from compliance.cases where subject = $1', [`draw:${d.drawId}`]), { what: 'the case' });
    assert.match(found.summary, /after the committed beacon round/);
    await dp.ticketing.changeClosingTime(c.competitionId, soon(50)); // still before R: nothing more
    await drawsQueuesIdle(dp.platform);
    assert.equal((await dp.platform.db.query('select 1 from compliance.cases where subject = $1', [`draw:${d.drawId}`])).length, 1);
  });

  it('when a competition is cancelled before its draw, then the draw is cancelled and never runs', async () => {
    const c = await dp.ticketing.publish({ closesAt: soon(3), tiers: [CASH] });
    await waitForDrawState(dp, c.competitionId, ['committed']);
    await dp.ticketing.cancel(c.competitionId, 'prize unavailable');
    await waitForDrawState(dp, c.competitionId, ['cancelled']);
    await dp.ticketing.close(c.competitionId);
    await drawsQueuesIdle(dp.platform);
    await waitFor(async () => (await dp.draws.getDraw({ competitionId: c.competitionId }))?.state === 'cancelled', { what: 'still cancelled' });
    assert.ok(!c.calls.includes('listEntries'), 'no snapshot of a cancelled draw');
  });
});
