/**
 * Model-based property test of the ledger: random sequences of deposits, transfers, prizes,
 * reservations, full and partial posts, voids, expiries (the clock moves, the sweep runs), refunds,
 * and retried calls (same id with the same input, alone or twice at once, or with another input)
 * run against the real ledger on PostgreSQL and against a small in-memory model. After every command
 * the results and every balance must match the model; after every sequence the books must balance.
 * The same runs in batches: commands submitted together share one flush (the set-based path of
 * payments.ledger_run, ADR 0006) and must each get the model's result in submission order.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createDb, createLogger, isDomainError, loadMigrations, manualClock, migrate, type Db } from '@verity/kernel';
import { createTestDatabase } from '@verity/kernel/testing';
import { paymentsModule } from '@verity/payments';
import type { AccountRef, TransferInput, TransferState, TransferView } from '../src/contract.ts';
import { createLedger, DEFAULT_BATCHING, type LedgerEngine } from '../src/ledger/ledger.ts';
import { readBooks } from './support/ledger.ts';

const PLAYERS = 3;
const NUM_RUNS = Number(process.env.LEDGER_MODEL_RUNS ?? 100);
const OPENING_DEPOSIT_MINOR = 1_000n;
const BATCHED_OPENING_DEPOSIT_MINOR = 400n;

type Call =
  | { op: 'transfer'; input: TransferInput }
  | { op: 'reserve'; input: TransferInput & { timeoutS: number } }
  | { op: 'post'; input: { transferId: string; pendingTransferId: string; amountMinor?: bigint } }
  | { op: 'void'; input: { transferId: string; pendingTransferId: string; reason: string } }
  | { op: 'refund'; input: { transferId: string; originalTransferId: string; amountMinor?: bigint } };

type Outcome = { ok: true; view: Pick<TransferView, 'transferId' | 'state' | 'amountMinor'> & { pendingTransferId?: string; reversesTransferId?: string } } | { ok: false; code: string };

interface MTransfer {
  id: string;
  key: string;
  phase: 'single' | 'pending' | 'post' | 'void';
  state: TransferState;
  amount: bigint;
  debit: string;
  credit: string;
  expiresAtMs?: number;
  pendingId?: string;
  reversesId?: string;
  postId?: string;
  refunded: bigint;
}

interface MAccount { ref: AccountRef; posted: bigint; pendingDebits: bigint; pendingCredits: bigint }

const keyOf = (ref: AccountRef) => `${ref.type}:${ref.ownerId}`;
const canonical = (call: Call) => JSON.stringify(call, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** The ledger as a reader of its contract expects it to behave. */
class Model {
  accounts = new Map<string, MAccount>();
  transfers = new Map<string, MTransfer>();
  nowMs: number;
  constructor(nowMs: number) {
    this.nowMs = nowMs;
  }

  account(ref: AccountRef): MAccount {
    const k = keyOf(ref);
    let a = this.accounts.get(k);
    if (!a) this.accounts.set(k, (a = { ref, posted: 0n, pendingDebits: 0n, pendingCredits: 0n }));
    return a;
  }
  private view(t: MTransfer): Outcome {
    return { ok: true, view: { transferId: t.id, state: t.state, amountMinor: t.amount, ...(t.pendingId ? { pendingTransferId: t.pendingId } : {}), ...(t.reversesId ? { reversesTransferId: t.reversesId } : {}) } };
  }
  private available(k: string): bigint {
    const a = this.accounts.get(k)!;
    return a.ref.type === 'player_wallet' ? a.posted - a.pendingDebits : 1n << 62n;
  }

  apply(call: Call): Outcome {
    const existing = this.transfers.get(call.input.transferId);
    if (existing) return existing.key === canonical(call) ? this.view(existing) : { ok: false, code: 'transfer-id-reused' };
    switch (call.op) {
      case 'transfer':
      case 'reserve':
        return this.open(call);
      case 'post':
      case 'void':
        return this.resolve(call);
      case 'refund':
        return this.refund(call);
    }
  }

