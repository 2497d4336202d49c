/**
 * The surge: 1,000 concurrent purchases through HTTP for the last 100 tickets of a competition.
 * Exactly 100 are sold (never oversold, never undersold), every other buyer gets a clear sold-out
 * problem, and every wallet, the house account and the ledger as a whole agree afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  PRICE_MINOR, buy, expectStatus, fundedPlayer, houseSales, inBatches, onSaleCompetition, passToken, readBooks, startTicketingPlatform, walletOf,
  type Player, type TicketingPlatform,
} from './support/platform.ts';

const PLAYERS = 50;
const PURCHASES_PER_PLAYER = 20;
const MAX_TICKETS = 150;
const PRESOLD = 50;
const FUNDS_MINOR = 100_000n;

describe('burst', () => {
  let tp: TicketingPlatform;
  before(async () => {
    tp = await startTicketingPlatform();
  });
  after(() => tp?.p.stop());

  it('when 1,000 buyers race for the last 100 tickets, then exactly 100 are sold, the rest get sold-out, and every wallet and the ledger agree', { timeout: 170_000 }, async () => {
    const competitionId = await onSaleCompetition(tp, { maxTickets: MAX_TICKETS, perPlayerCap: PURCHASES_PER_PLAYER + PRESOLD });
    const players: Player[] = await inBatches(PLAYERS, 20, () => fundedPlayer(tp, FUNDS_MINOR));
    // The first 50 tickets go to the first player before the race.
    expectStatus(await buy(tp, players[0]!, competitionId, { quantity: PRESOLD, skillToken: await passToken(tp, players[0]!, competitionId) }), 201, 'presale');
    const tokens = await inBatches(PLAYERS, 50, async (i) => {
      const mine: string[] = [];
      for (let k = 0; k < PURCHASES_PER_PLAYER; k++) mine.push(await passToken(tp, players[i]!, competitionId));
      return mine;
    });

    const results = await Promise.all(players.flatMap((player, i) => tokens[i]!.map((skillToken) => buy(tp, player, competitionId, { quantity: 1, skillToken }))));

    const sold = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    assert.equal(sold.length, MAX_TICKETS - PRESOLD);
    assert.equal(refused.length, PLAYERS * PURCHASES_PER_PLAYER - (MAX_TICKETS - PRESOLD));
    for (const r of refused) {
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.code, 'sold-out');
      assert.equal(r.body.remaining, 0);
      assert.ok((r.headers.get('content-type') ?? '').includes('application/problem+json'));
    }
    const numbers = await tp.p.db.query<{ number: number }>(`select number from ticketing.tickets where competition_id = $1 and state = 'valid' order by number`, [competitionId]);
    assert.deepEqual(numbers.map((n) => n.number), Array.from({ length: MAX_TICKETS }, (_, i) => i + 1));

    // Money: every purchase posted, every refused hold released, each wallet charged for its tickets only.
    await waitFor(async () => (await tp.p.db.maybeOne(`select 1 from ticketing.purchases where competition_id = $1 and state in ('pending', 'issued')`, [competitionId])) === undefined, { what: 'every purchase finished', timeoutMs: 30_000 });
    const held = await tp.p.db.query<{ player_id: string; n: bigint }>(`select player_id, count(*) as n from ticketing.tickets where competition_id = $1 and state = 'valid' group by player_id`, [competitionId]);
    const ticketsOf = new Map(held.map((h) => [h.player_id, BigInt(h.n)]));
    for (const player of players) {
      const w = await walletOf(tp, player.playerId);
      assert.equal(w.reservedMinor, 0n, `holds of ${player.playerId}`);
      assert.equal(w.postedMinor, FUNDS_MINOR - PRICE_MINOR * (ticketsOf.get(player.playerId) ?? 0n), `wallet of ${player.playerId}`);
    }
    assert.equal(await houseSales(tp.p.db, competitionId), PRICE_MINOR * BigInt(MAX_TICKETS));
    const books = await readBooks(tp.p.db);
    assert.deepEqual(books, { entriesSum: 0n, balanceMismatches: 0, holdMismatches: 0, negativeWallets: 0 });
    const c = expectStatus(await tp.p.http.get(`/v1/competitions/${competitionId}`), 200, 'getCompetition');
    assert.equal(c.ticketsRemaining, 0);
  });
});
