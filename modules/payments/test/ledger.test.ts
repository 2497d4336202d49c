import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';
import { operatorSession, playerToken } from '@verity/identity/testing';
import { LedgerEvents } from '../src/ledger/contracts.ts';
import { deposit, eventsOf, houseOf, readBooks, startLedgerPlatform, walletOf, type LedgerPlatform } from './support/ledger.ts';

/** Asserts that `promise` fails with a DomainError of this code (and status). */
async function refused(promise: Promise<unknown>, code: string, status?: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isDomainError(err), `expected a DomainError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    if (status !== undefined) assert.equal(err.status, status);
    return true;
  });
}

/** Asserts that SQL run past the service fails with this SQLSTATE. */
async function sqlRefused(promise: Promise<unknown>, sqlstate: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: string }).code, sqlstate, String(err));
    if (message) assert.match((err as Error).message, message);
    return true;
  });
}

describe('ledger: two-phase purchases, retries and the invariants the database holds', () => {
  let p: LedgerPlatform;
  const competitionId = randomUUID();
  before(async () => {
    p = await startLedgerPlatform();
  });
  after(async () => {
    await p?.platform.stop();
  });

  /** A fresh player with `amount` in the wallet. */
  async function funded(amountMinor: bigint): Promise<string> {
    const playerId = randomUUID();
    await deposit(p.ledger, playerId, amountMinor);
    return playerId;
  }
  const reserve = (playerId: string, amountMinor: bigint, extra: { transferId?: string; timeoutS?: number; competitionId?: string } = {}) =>
    p.payments.reserve({ transferId: extra.transferId ?? randomUUID(), playerId, competitionId: extra.competitionId ?? competitionId, amountMinor, currency: 'GBP', ...(extra.timeoutS ? { timeoutS: extra.timeoutS } : {}) });

  it('when a purchase is reserved and then posted, then the wallet pays the house and each step is announced once', async () => {
    const playerId = await funded(1_000n);
    const held = await reserve(playerId, 300n);
    assert.equal(held.state, 'pending');
    assert.deepEqual(held.debit, walletOf(playerId));
    assert.ok(held.expiresAt && held.expiresAt.getTime() - held.createdAt.getTime() === 600_000, 'default timeout PAYMENTS_RESERVATION_TIMEOUT_S');
    assert.deepEqual(await p.payments.balance({ playerId, currency: 'GBP' }), {
      account: walletOf(playerId), postedMinor: 1_000n, reservedMinor: 300n, availableMinor: 700n, currency: 'GBP',
    });

    const posted = await p.payments.post({ transferId: randomUUID(), pendingTransferId: held.transferId });
    assert.equal(posted.state, 'posted');
    assert.equal(posted.pendingTransferId, held.transferId);
    assert.equal((await p.ledger.getTransfer(held.transferId))?.state, 'posted');
    const after = await p.payments.balance({ playerId, currency: 'GBP' });
    assert.equal(after.postedMinor, 700n);
    assert.equal(after.reservedMinor, 0n);
    assert.equal((await eventsOf(p.platform.db, LedgerEvents.fundsReserved, held.transferId)).length, 1);
    assert.deepEqual(await eventsOf(p.platform.db, LedgerEvents.transferPosted, held.transferId), [
      { transferId: posted.transferId, pendingTransferId: held.transferId, amountMinor: '300', currency: 'GBP' },
    ]);
  });

  it('when a call is retried with the same id and input, then it returns the first result and changes nothing', async () => {
    const playerId = await funded(1_000n);
    const transferId = randomUUID();
    const first = await reserve(playerId, 400n, { transferId });
    const again = await Promise.all([reserve(playerId, 400n, { transferId }), reserve(playerId, 400n, { transferId })]);
    for (const r of again) assert.deepEqual(r, first);
    const postId = randomUUID();
    const posted = await p.payments.post({ transferId: postId, pendingTransferId: transferId });
    assert.deepEqual(await p.payments.post({ transferId: postId, pendingTransferId: transferId }), posted);
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).postedMinor, 600n);
    assert.equal((await eventsOf(p.platform.db, LedgerEvents.fundsReserved, transferId)).length, 1);
    assert.equal((await eventsOf(p.platform.db, LedgerEvents.transferPosted, transferId)).length, 1);
  });

  it('when an id is reused with another input, then it is refused with transfer-id-reused', async () => {
    const playerId = await funded(1_000n);
    const transferId = randomUUID();
    await reserve(playerId, 100n, { transferId });
    await refused(reserve(playerId, 101n, { transferId }), 'transfer-id-reused', 409);
    await refused(p.payments.post({ transferId, pendingTransferId: transferId }), 'transfer-id-reused', 409);
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).reservedMinor, 100n);
  });

  it('when the wallet does not cover a reservation, then it is refused and nothing is held', async () => {
    const playerId = await funded(500n);
    await reserve(playerId, 300n);
    await refused(reserve(playerId, 201n), 'insufficient-funds', 409);
    await refused(reserve(randomUUID(), 1n), 'insufficient-funds', 409);
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).availableMinor, 200n);
  });

  it('when concurrent purchases race for one wallet, then exactly as many as it covers go through', async () => {
    const playerId = await funded(1_000n);
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => reserve(playerId, 100n)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'insufficient-funds');
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).availableMinor, 0n);
  });

  it('when a smaller amount is posted, then the rest of the hold returns to the wallet; more than reserved is refused', async () => {
    const playerId = await funded(1_000n);
    const held = await reserve(playerId, 500n);
    await refused(p.payments.post({ transferId: randomUUID(), pendingTransferId: held.transferId, amountMinor: 501n }), 'amount-invalid', 400);
    const posted = await p.payments.post({ transferId: randomUUID(), pendingTransferId: held.transferId, amountMinor: 200n });
    assert.equal(posted.amountMinor, 200n);
    assert.deepEqual(await p.payments.balance({ playerId, currency: 'GBP' }), {
      account: walletOf(playerId), postedMinor: 800n, reservedMinor: 0n, availableMinor: 800n, currency: 'GBP',
    });
  });

  it('when a resolved transfer is posted or voided again under a new id, then it is refused with transfer-not-pending', async () => {
    const playerId = await funded(1_000n);
    const a = await reserve(playerId, 100n);
    await p.payments.post({ transferId: randomUUID(), pendingTransferId: a.transferId });
    await refused(p.payments.post({ transferId: randomUUID(), pendingTransferId: a.transferId }), 'transfer-not-pending', 409);
    await refused(p.payments.void({ transferId: randomUUID(), pendingTransferId: a.transferId, reason: 'late' }), 'transfer-not-pending', 409);
    const b = await reserve(playerId, 100n);
    const voided = await p.payments.void({ transferId: randomUUID(), pendingTransferId: b.transferId, reason: 'tickets not issued' });
    assert.equal(voided.state, 'voided');
    await refused(p.payments.post({ transferId: randomUUID(), pendingTransferId: b.transferId }), 'transfer-not-pending', 409);
    await refused(p.payments.post({ transferId: randomUUID(), pendingTransferId: randomUUID() }), 'transfer-not-found', 404);
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).availableMinor, 900n);
    assert.equal((await eventsOf(p.platform.db, LedgerEvents.transferVoided, b.transferId)).length, 1);
  });

  it('when a reservation times out, then the timer expires it, releases the hold, and a late post is refused', async () => {
    const playerId = await funded(1_000n);
    const held = await reserve(playerId, 250n, { timeoutS: 1 });
    await waitFor(async () => (await p.ledger.getTransfer(held.transferId))?.state === 'expired', { timeoutMs: 15_000, what: 'the expiry job' });
    await refused(p.payments.post({ transferId: randomUUID(), pendingTransferId: held.transferId }), 'transfer-expired', 409);
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).availableMinor, 1_000n);
    assert.deepEqual(await eventsOf(p.platform.db, LedgerEvents.reservationExpired, held.transferId), [
      { pendingTransferId: held.transferId, amountMinor: '250', currency: 'GBP', expiresAt: held.expiresAt!.toISOString() },
    ]);
  });

  it('when a purchase is refunded in parts, then the parts never exceed the original and only purchases are refundable', async () => {
    const playerId = await funded(1_000n);
    const held = await reserve(playerId, 600n);
    const post = await p.payments.post({ transferId: randomUUID(), pendingTransferId: held.transferId });
    const r1 = await p.payments.refund({ transferId: randomUUID(), originalTransferId: held.transferId, amountMinor: 200n, reason: 'draw cancelled' });
    assert.deepEqual([r1.kind, r1.debit.type, r1.credit, r1.reversesTransferId], ['refund', 'house_sales', walletOf(playerId), post.transferId]);
    await refused(p.payments.refund({ transferId: randomUUID(), originalTransferId: post.transferId, amountMinor: 401n, reason: 'x' }), 'refund-exceeds-original', 409);
    const rest = await Promise.allSettled([1, 2, 3].map(() => p.payments.refund({ transferId: randomUUID(), originalTransferId: post.transferId, reason: 'the rest' })));
    assert.equal(rest.filter((r) => r.status === 'fulfilled').length, 1, 'one refund of the rest, the others find nothing left');
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).postedMinor, 1_000n);
    const depositId = await deposit(p.ledger, playerId, 50n);
    await refused(p.payments.refund({ transferId: randomUUID(), originalTransferId: depositId, reason: 'x' }), 'transfer-not-refundable', 409);
    const pending = await reserve(playerId, 10n);
    await refused(p.payments.refund({ transferId: randomUUID(), originalTransferId: pending.transferId, reason: 'x' }), 'transfer-not-refundable', 409);
    assert.equal((await eventsOf(p.platform.db, LedgerEvents.refunded)).filter((e) => e.originalTransferId !== undefined).length >= 2, true);
  });

  it('when a prize is credited, then the prize liability goes negative and the winner can spend it', async () => {
    const playerId = randomUUID();
    const comp = randomUUID();
    const credited = await p.payments.creditPrize({ transferId: randomUUID(), playerId, competitionId: comp, amountMinor: 5_000n, currency: 'GBP', drawId: 'draw-1' });
    assert.deepEqual([credited.kind, credited.debit.type, credited.metadata], ['prize', 'prize_liability', { drawId: 'draw-1' }]);
    assert.equal((await p.ledger.balance({ type: 'prize_liability', ownerId: comp, currency: 'GBP' })).postedMinor, -5_000n);
    await reserve(playerId, 5_000n);
    assert.deepEqual(await eventsOf(p.platform.db, LedgerEvents.prizeCredited, credited.transferId), [
      { transferId: credited.transferId, playerId, competitionId: comp, drawId: 'draw-1', amountMinor: '5000', currency: 'GBP' },
    ]);
  });

  it('when input is malformed, then it is a 400 before anything is written', async () => {
    await refused(reserve(randomUUID(), 0n), 'amount-invalid', 400);
    await refused(reserve(randomUUID(), 10n ** 16n), 'amount-invalid', 400);
    await refused(p.payments.reserve({ transferId: 'not-a-uuid', playerId: 'p', competitionId, amountMinor: 1n, currency: 'GBP' }), 'validation-failed', 400);
    await refused(p.payments.reserve({ transferId: randomUUID(), playerId: 'p', competitionId, amountMinor: 1n, currency: 'gbp' }), 'validation-failed', 400);
    await refused(p.ledger.transfer({ transferId: randomUUID(), kind: 'x', debit: walletOf('a', 'GBP'), credit: walletOf('b', 'EUR'), amountMinor: 1n }), 'currency-mismatch', 400);
  });

  it('when the caller moves money inside its own transaction and then fails, then the money movement rolls back with it', async () => {
    const playerId = await funded(1_000n);
    const transferId = randomUUID();
    await assert.rejects(p.platform.db.tx(async () => {
      await reserve(playerId, 700n, { transferId });
      // Refusals inside a caller's transaction leave it usable.
      await refused(reserve(playerId, 700n), 'insufficient-funds');
      throw new Error('tickets could not be issued');
    }), /tickets could not be issued/);
    assert.equal(await p.ledger.getTransfer(transferId), undefined);
    assert.equal((await eventsOf(p.platform.db, LedgerEvents.fundsReserved, transferId)).length, 0);
    assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).availableMinor, 1_000n);
  });

  it('when a wallet history is paged, then movements come newest first, once each, with a cursor and a since filter', async () => {
    const playerId = await funded(1_000n);
    const a = await reserve(playerId, 100n);
    await p.payments.post({ transferId: randomUUID(), pendingTransferId: a.transferId, amountMinor: 60n });
    const b = await reserve(playerId, 50n);
    const page1 = await p.ledger.history(walletOf(playerId), { limit: 2 });
    assert.deepEqual(page1.items.map((i) => [i.transferId, i.state, i.amountMinor]), [[b.transferId, 'pending', -50n], [a.transferId, 'posted', -60n]]);
    assert.ok(page1.nextCursor);
    const page2 = await p.ledger.history(walletOf(playerId), { limit: 2, cursor: page1.nextCursor });
    assert.deepEqual(page2.items.map((i) => [i.kind, i.amountMinor]), [['deposit', 1_000n]]);
    assert.equal(page2.nextCursor, undefined);
    const since = await p.ledger.history(walletOf(playerId), { limit: 10, since: new Date(Date.now() + 60_000) });
    assert.deepEqual(since.items, []);
    await refused(p.ledger.history(walletOf(playerId), { limit: 2, cursor: 'bogus' }), 'validation-failed', 400);
  });

  it('when finance lists ledger accounts, then each account shows its balances with shards summed, filtered and paged', async () => {
    const comp = randomUUID();
    const players = [await funded(1_000n), await funded(1_000n), await funded(1_000n)];
    for (const playerId of players) {
      const h = await reserve(playerId, 100n, { competitionId: comp });
      await p.payments.post({ transferId: randomUUID(), pendingTransferId: h.transferId });
    }
    await reserve(players[0]!, 40n, { competitionId: comp });
    const finance = await operatorSession(p.platform, ['finance']);
    const res = await p.platform.http.get(`/v1/ledger/accounts?type=house_sales&ownerId=${comp}`, finance.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.items.length, 1);
    assert.deepEqual({ ...res.body.items[0], shards: undefined, createdAt: undefined }, {
      type: 'house_sales', ownerId: comp, currency: 'GBP', shards: undefined, createdAt: undefined,
      postedDebitsMinor: '0', postedCreditsMinor: '300', pendingDebitsMinor: '0', pendingCreditsMinor: '40', balanceMinor: '300', availableMinor: '300',
    });
    const page = await p.platform.http.get('/v1/ledger/accounts?type=player_wallet&limit=2', finance.accessToken);
    assert.equal(page.body.items.length, 2);
    const next = await p.platform.http.get(`/v1/ledger/accounts?type=player_wallet&limit=2&cursor=${page.body.nextCursor}`, finance.accessToken);
    assert.equal(next.status, 200);
    assert.ok(next.body.items[0].ownerId > page.body.items[1].ownerId, 'key order across pages');
    const player = await playerToken(p.platform.http);
    assert.equal((await p.platform.http.get('/v1/ledger/accounts', player.accessToken)).status, 403);
    assert.equal((await p.platform.http.get('/v1/ledger/accounts')).status, 401);
  });

  describe('the database refuses what breaks the books, even from SQL that bypasses the service', () => {
    it('when entries of a transfer do not sum to zero, then the commit fails', async () => {
      const db = p.platform.db;
      const playerId = await funded(100n);
      const id = randomUUID();
      await sqlRefused(db.tx(async () => {
        const [w] = await db.query<{ id: bigint }>("select id from payments.accounts where type = 'player_wallet' and owner_id = $1", [playerId]);
        const [h] = await db.query<{ id: bigint }>("select id from payments.accounts where type = 'psp_clearing' and owner_id = 'test-psp'");
        await db.query(
          `insert into payments.transfers (id, phase, kind, state, debit_account_id, credit_account_id, amount, currency, input_hash)
           values ($1, 'single', 'bypass', 'posted', $2, $3, 10, 'GBP', sha256('x'))`, [id, h!.id, w!.id]);
        await db.query("insert into payments.entries (transfer_id, account_id, amount, currency) values ($1, $2, -10, 'GBP'), ($1, $3, 9, 'GBP')", [id, h!.id, w!.id]);
      }), '23514', /do not sum to zero/);
      assert.equal(await p.ledger.getTransfer(id), undefined);
    });

    it('when posted entries or transfers are updated or deleted, then the statement fails', async () => {
      const db = p.platform.db;
      const playerId = await funded(100n);
      const held = await reserve(playerId, 10n);
      await p.payments.post({ transferId: randomUUID(), pendingTransferId: held.transferId });
      await sqlRefused(db.query('update payments.entries set amount = amount * 2'), '23000', /append-only/);
      await sqlRefused(db.query('delete from payments.entries'), '23000', /append-only/);
      await sqlRefused(db.query('delete from payments.transfers where id = $1', [held.transferId]), '23000');
      await sqlRefused(db.query('update payments.transfers set amount = 1 where id = $1', [held.transferId]), '23000', /immutable/);
      await sqlRefused(db.query("update payments.transfers set state = 'voided' where id = $1", [held.transferId]), '23000', /immutable/);
      await sqlRefused(db.query("update payments.accounts set owner_id = 'someone-else' where owner_id = $1", [playerId]), '23000');
    });

    it('when SQL writes a transfer naming an account or a hold that does not exist, then the statement fails', async () => {
      const db = p.platform.db;
      const playerId = await funded(100n);
      const [w] = await db.query<{ id: bigint }>("select id from payments.accounts where type = 'player_wallet' and owner_id = $1", [playerId]);
      const [h] = await db.query<{ id: bigint }>("select id from payments.accounts where type = 'psp_clearing' and owner_id = 'test-psp'");
      const insert = (id: string, debit: bigint, credit: bigint, currency: string, pendingId: string | null) => db.query(
        `insert into payments.transfers (id, phase, kind, state, debit_account_id, credit_account_id, amount, currency, pending_id, input_hash)
         values ($1, $5, 'bypass', $6, $2, $3, 10, $4, $7, sha256('x'))`,
        [id, debit, credit, currency, pendingId ? 'void' : 'single', pendingId ? 'voided' : 'posted', pendingId]);
      await sqlRefused(insert(randomUUID(), h!.id, 999_999_999n, 'GBP', null), '23503', /transfers_references/);
      await sqlRefused(insert(randomUUID(), h!.id, w!.id, 'EUR', null), '23503', /transfers_references/);
      await sqlRefused(insert(randomUUID(), h!.id, w!.id, 'GBP', randomUUID()), '23503', /transfers_references/);
      assert.equal((await p.payments.balance({ playerId, currency: 'GBP' })).postedMinor, 100n);
    });

    it('when SQL would take a wallet below zero, then the row check refuses it', async () => {
      const db = p.platform.db;
      const playerId = await funded(100n);
      await sqlRefused(
        db.query("update payments.accounts set posted_debits = posted_debits + 101 where type = 'player_wallet' and owner_id = $1", [playerId]),
        '23514', /accounts_wallet_floor/,
      );
      await sqlRefused(
        db.query("update payments.accounts set pending_debits = pending_debits + 101 where type = 'player_wallet' and owner_id = $1", [playerId]),
        '23514', /accounts_wallet_floor/,
      );
    });

    it('when all of the above ran, then the books still balance', async () => {
      const books = await readBooks(p.platform.db);
      assert.deepEqual(books, { entrySums: { GBP: 0n }, balanceMismatches: 0, holdMismatches: 0, unbalancedTransfers: 0, negativeWallets: 0 });
      void houseOf;
    });
  });
});
