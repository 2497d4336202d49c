/**
 * An operator runs draws through HTTP (runDraw: draws:run, MFA, step-up, Idempotency-Key), with an
 * injected clock the beacon sandbox follows: refused before the snapshot and before round R exists,
 * run once it does; a round that could not be had in its window falls back to the next committed
 * round; past every window the draw fails. The verifier accepts the fallback and says so.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyBundle } from '@verity/evidence';
import { playerToken } from '@verity/identity/testing';
import { drawManager, expectProblem, offsetClock, startWithStandIn, waitForDrawState, type DrawsPlatform } from './support/platform.ts';
import type { StandInCompetition, TicketingStandIn } from './support/ticketing-stand-in.ts';

const TIERS = [{ tier: 1, description: '£10 cash', winners: 1, cashMinor: '1000', currency: 'GBP' }];
// Period 1 s: R is produced ~31 s after close; each round's window is 30 s; two fallbacks.
const CONFIG = { drawsMarginRounds: 30, drawsRoundWindowS: 30, drawsFallbackRounds: 2 };

describe('runDraw (operator, injected clock)', () => {
  const clock = offsetClock();
  let dp: DrawsPlatform & { ticketing: TicketingStandIn };
  let token: string;
  const comps: StandInCompetition[] = [];
  const run = (competitionId: string, key: string = randomUUID(), t = token) =>
    dp.platform.http.post(`/v1/competitions/${competitionId}/draw/run`, undefined, t, { 'idempotency-key': key });

  before(async () => {
    dp = await startWithStandIn({ clock, config: CONFIG });
    token = (await drawManager(dp.platform)).accessToken;
    const closesAt = new Date(Date.now() + 3_000);
    for (let i = 0; i < 3; i++) comps.push(await dp.ticketing.publish({ closesAt, tiers: TIERS }));
    for (const c of comps) {
      await waitForDrawState(dp, c.competitionId, ['committed']);
      await dp.ticketing.buy(c.competitionId, randomUUID(), 4);
    }
  });
  after(() => dp?.stop());

  it('when the competition has not closed, then runDraw is refused: the draw is not snapshotted', async () => {
    expectProblem(await run(comps[0]!.competitionId), 409, 'draw-not-ready');
    expectProblem(await run(randomUUID()), 404, 'draw-not-found');
    const player = await playerToken(dp.platform.http);
    assert.equal((await run(comps[0]!.competitionId, randomUUID(), player.accessToken)).status, 403);
    const noKey = await dp.platform.http.post(`/v1/competitions/${comps[0]!.competitionId}/draw/run`, undefined, token);
    assert.equal(noKey.status, 400);
  });

  it('when round R has not been produced yet, then runDraw says when it will be; once it exists, the draw runs once', async () => {
    for (const c of comps) await dp.ticketing.close(c.competitionId);
    for (const c of comps) await waitForDrawState(dp, c.competitionId, ['snapshotted']);
    const c = comps[0]!;
    const early = await run(c.competitionId);
    expectProblem(early, 409, 'beacon-round-not-yet-available');
    const d = (await dp.draws.getDraw({ competitionId: c.competitionId }))!;
    assert.equal(early.body.round, d.beaconRound);
    assert.equal(early.body.availableAt, d.roundAvailableAt);

    clock.advance(35_000);
    const key = randomUUID();
    const ran = await run(c.competitionId, key);
    assert.equal(ran.status, 202, JSON.stringify(ran.body));
    assert.equal(ran.body.state, 'snapshotted');
    const drawn = await waitForDrawState(dp, c.competitionId, ['drawn', 'settled']);
    const again = await run(c.competitionId, key);
    assert.deepEqual([again.status, again.body], [202, ran.body], 'the same key replays the answer');
    const later = await run(c.competitionId);
    assert.deepEqual([later.status, later.body.resultHash], [200, drawn.resultHash], 'a new key finds it drawn: the same result');
    const bundle = (await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/evidence`)).body;
    assert.equal(bundle.result.beacon.round, d.beaconRound);
    assert.equal(verifyBundle(bundle).ok, true);
  });

  it('when round R could not be had within its window, then the first fallback round is used and the verifier says so', async () => {
    clock.advance(30_000); // R's window has ended; fallback 1 (R + 30) exists
    const c = comps[1]!;
    const ran = await run(c.competitionId);
    assert.equal(ran.status, 202, JSON.stringify(ran.body));
    await waitForDrawState(dp, c.competitionId, ['drawn', 'settled']);
    const bundle = (await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/evidence`)).body;
    assert.equal(bundle.result.beacon.round, bundle.manifest.beacon.fallbackRounds[0]);
    const report = verifyBundle(bundle);
    assert.equal(report.ok, true);
    assert.match(report.checks.find((x) => x.name === 'beacon round')!.detail, /FALLBACK round/);
  });

  it('when every committed round\'s window has passed, then the draw fails and is never drawn', async () => {
    clock.advance(60_000);
    const c = comps[2]!;
    assert.equal((await run(c.competitionId)).status, 202, 'accepted: the job finds no round left and fails the draw');
    const d = await waitForDrawState(dp, c.competitionId, ['failed']);
    assert.match(d.failureReason!, /could not be obtained/);
    expectProblem(await dp.platform.http.get(`/v1/competitions/${c.competitionId}/draw/evidence`), 409, 'draw-not-drawn');
    expectProblem(await run(c.competitionId), 409, 'draw-not-ready');
  });
});
