/**
 * The concurrent bank test of issue 3: 64 clients, for BANK_TEST_DURATION_S (default 30) seconds,
 * move money between player wallets and buy tickets (reserve → post or void) into ONE hot house
 * account, sending some calls twice (at once, or again after the answer). They talk to a platform in
 * a child process over the internal service API; that process is SIGKILLed mid-traffic and another
 * one started, and the clients keep retrying through the outage with the same transfer ids.
 * Afterwards: money is conserved, no wallet is negative, every transfer took effect at most once
 * (and exactly once when a client was told it did), and the books balance.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { createDb, createLogger, defineModule, isDomainError, type Db } from '@verity/kernel';
import { createTestDatabase, freePort, startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { paymentsModule, type PaymentsService } from '@verity/payments';
import { createLedger, DEFAULT_BATCHING } from '../src/ledger/ledger.ts';
import { bankModule, type BankService } from './fixtures/bank-platform.ts';
import { readBooks, walletOf } from './support/ledger.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bank-platform.ts');
const DURATION_MS = Number(process.env.BANK_TEST_DURATION_S ?? 30) * 1000;
const CLIENTS = 64;
const PLAYERS = 200;
const FUNDING_MINOR = 5_000n;
const COMPETITION = 'surge-competition';
/** Answers that mean "not done, or not known to be done": the same call is sent again. */
const RETRY = new Set(['upstream-unavailable', 'ledger-busy', 'service-unavailable', 'transfer-in-progress', 'internal-error', 'rate-limited']);

function startChild(env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready ')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`platform exited before ready (${code ?? signal})`)));
  });
  return { child, ready };
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** The process the clients run in: no module of its own to speak of, payments and banktest are remote. */
const clientModule = defineModule({
  name: 'bankclient',
  migrationsDir: path.join(os.tmpdir(), 'verity-bankclient-has-no-migrations'),
  remoteMethods: [],
  setup: () => ({ service: {} }),
});

type Answer<T> = { ok: true; value: T } | { ok: false; code: string };

interface Stats {
  operations: number;
  retries: number;
  duplicates: number;
  okBeforeKill: number;
  okAfterRestart: number;
}