  private open(call: Extract<Call, { op: 'transfer' | 'reserve' }>): Outcome {
    const { input } = call;
    if (keyOf(input.debit) === keyOf(input.credit)) return { ok: false, code: 'validation-failed' };
    const d = this.account(input.debit);
    const c = this.account(input.credit);
    if (this.available(keyOf(input.debit)) < input.amountMinor) return { ok: false, code: 'insufficient-funds' };
    const t: MTransfer = { id: input.transferId, key: canonical(call), phase: 'single', state: 'posted', amount: input.amountMinor, debit: keyOf(input.debit), credit: keyOf(input.credit), refunded: 0n };
    if (call.op === 'reserve') {
      Object.assign(t, { phase: 'pending', state: 'pending', expiresAtMs: this.nowMs + call.input.timeoutS * 1000 });
      d.pendingDebits += t.amount;
      c.pendingCredits += t.amount;
    } else {
      d.posted -= t.amount;
      c.posted += t.amount;
    }
    this.transfers.set(t.id, t);
    return this.view(t);
  }

  private resolve(call: Extract<Call, { op: 'post' | 'void' }>): Outcome {
    const p = this.transfers.get(call.input.pendingTransferId);
    if (!p) return { ok: false, code: 'transfer-not-found' };
    if (p.phase !== 'pending' || (p.state !== 'pending' && p.state !== 'expired')) return { ok: false, code: 'transfer-not-pending' };
    if (p.state === 'expired' || p.expiresAtMs! <= this.nowMs) return { ok: false, code: 'transfer-expired' };
    const amount = call.op === 'post' ? (call.input.amountMinor ?? p.amount) : 0n;
    if (amount > p.amount) return { ok: false, code: 'amount-invalid' };
    const d = this.accounts.get(p.debit)!;
    const c = this.accounts.get(p.credit)!;
    d.pendingDebits -= p.amount;
    c.pendingCredits -= p.amount;
    d.posted -= amount;
    c.posted += amount;
    p.state = call.op === 'post' ? 'posted' : 'voided';
    const t: MTransfer = {
      id: call.input.transferId, key: canonical(call), phase: call.op, state: p.state, amount: call.op === 'post' ? amount : p.amount,
      debit: p.debit, credit: p.credit, pendingId: p.id, refunded: 0n,
    };
    if (call.op === 'post') p.postId = t.id;
    this.transfers.set(t.id, t);
    return this.view(t);
  }

  private refund(call: Extract<Call, { op: 'refund' }>): Outcome {
    const named = this.transfers.get(call.input.originalTransferId);
    if (!named) return { ok: false, code: 'transfer-not-found' };
    const o = named.phase === 'pending' && named.state === 'posted' ? this.transfers.get(named.postId!)! : named;
    if ((o.phase !== 'single' && o.phase !== 'post') || o.reversesId) return { ok: false, code: 'transfer-not-refundable' };
    const amount = call.input.amountMinor ?? o.amount - o.refunded;
    if (amount <= 0n || o.refunded + amount > o.amount) return { ok: false, code: 'refund-exceeds-original' };
    if (this.available(o.credit) < amount) return { ok: false, code: 'insufficient-funds' };
    this.accounts.get(o.credit)!.posted -= amount;
    this.accounts.get(o.debit)!.posted += amount;
    o.refunded += amount;
    const t: MTransfer = { id: call.input.transferId, key: canonical(call), phase: 'single', state: 'posted', amount, debit: o.credit, credit: o.debit, reversesId: o.id, refunded: 0n };
    this.transfers.set(t.id, t);
    return this.view(t);
  }

  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
    for (const p of this.transfers.values()) {
      if (p.phase !== 'pending' || p.state !== 'pending' || p.expiresAtMs! > this.nowMs) continue;
      p.state = 'expired';
      this.accounts.get(p.debit)!.pendingDebits -= p.amount;
      this.accounts.get(p.credit)!.pendingCredits -= p.amount;
    }
  }
}

type Action =
  | { t: 'deposit' | 'prize'; player: number; amount: bigint }
  | { t: 'transfer'; from: number; to: number; amount: bigint }
  | { t: 'reserve'; player: number; amount: bigint; timeoutS: number }
  | { t: 'post'; ref: number; partial: bigint | null }
  | { t: 'void'; ref: number }
  | { t: 'expire'; seconds: number }
  | { t: 'refund'; ref: number; amount: bigint | null }
  | { t: 'retry'; ref: number; mutate: boolean; concurrent: boolean };

const player = fc.integer({ min: 0, max: PLAYERS - 1 });
const amount = fc.bigInt({ min: 1n, max: 400n });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('deposit' as const, 'prize' as const), player, amount }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('transfer' as const), from: player, to: player, amount }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('reserve' as const), player, amount, timeoutS: fc.integer({ min: 1, max: 900 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('post' as const), ref: fc.nat(), partial: fc.option(fc.bigInt({ min: 1n, max: 450n })) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('void' as const), ref: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const), seconds: fc.integer({ min: 1, max: 700 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('refund' as const), ref: fc.nat(), amount: fc.option(amount) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('retry' as const), ref: fc.nat(), mutate: fc.boolean(), concurrent: fc.boolean() }) },
);

