/**
 * Crash safety: a purchase left between steps (as a process that died there would leave it) is
 * finished by the recovery job — voided when no ticket was issued, posted when tickets were, and
 * its tickets voided when the reservation expired first — or resumed by the client's retry.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import { ticketingModuleWithCrashes } from '@verity/ticketing/testing';
import {
  PRICE_MINOR, buy, expectProblem, expectStatus, fundedPlayer, onSaleCompetition, outboxEvents, passToken, readBooks, startTicketingPlatform, walletOf, type Player, type TicketingPlatform,
} from './support/platform.ts';

/** The next purchase of these players stops after the named step (as if the process died there). */
const crashOf = new Map<string, 'reserve' | 'issue'>();

const crashes = ticketingModuleWithCrashes({
  afterReserve: (p) => crashOf.get(p.playerId) === 'reserve',
  afterIssue: (p) => crashOf.get(p.playerId) === 'issue',
});

async function crashingPurchase(tp: TicketingPlatform, step: 'reserve' | 'issue', player: Player, id: string, body: Record<string, unknown>, key: string) {
  crashOf.set(player.playerId, step);
  try {
    const res = await buy(tp, player, id, body, key);
    assert.equal(res.status, 500, `the simulated crash: ${JSON.stringify(res.body)}`);
  } finally {
    crashOf.delete(player.playerId);
  }
  return tp.p.db.one<{ id: string; state: string }>('select id, state from ticketing.purchases where player_id = $1 and idempotency_key = $2', [player.playerId, key]);
}

/** Waits until the purchase is older than the recovery threshold (database time). */
async function stuckFor(tp: TicketingPlatform, purchaseId: string, seconds: number): Promise<void> {
  await waitFor(async () => (await tp.p.db.one<{ age: number }>('select extract(epoch from clock_timestamp() - created_at)::float8 as age from ticketing.purchases where id = $1', [purchaseId])).age > seconds, { what: 'the purchase to be stuck', timeoutMs: 20_000 });
}

function suite(name: string, env: Record<string, string>, body: (get: () => TicketingPlatform) => void) {
  describe(name, () => {
    let tp: TicketingPlatform;
    before(async () => {
      tp = await startTicketingPlatform({ env, ticketing: crashes });
    });
    after(() => tp?.p.stop());
    body(() => tp);
  });
}

const runRecovery = async (tp: TicketingPlatform) => {
  const jobId = await tp.p.bus.jobsFor('ticketing').enqueue('purchase-recovery', {});
  await waitFor(async () => (await tp.p.db.maybeOne(`select 1 from pgboss.job where id = $1 and state = 'completed'`, [jobId])) !== undefined, { what: 'the recovery run' });
};