describe('bank: concurrent transfers and purchases through a SIGKILL', () => {
  const children: ChildProcess[] = [];
  let db: Db | undefined;
  let clients: TestPlatform | undefined;
  /** Set when the test ends (or fails): clients stop, and no platform is started any more. */
  let stopped = false;
  after(async () => {
    stopped = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await clients?.stop();
    await db?.close();
  });

  it('when 64 clients move money and buy tickets with duplicate retries while the platform is killed and restarted, then money is conserved and nothing takes effect twice', async (t) => {
    const { url } = await createTestDatabase();
    const port = await freePort();
    const secret = randomBytes(32).toString('hex');
    const env = {
      ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', SERVICE_TOKEN_SECRET: secret, VERITY_ENV: 'test',
      VERITY_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'verity-bank-')), LOG_LEVEL: 'error', SEED_DEMO: 'false', PSP_SANDBOX_PORT: '0',
      DATABASE_POOL_MAX: '12', PAYMENTS_HOUSE_SHARDS: '8',
    };
    const first = startChild(env);
    children.push(first.child);
    await first.ready;

    db = createDb({ connectionString: url, max: 4 });
    const funder = createLedger({ db, log: createLogger('silent'), houseShards: 1, batching: DEFAULT_BATCHING });
    const players = Array.from({ length: PLAYERS }, (_, i) => `player-${i}`);
    await Promise.all(players.map((p) => funder.transfer({
      transferId: randomUUID(), kind: 'deposit', amountMinor: FUNDING_MINOR,
      debit: { type: 'psp_clearing', ownerId: 'bank-test', currency: 'GBP' }, credit: walletOf(p),
    })));

    // The clients' side is a platform of its own that runs neither module: it reaches both over HTTP.
    const baseUrl = `http://127.0.0.1:${port}`;
    clients = await startTestPlatform({
      modules: [paymentsModule, bankModule, clientModule],
      run: ['bankclient'],
      env: { SERVICE_TOKEN_SECRET: secret, VERITY_SERVICE_URLS: `payments=${baseUrl},banktest=${baseUrl}` },
    });
    const payments = clients.service<PaymentsService>('payments');
    const bank = clients.service<BankService>('banktest');

    const stats: Stats = { operations: 0, retries: 0, duplicates: 0, okBeforeKill: 0, okAfterRestart: 0 };
    let phase: 'before' | 'outage' | 'after' = 'before';
    const expected = new Map(players.map((p) => [p, FUNDING_MINOR]));
    /** What the clients were told took effect: transfer id → amount. */
    const applied = new Map<string, bigint>();
    /** Every id a client sent. */
    const sent = new Set<string>();
    const hardDeadline = performance.now() + DURATION_MS + 90_000;

    /** Sends `call` until it has an answer that is not "try again"; sometimes twice at once. */
    async function definitive<T extends { transferId: string; amountMinor: bigint }>(id: string, call: () => Promise<T>): Promise<Answer<T>> {
      sent.add(id);
      const once = async (): Promise<Answer<T>> => {
        for (;;) {
          try {
            return { ok: true, value: await call() };
          } catch (err) {
            if (isDomainError(err) && !RETRY.has(err.code)) return { ok: false, code: err.code };
            if (!isDomainError(err)) throw err;
            stats.retries++;
            if (stopped || performance.now() > hardDeadline) throw new Error(`gave up on ${id}: ${err.code}`, { cause: err });
            await new Promise((r) => setTimeout(r, 50 + randomInt(150)));
          }
        }
      };
      const answers = randomInt(10) === 0 ? await Promise.all([once(), once()]) : [await once()];
      if (randomInt(5) === 0) answers.push(await once());
      stats.duplicates += answers.length - 1;
      const oks = answers.filter((a): a is { ok: true; value: T } => a.ok);
      for (const a of oks) assert.deepEqual([a.value.transferId, a.value.amountMinor], [oks[0]!.value.transferId, oks[0]!.value.amountMinor], `duplicates of ${id} agree`);
      const answer = oks[0] ?? answers.at(-1)!;
      if (answer.ok) {
        applied.set(answer.value.transferId, answer.value.amountMinor);
        if (phase === 'before') stats.okBeforeKill++;
        if (phase === 'after') stats.okAfterRestart++;
      }
      return answer;
    }

    async function transferBetweenPlayers(): Promise<void> {
      const from = players[randomInt(PLAYERS)]!;
      const to = players[(players.indexOf(from) + 1 + randomInt(PLAYERS - 1)) % PLAYERS]!;
      const input = { transferId: randomUUID(), kind: 'gift', debit: walletOf(from), credit: walletOf(to), amountMinor: BigInt(1 + randomInt(300)) };
      const answer = await definitive(input.transferId, () => bank.transfer(input));
      if (!answer.ok) return assert.equal(answer.code, 'insufficient-funds');
      expected.set(from, expected.get(from)! - input.amountMinor);
      expected.set(to, expected.get(to)! + input.amountMinor);
    }

    async function buyTickets(): Promise<void> {
      const playerId = players[randomInt(PLAYERS)]!;
      const reservation = { transferId: randomUUID(), playerId, competitionId: COMPETITION, amountMinor: BigInt(10 * (1 + randomInt(20))), currency: 'GBP' };
      const held = await definitive(reservation.transferId, () => payments.reserve(reservation));
      if (!held.ok) return assert.equal(held.code, 'insufficient-funds');
      if (randomInt(4) === 0) {
        const voiding = { transferId: randomUUID(), pendingTransferId: reservation.transferId, reason: 'tickets not issued' };
        const voided = await definitive(voiding.transferId, () => payments.void(voiding));
        assert.ok(voided.ok, `void of ${reservation.transferId}: ${voided.ok || voided.code}`);
        return;
      }
      const amountMinor = randomInt(5) === 0 ? reservation.amountMinor / 2n : undefined;
      const posting = { transferId: randomUUID(), pendingTransferId: reservation.transferId, ...(amountMinor ? { amountMinor } : {}) };
      const posted = await definitive(posting.transferId, () => payments.post(posting));
      assert.ok(posted.ok, `post of ${reservation.transferId}: ${posted.ok || posted.code}`);
      expected.set(playerId, expected.get(playerId)! - posted.value.amountMinor);
    }

    const started = performance.now();
    const client = async () => {
      while (!stopped && performance.now() - started < DURATION_MS) {
        stats.operations++;
        await (randomInt(5) < 2 ? transferBetweenPlayers() : buyTickets());
      }
    };
    const crash = (async () => {
      await new Promise((r) => setTimeout(r, DURATION_MS * 0.4));
      phase = 'outage';
      first.child.kill('SIGKILL');
      await exited(first.child);
      if (stopped) return;
      const second = startChild(env);
      children.push(second.child);
      await second.ready;
      phase = 'after';
    })();
    try {
      await Promise.all([...Array.from({ length: CLIENTS }, client), crash]);
    } catch (err) {
      stopped = true;
      throw err;
    }
    t.diagnostic(`${stats.operations} operations, ${applied.size} transfers applied, ${stats.duplicates} duplicate sends, ${stats.retries} retries; ` +
      `${stats.okBeforeKill} answered before the kill, ${stats.okAfterRestart} after the restart`);

    assert.ok(stats.retries > 0, 'clients met the outage');
    assert.ok(stats.okBeforeKill > 0 && stats.okAfterRestart > 0, 'traffic ran on both sides of the kill');

    // Conserved: the players' money is either still theirs or with the house; holds all resolved.
    const totals = await db.one<{ wallets: bigint; house: bigint; clearing: bigint; pending: bigint }>(
      `select coalesce(sum(posted_credits - posted_debits) filter (where type = 'player_wallet'), 0)::bigint as wallets,
              coalesce(sum(posted_credits - posted_debits) filter (where type = 'house_sales'), 0)::bigint as house,
              coalesce(sum(posted_credits - posted_debits) filter (where type = 'psp_clearing'), 0)::bigint as clearing,
              coalesce(sum(pending_debits), 0)::bigint as pending
         from payments.accounts`,
    );
    assert.equal(totals.wallets + totals.house, FUNDING_MINOR * BigInt(PLAYERS));
    assert.equal(totals.clearing, -FUNDING_MINOR * BigInt(PLAYERS));
    assert.equal(totals.pending, 0n);
    assert.deepEqual(await readBooks(db), { entrySums: { GBP: 0n }, balanceMismatches: 0, holdMismatches: 0, unbalancedTransfers: 0, negativeWallets: 0 });

    // Exactly what the clients were told: each wallet, each transfer, and no transfer nobody asked for.
    for (const p of players) assert.equal((await funder.balance(walletOf(p))).postedMinor, expected.get(p), `wallet of ${p}`);
    const rows = await db.query<{ id: string; amount: bigint; kind: string }>("select id, amount, kind from payments.transfers where kind <> 'deposit'");
    for (const r of rows) assert.ok(sent.has(r.id), `transfer ${r.id} was sent by a client`);
    const inDb = new Map(rows.map((r) => [r.id, r.amount]));
    for (const [id, amount] of applied) assert.equal(inDb.get(id), amount, `transfer ${id} took effect as answered`);
    assert.equal(rows.length, applied.size, 'nothing took effect that a client was told did not');
    assert.deepEqual(await db.query('select pending_id from payments.transfers where pending_id is not null group by pending_id having count(*) > 1'), [], 'one resolution per reservation');
    assert.ok((await db.one<{ n: bigint }>("select count(distinct shard) as n from payments.accounts where type = 'house_sales'")).n > 1n, 'the hot account was spread over shards');
  });
});
