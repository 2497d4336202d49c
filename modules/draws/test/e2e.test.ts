/**
 * The end-to-end draw (issue 6): a competition with paid tickets (bought through HTTP by verified,
 * funded players who passed the skill test) and free postal entries → manifest committed before
 * sales → close → beacon round from the local sandbox → draw → the evidence bundle downloaded over
 * HTTP and verified by the standalone verifier (library and `verity verify` CLI); one changed byte
 * anywhere fails it; a player's entry inclusion proof verifies; cash prizes are credited once to the
 * winners' wallets, and redelivered events change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DrawEvents } from '@verity/draws';
import type { PaymentsService } from '@verity/payments';
import { drawEvents, drawsQueuesIdle, replayAll, waitForDrawState } from './support/platform.ts';
import { buyTickets, CASH_TIERS, expectStatus, fundedPlayer, postalEntry, publishedCompetition, startE2E, waitForCompetition, PRICE_MINOR, type E2E, type Player } from './support/e2e.ts';
import { bundleChecks, entryProofChecks } from './support/verify.ts';

const FUNDS = 10_000n;
// Sandbox chain of 1-second rounds; R = 8 rounds after the close (time for ticketing's close job).
const CONFIG = { drawsMarginRounds: 8, drawsRoundWindowS: 60, drawsFallbackRounds: 2 };

describe('end-to-end draw (real ticketing, skill, payments; local beacon sandbox)', { timeout: 300_000 }, () => {
  let e: E2E;
  before(async () => {
    e = await startE2E(CONFIG);
  });
  after(() => e?.stop());

  it('when tickets are sold and postal entries recorded, then the draw is committed, run at its round, verified offline, and cash prizes are credited once', async () => {
    const players = await Promise.all([fundedPlayer(e, FUNDS), fundedPlayer(e, FUNDS), fundedPlayer(e, FUNDS)]);
    const competitionId = await publishedCompetition(e, new Date(Date.now() + 20_000));

    // Committed before sales: ticketing opens the competition only once the manifest is recorded.
    await waitForCompetition(e, competitionId, 'on_sale');
    const manifest = expectStatus(await e.p.http.get(`/v1/competitions/${competitionId}/draw/manifest`), 200, 'getDrawManifest');
    const competition = (await e.ticketing.getCompetition({ competitionId }))!;
    assert.deepEqual(competition.drawManifest, { drawId: manifest.drawId, manifestHash: manifest.manifestHash, logIndex: manifest.log.leafIndex });
    assert.deepEqual(manifest.manifest.prizeTiers.map((t: any) => [t.tier, t.cashMinor, t.currency]), [[1, '10000', 'GBP'], [2, '1000', 'GBP']]);
    assert.equal(manifest.manifest.beacon.nonProduction, true);
    expectStatus(await e.p.http.get(`/v1/competitions/${competitionId}/draw/result`), 409, 'result before the draw');

    const quantities = [3, 2, 1];
    const tickets = new Map<string, Player>();
    for (const [i, player] of players.entries()) for (const t of await buyTickets(e, player, competitionId, quantities[i]!)) tickets.set(t.ticketId, player);
    const postal = [await postalEntry(e, competitionId, 1), await postalEntry(e, competitionId, 2)];
    assert.deepEqual(postal.map((x) => x.status), ['valid', 'valid']);

    await waitForCompetition(e, competitionId, 'closed', 40_000);
    const balancesBefore = await Promise.all(players.map((pl) => wallet(e, pl.playerId)));
    assert.deepEqual(balancesBefore, quantities.map((q) => FUNDS - BigInt(q) * PRICE_MINOR));

    const drawn = await waitForDrawState(e, competitionId, ['settled'], 60_000);
    assert.equal(drawn.entriesCount, 8);
    await waitForCompetition(e, competitionId, 'settled');

    // Anyone can check the draw offline from the bundle alone; any changed byte fails it.
    await bundleChecks(e, competitionId);
    // A player checks their own entry.
    const first = players[0]!;
    await entryProofChecks(e, { competitionId, entries: [...tickets].map(([entryId, pl]) => ({ entryId, playerId: pl.playerId })) }, first);

    // Cash prizes: each paid winner credited once; a postal winner's prize goes to fulfilment.
    const result = expectStatus(await e.p.http.get(`/v1/competitions/${competitionId}/draw/result`), 200, 'getDrawResult');
    assert.equal(result.winners.length, 3);
    const cashOf = new Map(CASH_TIERS.map((t) => [t.tier, BigInt(t.cashMinor)]));
    const expected = players.map(() => 0n);
    let postalWinners = 0;
    for (const w of result.winners) {
      const owner = tickets.get(w.ticketId);
      if (owner) expected[players.indexOf(owner)]! += cashOf.get(w.tier)!;
      else postalWinners++;
      assert.equal(w.prizeState, owner ? 'credited' : 'handed-over');
    }
    const balancesAfter = await Promise.all(players.map((pl) => wallet(e, pl.playerId)));
    assert.deepEqual(balancesAfter, balancesBefore.map((b, i) => b + expected[i]!));
    const fulfil = (await drawEvents(e.p, DrawEvents.fulfilmentRequested)).filter((x) => x.competitionId === competitionId);
    assert.deepEqual(fulfil.map((x) => x.reason), Array(postalWinners).fill('no-wallet'));

    // Every event of ticketing and draws delivered again: nothing moves.
    const counts = async () => Promise.all([DrawEvents.manifestCommitted, DrawEvents.drawCompleted, DrawEvents.winnerSelected, DrawEvents.prizeCredited].map(async (t) => (await drawEvents(e.p, t)).length));
    const before = await counts();
    await replayAll(e.p, 'ticketing');
    await replayAll(e.p, 'draws');
    await drawsQueuesIdle(e.p);
    assert.deepEqual(await counts(), before);
    assert.deepEqual(await Promise.all(players.map((pl) => wallet(e, pl.playerId))), balancesAfter);
    assert.equal((await e.draws.getDraw({ competitionId }))!.resultHash, drawn.resultHash);
  });
});

async function wallet(e: E2E, playerId: string): Promise<bigint> {
  return (await e.p.service<PaymentsService>('payments').balance({ playerId, currency: 'GBP' })).postedMinor;
}