// Recovery treats a purchase older than this as abandoned, and its cron runs every minute: it must
// exceed how long a live purchase can take on a loaded machine, or the cron may void one in flight.
suite('purchase recovery', { TICKETING_RECOVERY_AFTER_S: '5' }, (get) => {
  it('when a purchase crashed after reserving the wallet, then recovery voids it, the hold is released and a retry with its key is told it was interrupted', async () => {
    const tp = get();
    const id = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const key = randomUUID();
    const body = { quantity: 1, skillToken: await passToken(tp, player, id) };
    const stuck = await crashingPurchase(tp, 'reserve', player, id, body, key);
    assert.equal(stuck.state, 'pending');
    assert.equal((await walletOf(tp, player.playerId)).reservedMinor, PRICE_MINOR);
    await stuckFor(tp, stuck.id, 5.1);
    await runRecovery(tp);
    assert.equal((await tp.p.db.one<{ state: string }>('select state from ticketing.purchases where id = $1', [stuck.id])).state, 'voided');
    await waitFor(async () => (await walletOf(tp, player.playerId)).reservedMinor === 0n, { what: 'the hold released' });
    assert.equal((await walletOf(tp, player.playerId)).postedMinor, 10_000n);
    expectProblem(await buy(tp, player, id, body, key), 409, 'purchase-interrupted');
  });

  it('when a purchase crashed after reserving and the client retries with the same key, then the retry finishes it once', async () => {
    const tp = get();
    const id = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const key = randomUUID();
    const body = { quantity: 2, skillToken: await passToken(tp, player, id) };
    const stuck = await crashingPurchase(tp, 'reserve', player, id, body, key);
    // Within the lease the first request may still be running: the retry waits; after it, it resumes.
    const retried = expectStatus(await buy(tp, player, id, body, key), 201, 'retry');
    assert.equal(retried.purchaseId, stuck.id);
    assert.equal(retried.tickets.length, 2);
    await waitFor(async () => (await walletOf(tp, player.playerId)).postedMinor === 10_000n - 2n * PRICE_MINOR, { what: 'one charge' });
    assert.equal((await walletOf(tp, player.playerId)).reservedMinor, 0n);
  });

  it('when a purchase crashed after issuing its tickets, then recovery posts it: the tickets stay and the wallet is charged once', async () => {
    const tp = get();
    const id = await onSaleCompetition(tp);
    const player = await fundedPlayer(tp, 10_000n);
    const stuck = await crashingPurchase(tp, 'issue', player, id, { quantity: 1, skillToken: await passToken(tp, player, id) }, randomUUID());
    assert.equal(stuck.state, 'issued');
    await stuckFor(tp, stuck.id, 5.1);
    await runRecovery(tp);
    assert.equal((await tp.p.db.one<{ state: string }>('select state from ticketing.purchases where id = $1', [stuck.id])).state, 'posted');
    assert.equal((await walletOf(tp, player.playerId)).postedMinor, 10_000n - PRICE_MINOR);
    assert.equal((await tp.p.db.query(`select 1 from ticketing.tickets where purchase_id = $1 and state = 'valid'`, [stuck.id])).length, 1);
    await runRecovery(tp);
    assert.equal((await walletOf(tp, player.playerId)).postedMinor, 10_000n - PRICE_MINOR);
  });
});

// The reservation outlives its 2 s before recovery may touch the purchase (4 s): it expires first.
suite('purchase recovery after the reservation expired', { TICKETING_RECOVERY_AFTER_S: '4', TICKETING_RESERVATION_TIMEOUT_S: '2' }, (get) => {
  it('when the reservation of an issued purchase expired before it was posted, then recovery voids its tickets, gives the numbers back and announces it', async () => {
    const tp = get();
    const id = await onSaleCompetition(tp, { maxTickets: 100 });
    const player = await fundedPlayer(tp, 10_000n);
    const stuck = await crashingPurchase(tp, 'issue', player, id, { quantity: 3, skillToken: await passToken(tp, player, id) }, randomUUID());
    await waitFor(async () => (await tp.p.db.maybeOne(`select 1 from payments.transfers where id = (select reservation_id from ticketing.purchases where id = $1) and state = 'expired'`, [stuck.id])) !== undefined, { what: 'the reservation to expire', timeoutMs: 20_000 });
    await stuckFor(tp, stuck.id, 4.1);
    await runRecovery(tp);
    assert.equal((await tp.p.db.one<{ state: string }>('select state from ticketing.purchases where id = $1', [stuck.id])).state, 'voided');
    assert.equal((await tp.p.db.query(`select 1 from ticketing.tickets where purchase_id = $1 and state = 'voided' and void_reason = 'reservation-expired'`, [stuck.id])).length, 3);
    const voided = (await outboxEvents(tp.p.db, 'ticketing.tickets-voided.v1')).filter((e) => e.purchaseId === stuck.id);
    assert.equal(voided.length, 1);
    assert.equal(voided[0]!.reason, 'reservation-expired');
    assert.equal(Number((await tp.p.db.one<{ sold: bigint }>('select sum(sold)::bigint as sold from ticketing.number_shards where competition_id = $1', [id])).sold), 0);
    assert.deepEqual(await walletOf(tp, player.playerId), { ...(await walletOf(tp, player.playerId)), postedMinor: 10_000n, reservedMinor: 0n });
    const books = await readBooks(tp.p.db);
    assert.deepEqual(books, { entriesSum: 0n, balanceMismatches: 0, holdMismatches: 0, negativeWallets: 0 });
  });
});
