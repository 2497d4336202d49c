/**
 * How sales end: at the closing instant by database time (a purchase a moment late is refused,
 * whatever the close job has done), and by cancellation (every paid ticket refunded exactly once,
 * even when the refund job runs again or twice at once; postal entries voided).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  buy, expectProblem, expectStatus, fundedPlayer, houseSales, inBatches, onSaleCompetition, outboxEvents, passToken, readBooks, startTicketingPlatform,
  walletOf, type TicketingPlatform,
} from './support/platform.ts';

describe('sales end', () => {
  let tp: TicketingPlatform;
  before(async () => {
    tp = await startTicketingPlatform();
  });
  after(() => tp?.p.stop());

  it('when purchases race the closing instant, then every ticket sold was issued before closes_at by database time and every later purchase is refused competition-closed', { timeout: 120_000 }, async () => {
    const { db } = tp.p;
    const players = await inBatches(4, 4, () => fundedPlayer(tp, 50_000n));
    const id = await onSaleCompetition(tp, { closesAt: new Date(Date.now() + 12_000), perPlayerCap: 100 });
    const closesAt = (await db.one<{ closes_at: Date }>('select closes_at from ticketing.competitions where id = $1', [id])).closes_at;
    const tokens = await inBatches(players.length, players.length, async (i) => {
      const mine: string[] = [];
      for (let k = 0; k < 12; k++) mine.push(await passToken(tp, players[i]!, id));
      return mine;
    });
    // Wait (database time) until 400 ms before the close, then send one purchase every 15 ms across it.
    await waitFor(async () => (await db.now()).getTime() >= closesAt.getTime() - 400, { what: 'the last moments of sales', timeoutMs: 15_000, intervalMs: 5 });
    const sends = tokens.flatMap((mine, i) => mine.map((skillToken) => ({ player: players[i]!, skillToken })));
    const results = await Promise.all(sends.map(async (s, k) => {
      await new Promise((r) => setTimeout(r, k * 15));
      return buy(tp, s.player, id, { quantity: 1, skillToken: s.skillToken });
    }));
    const refused = results.filter((r) => r.status !== 201);
    assert.ok(refused.length > 0, 'some purchases came after the close');
    assert.ok(refused.length < results.length, 'some purchases came before the close');
    for (const r of refused) expectProblem(r, 409, 'competition-closed');
    const late = await db.maybeOne(`select 1 from ticketing.tickets where competition_id = $1 and issued_at >= $2`, [id, closesAt]);
    assert.equal(late, undefined, 'no ticket issued at or after closes_at');
    const sold = results.filter((r) => r.status === 201).length;
    assert.equal(Number((await db.one<{ n: bigint }>(`select count(*) as n from ticketing.tickets where competition_id = $1`, [id])).n), sold);
    await waitFor(async () => (await walletOf(tp, players[0]!.playerId)).reservedMinor === 0n, { what: 'refused holds released' });
  });

  it('when a competition is cancelled, then every paid ticket is refunded once (a second and a duplicated refund job change nothing) and postal entries are voided', { timeout: 120_000 }, async () => {
    const { http, db } = tp.p;
    const id = await onSaleCompetition(tp, { maxTickets: 200, perPlayerCap: 10 });
    const [a, b, c] = await inBatches(3, 3, () => fundedPlayer(tp, 10_000n));
    // Chosen numbers first: a lucky dip before them could draw one of them.
    expectStatus(await buy(tp, c!, id, { quantity: 3, numbers: [5, 50, 150], skillToken: await passToken(tp, c!, id) }), 201, 'c chooses');
    expectStatus(await buy(tp, a!, id, { quantity: 2, skillToken: await passToken(tp, a!, id) }), 201, 'a buys');
    expectStatus(await buy(tp, b!, id, { quantity: 1, skillToken: await passToken(tp, b!, id) }), 201, 'b buys');
    expectStatus(await buy(tp, b!, id, { quantity: 1, skillToken: await passToken(tp, b!, id) }), 201, 'b buys again');
    const postal = expectStatus(await http.post(`/v1/competitions/${id}/postal-entries`, { envelopeRef: 'ENV-CANCEL-1', name: 'Pat Post', address: '1 Lane, Leeds', answer: 'London', receivedAt: new Date(Date.now() - 60_000).toISOString() }, tp.manager.accessToken), 201, 'postal');
    assert.equal(postal.status, 'valid');
    const tokenAfter = await passToken(tp, a!, id);
    await waitFor(async () => (await db.maybeOne(`select 1 from ticketing.purchases where competition_id = $1 and state = 'issued'`, [id])) === undefined, { what: 'purchases posted' });

    const cancelled = expectStatus(await http.post(`/v1/competitions/${id}/cancel`, { reason: 'The prize supplier went out of business' }, tp.manager.accessToken, { 'idempotency-key': randomUUID() }), 200, 'cancelCompetition');
    assert.equal(cancelled.state, 'cancelled');
    expectProblem(await buy(tp, a!, id, { quantity: 1, skillToken: tokenAfter }), 409, 'competition-not-on-sale');
    await waitFor(async () => (await db.one<{ n: bigint }>(`select count(*) as n from ticketing.purchases where competition_id = $1 and state = 'refunded'`, [id])).n === 4n, { what: 'every purchase refunded', timeoutMs: 20_000 });
    await waitFor(async () => (await db.maybeOne(`select 1 from ticketing.postal_entries where id = $1 and status = 'voided'`, [postal.postalEntryId])) !== undefined, { what: 'the postal entry voided' });

    // The job again, twice at once: still one refund per purchase.
    const jobs = tp.p.bus.jobsFor('ticketing');
    const again = [await jobs.enqueue('refund-cancelled', { competitionId: id }), await jobs.enqueue('refund-cancelled', { competitionId: id })];
    await waitFor(async () => (await db.query(`select 1 from pgboss.job where id = any($1::uuid[]) and state = 'completed'`, [again])).length === 2, { what: 'the repeated refund jobs', timeoutMs: 20_000 });

    const refunds = await db.query<{ n: bigint }>(
      `select (select count(*) from payments.transfers r where r.kind = 'refund'
                 and (r.reverses_id = p.reservation_id or r.reverses_id in (select t.id from payments.transfers t where t.pending_id = p.reservation_id))) as n
         from ticketing.purchases p where p.competition_id = $1 and p.state = 'refunded'`,
      [id],
    );
    assert.deepEqual(refunds.map((r) => r.n), [1n, 1n, 1n, 1n]);
    for (const p of [a!, b!, c!]) assert.deepEqual(await walletOf(tp, p.playerId), { ...(await walletOf(tp, p.playerId)), postedMinor: 10_000n, reservedMinor: 0n });
    assert.equal(await houseSales(db, id), 0n);
    assert.equal((await db.query(`select 1 from ticketing.tickets where competition_id = $1 and state = 'valid'`, [id])).length, 0);
    const voided = (await outboxEvents(db, 'ticketing.tickets-voided.v1')).filter((e) => e.competitionId === id);
    assert.equal(voided.filter((e) => e.purchaseId).length, 4);
    assert.equal(voided.filter((e) => !e.purchaseId).flatMap((e) => e.ticketIds).length, 1);
    assert.equal((await outboxEvents(db, 'ticketing.competition-cancelled.v1')).filter((e) => e.competitionId === id).length, 1);
    const books = await readBooks(db);
    assert.deepEqual(books, { entriesSum: 0n, balanceMismatches: 0, holdMismatches: 0, negativeWallets: 0 });
  });
});