async function run(ledger: LedgerEngine, call: Call): Promise<Outcome> {
  try {
    let v: TransferView;
    switch (call.op) {
      case 'transfer': v = await ledger.transfer(call.input); break;
      case 'reserve': v = await ledger.reserve(call.input); break;
      case 'post': v = await ledger.post(call.input); break;
      case 'void': v = await ledger.void(call.input); break;
      case 'refund': v = await ledger.refund(call.input); break;
    }
    return { ok: true, view: { transferId: v.transferId, state: v.state, amountMinor: v.amountMinor, ...(v.pendingTransferId ? { pendingTransferId: v.pendingTransferId } : {}), ...(v.reversesTransferId ? { reversesTransferId: v.reversesTransferId } : {}) } };
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return { ok: false, code: err.code };
  }
}

function mutated(call: Call): Call {
  const input = { ...call.input } as Record<string, unknown>;
  if (call.op === 'void') input.reason = `${call.input.reason}!`;
  else input.amountMinor = ((call.input as { amountMinor?: bigint }).amountMinor ?? 7n) + 1n;
  return { op: call.op, input } as Call;
}

/** The accounts of one property run (fresh names, so runs never share balances) and its calls. */
function scenario(openingMinor = OPENING_DEPOSIT_MINOR) {
  const run_ = randomUUID().slice(0, 8);
  const wallet = (i: number): AccountRef => ({ type: 'player_wallet', ownerId: `${run_}-p${i}`, currency: 'GBP' });
  const house: AccountRef = { type: 'house_sales', ownerId: `${run_}-c`, currency: 'GBP' };
  const clearing: AccountRef = { type: 'psp_clearing', ownerId: `${run_}-psp`, currency: 'GBP' };
  const prizes: AccountRef = { type: 'prize_liability', ownerId: `${run_}-c`, currency: 'GBP' };
  const calls: Call[] = [];
  const reserves: string[] = [];
  const ids: string[] = [];
  const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);

  const callFor = (a: Action): Call | undefined => {
    const transferId = randomUUID();
    switch (a.t) {
      case 'deposit': return { op: 'transfer', input: { transferId, kind: 'deposit', debit: clearing, credit: wallet(a.player), amountMinor: a.amount } };
      case 'prize': return { op: 'transfer', input: { transferId, kind: 'prize', debit: prizes, credit: wallet(a.player), amountMinor: a.amount } };
      // Now and then the same wallet on both sides: refused as invalid input.
      case 'transfer': return { op: 'transfer', input: { transferId, kind: 'gift', debit: wallet(a.from), credit: wallet(a.to), amountMinor: a.amount } };
      case 'reserve': return { op: 'reserve', input: { transferId, kind: 'purchase', debit: wallet(a.player), credit: house, amountMinor: a.amount, timeoutS: a.timeoutS } };
      case 'post': {
        const pendingTransferId = pick(reserves, a.ref);
        return pendingTransferId ? { op: 'post', input: { transferId, pendingTransferId, ...(a.partial !== null ? { amountMinor: a.partial } : {}) } } : undefined;
      }
      case 'void': {
        const pendingTransferId = pick(reserves, a.ref);
        return pendingTransferId ? { op: 'void', input: { transferId, pendingTransferId, reason: 'tickets not issued' } } : undefined;
      }
      case 'refund': {
        const originalTransferId = pick(ids, a.ref);
        return originalTransferId ? { op: 'refund', input: { transferId, originalTransferId, ...(a.amount !== null ? { amountMinor: a.amount } : {}) } } : undefined;
      }
      case 'retry': {
        const earlier = pick(calls, a.ref);
        return earlier && (a.mutate ? mutated(earlier) : earlier);
      }
      case 'expire': return undefined;
    }
  };
  /** Later calls may name this one (post its reservation, refund it, retry it). */
  const record = (call: Call): void => {
    calls.push(call);
    ids.push(call.input.transferId);
    if (call.op === 'reserve') reserves.push(call.input.transferId);
  };
  const opening: Action[] = Array.from({ length: PLAYERS }, (_, i) => ({ t: 'deposit', player: i, amount: openingMinor }));
  return { callFor, record, opening };
}

