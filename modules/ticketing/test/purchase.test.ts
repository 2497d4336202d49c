/**
 * Purchases through HTTP on real PostgreSQL with the real payments, compliance and skill modules:
 * the happy path, idempotent retries, and each refusal as its own problem+json.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  PRICE_MINOR, buy, expectProblem, expectStatus, fundedPlayer, onSaleCompetition, outboxEvents, passToken, readBooks, readyDraft, startTicketingPlatform, walletOf,
  type TicketingPlatform,
} from './support/platform.ts';

describe('purchases', () => {
  let tp: TicketingPlatform;
  before(async () => {
    tp = await startTicketingPlatform();
  });
  after(() => tp?.p.stop());

  it('when a funded, eligible player buys two lucky-dip tickets with a pass, then the tickets are issued and the wallet is charged once', async () => {
    const competitionId = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const token = await passToken(tp, player, competitionId);
    const res = await buy(tp, player, competitionId, { quantity: 2, skillToken: token });
    const body = expectStatus(res, 201, 'purchaseTickets');
    assert.equal(body.tickets.length, 2);
    assert.equal(body.amountMinor, String(2n * PRICE_MINOR));
    assert.ok(body.tickets.every((t: any) => t.number >= 1 && t.number <= 1000 && /^[0-9a-f]{64}$/.test(t.holderSalt)));
    await waitFor(async () => (await walletOf(tp, player.playerId)).postedMinor === 10_000n - 2n * PRICE_MINOR, { what: 'the purchase to be posted' });
    const mine = expectStatus(await tp.p.http.get(`/v1/me/tickets?competitionId=${competitionId}`, player.accessToken), 200, 'listMyTickets');
    assert.deepEqual(mine.items.map((t: any) => t.number).sort(), body.tickets.map((t: any) => t.number).sort());
    const events = (await outboxEvents(tp.p.db, 'ticketing.tickets-purchased.v1')).filter((e) => e.purchaseId === body.purchaseId);
    assert.equal(events.length, 1);
    const c = expectStatus(await tp.p.http.get(`/v1/competitions/${competitionId}`), 200, 'getCompetition');
    assert.equal(c.ticketsSold, 2);
    assert.equal(c.ticketsRemaining, 998);
    const books = await readBooks(tp.p.db);
    assert.equal(books.entriesSum, 0n);
    assert.equal(books.balanceMismatches + books.holdMismatches + books.negativeWallets, 0);
  });

  it('when a purchase is retried with the same Idempotency-Key, then it is one purchase; another body with that key is a 422', async () => {
    const competitionId = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const token = await passToken(tp, player, competitionId);
    const key = randomUUID();
    const body = { quantity: 1, skillToken: token };
    const [a, b] = await Promise.all([buy(tp, player, competitionId, body, key), buy(tp, player, competitionId, body, key)]);
    const c = await buy(tp, player, competitionId, body, key);
    for (const r of [a, b, c]) expectStatus(r, 201, 'purchase retry');
    assert.equal(new Set([a, b, c].map((r) => r.body.purchaseId)).size, 1);
    assert.equal(c.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(c.body.tickets.map((t: any) => t.ticketId), a.body.tickets.map((t: any) => t.ticketId));
    expectProblem(await buy(tp, player, competitionId, { quantity: 2, skillToken: token }, key), 422, 'idempotency-key-reused');
    await waitFor(async () => (await walletOf(tp, player.playerId)).postedMinor === 10_000n - PRICE_MINOR, { what: 'one purchase posted' });
    const rows = await tp.p.db.query('select 1 from ticketing.tickets where player_id = $1', [player.playerId]);
    assert.equal(rows.length, 1);
  });

  it('when a pass token is used twice, then the second purchase is refused skill-token-used and its reservation is released', async () => {
    const competitionId = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const token = await passToken(tp, player, competitionId);
    expectStatus(await buy(tp, player, competitionId, { quantity: 1, skillToken: token }), 201, 'first purchase');
    expectProblem(await buy(tp, player, competitionId, { quantity: 1, skillToken: token }), 409, 'skill-token-used');
    await waitFor(async () => {
      const w = await walletOf(tp, player.playerId);
      return w.postedMinor === 10_000n - PRICE_MINOR && w.reservedMinor === 0n;
    }, { what: 'one charge and no hold left' });
  });

  it('when a purchase would go over the per-player cap, then it is refused player-cap-reached with the allowance left', async () => {
    const competitionId = await onSaleCompetition(tp, { perPlayerCap: 3 });
    const player = await fundedPlayer(tp, 10_000n);
    expectStatus(await buy(tp, player, competitionId, { quantity: 2, skillToken: await passToken(tp, player, competitionId) }), 201, 'first purchase');
    const over = expectProblem(await buy(tp, player, competitionId, { quantity: 2, skillToken: await passToken(tp, player, competitionId) }), 409, 'player-cap-reached');
    assert.equal(over.remaining, 1);
    const farOver = expectProblem(await buy(tp, player, competitionId, { quantity: 4, skillToken: await passToken(tp, player, competitionId) }), 409, 'player-cap-reached');
    assert.equal(farOver.remaining, 1);
    await waitFor(async () => (await walletOf(tp, player.playerId)).reservedMinor === 0n, { what: 'holds released' });
    assert.equal((await walletOf(tp, player.playerId)).postedMinor, 10_000n - 2n * PRICE_MINOR);
  });

  it('when the player self-excluded, then a purchase is refused not-eligible with the reason', async () => {
    const competitionId = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const token = await passToken(tp, player, competitionId);
    expectStatus(await tp.p.http.post('/v1/safer-gambling/self-exclusion', { months: 6 }, player.accessToken, { 'idempotency-key': randomUUID() }), 201, 'selfExclude');
    const refused = expectProblem(await buy(tp, player, competitionId, { quantity: 1, skillToken: token }), 403, 'not-eligible');
    assert.ok(refused.reasons.includes('self-excluded'));
  });

  it('when the pass token is for another player or tampered with, then the purchase is refused skill-token-invalid', async () => {
    const competitionId = await onSaleCompetition(tp);
    const [a, b] = [await fundedPlayer(tp, 10_000n), await fundedPlayer(tp, 10_000n)];
    const tokenOfA = await passToken(tp, a, competitionId);
    assert.equal(expectProblem(await buy(tp, b, competitionId, { quantity: 1, skillToken: tokenOfA }), 403, 'skill-token-invalid').reason, 'wrong-player');
    const tampered = `${tokenOfA.slice(0, -4)}AAAA`;
    const r = expectProblem(await buy(tp, a, competitionId, { quantity: 1, skillToken: tampered }), 403, 'skill-token-invalid');
    assert.ok(['bad-signature', 'malformed'].includes(r.reason));
  });

  it('when the wallet cannot pay, then the purchase is refused insufficient-funds and no ticket exists', async () => {
    const competitionId = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 100n);
    expectProblem(await buy(tp, player, competitionId, { quantity: 1, skillToken: await passToken(tp, player, competitionId) }), 409, 'insufficient-funds');
    assert.equal((await tp.p.db.query('select 1 from ticketing.tickets where player_id = $1', [player.playerId])).length, 0);
  });

  it('when a player chooses numbers, then they get them; a taken number is refused number-taken', async () => {
    const competitionId = await onSaleCompetition(tp);
    const [a, b] = [await fundedPlayer(tp, 10_000n), await fundedPlayer(tp, 10_000n)];
    const got = expectStatus(await buy(tp, a, competitionId, { quantity: 2, numbers: [7, 900], skillToken: await passToken(tp, a, competitionId) }), 201, 'chosen numbers');
    assert.deepEqual(got.tickets.map((t: any) => t.number).sort((x: number, y: number) => x - y), [7, 900]);
    const taken = expectProblem(await buy(tp, b, competitionId, { quantity: 1, numbers: [900], skillToken: await passToken(tp, b, competitionId) }), 409, 'number-taken');
    assert.deepEqual(taken.numbers, [900]);
    expectProblem(await buy(tp, b, competitionId, { quantity: 1, numbers: [1001], skillToken: await passToken(tp, b, competitionId) }), 400, 'validation-failed');
  });

  it('when the competition is not on sale yet or does not exist, then the purchase is refused competition-not-on-sale or competition-not-found', async () => {
    const { http } = tp.p;
    const competitionId = await readyDraft(tp, { opensAt: new Date(Date.now() + 3_600_000), closesAt: new Date(Date.now() + 7_200_000) });
    expectStatus(await http.post(`/v1/competitions/${competitionId}/publish`, undefined, tp.manager.accessToken), 200, 'publish');
    await tp.ticketing.recordDrawManifest({ competitionId, drawId: randomUUID(), manifestHash: 'b'.repeat(64), logIndex: 2 });
    const player = await fundedPlayer(tp, 10_000n);
    const token = await passToken(tp, player, competitionId);
    const early = expectProblem(await buy(tp, player, competitionId, { quantity: 1, skillToken: token }), 409, 'competition-not-on-sale');
    assert.equal(early.state, 'scheduled');
    expectProblem(await buy(tp, player, randomUUID(), { quantity: 1, skillToken: token }), 404, 'competition-not-found');
    assert.equal((await walletOf(tp, player.playerId)).reservedMinor, 0n);
  });
});