async function assertBalances(ledger: LedgerEngine, model: Model, after: string): Promise<void> {
  for (const acc of model.accounts.values()) {
    const b = await ledger.balance(acc.ref);
    assert.deepEqual([b.postedMinor, b.reservedMinor], [acc.posted, acc.pendingDebits], `balance of ${keyOf(acc.ref)} after ${after}`);
  }
}

async function assertBooks(db: Db): Promise<void> {
  const books = await readBooks(db);
  assert.deepEqual(books, { entrySums: books.entrySums.GBP === undefined ? {} : { GBP: 0n }, balanceMismatches: 0, holdMismatches: 0, unbalancedTransfers: 0, negativeWallets: 0 });
}

describe('ledger model: random command sequences keep every invariant', () => {
  let db: Db;
  let ledger: LedgerEngine;
  /** One flush at a time, so commands submitted together run in one transaction, in submission order. */
  let batched: LedgerEngine;
  /** What `batched` logs at warn: a batch that failed and ran again command by command. */
  const warnings: string[] = [];
  const clock = manualClock(new Date());

  before(async () => {
    db = createDb({ connectionString: (await createTestDatabase()).url, max: 8 });
    await migrate(db, await loadMigrations([paymentsModule]));
    ledger = createLedger({ db, log: createLogger('silent'), houseShards: 3, batching: DEFAULT_BATCHING, now: clock.now });
    const log = createLogger('warn', { destination: { write: (line: string) => void warnings.push(line) } });
    batched = createLedger({ db, log, houseShards: 3, batching: { maxBatch: 64, maxInFlight: 1, maxQueued: 1_000 }, now: clock.now });
  });
  after(async () => {
    await db?.close();
  });

  it('when any sequence of commands and retries runs, then results, balances and the books match the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 4, maxLength: 40 }), async (actions) => {
        const model = new Model((await clock.now()).getTime());
        const { callFor, record, opening } = scenario();
        for (const a of [...opening, ...actions]) {
          if (a.t === 'expire') {
            clock.advance(a.seconds * 1000);
            model.advance(a.seconds);
            await ledger.expireDue();
          } else {
            const call = callFor(a);
            if (!call) continue;
            const expected = model.apply(call);
            const concurrent = a.t === 'retry' && a.concurrent;
            const got = await Promise.all(concurrent ? [run(ledger, call), run(ledger, call)] : [run(ledger, call)]);
            for (const g of got) assert.deepEqual(g, expected, `${call.op} ${canonical(call)}`);
            record(call);
          }
          await assertBalances(ledger, model, a.t);
        }
        await assertBooks(db);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  // Group commit puts many callers' commands in one transaction, which ledger_run applies set-based
  // (one INSERT, one UPDATE of balances, … for the whole batch). Each command must still get exactly
  // the result it would get alone, in batch order: several commands on one wallet (a refusal between
  // two that go through), holds reserved, posted or voided in the batch that resolves them, retries
  // of ids used earlier in the same batch, expiries between batches.
  it('when commands arrive together and share one transaction, then each gets the result it would get alone in that order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(actionArb, { minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 8 }), async (chunks) => {
        warnings.length = 0;
        const model = new Model((await clock.now()).getTime());
        // Wallets that start short: commands of one batch often need what an earlier one released or took.
        const { callFor, record, opening } = scenario(BATCHED_OPENING_DEPOSIT_MINOR);
        for (const chunk of [opening, ...chunks]) {
          const calls: Call[] = [];
          for (const a of chunk) {
            if (a.t === 'expire') {
              // Time passes between batches; the sweep runs before the next one.
              clock.advance(a.seconds * 1000);
              model.advance(a.seconds);
              continue;
            }
            const call = callFor(a);
            if (!call) continue;
            calls.push(call);
            record(call);
          }
          await batched.expireDue();
          const expected = calls.map((c) => model.apply(c));
          const before = batched.stats().flushes;
          // Submitted in one tick: the batcher takes them all into one flush, in this order.
          const got = await Promise.all(calls.map((c) => run(batched, c)));
          assert.ok(batched.stats().flushes - before <= 1, 'the chunk ran as one transaction');
          // A batch the database refused (a floor or balance check) would be rerun command by command and
          // still give the right results: the set-based path must get them right the first time.
          assert.deepEqual(warnings, [], 'no batch failed and ran again isolated');
          got.forEach((g, i) => assert.deepEqual(g, expected[i], `${calls[i]!.op} ${canonical(calls[i]!)} (#${i + 1} of ${calls.length} in one batch)`));
          await assertBalances(batched, model, `a batch of ${calls.length}`);
        }
        await assertBooks(db);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
