/**
 * Ledger benchmark (ADR 0006): reserve+post purchases into ONE hot house account at 1, 8 and 32
 * concurrent clients, next to bare single-row INSERT commits on the same PostgreSQL in the same run.
 *
 *   node bench/ledger.ts            prints one JSON document (progress on stderr)
 *   runLedgerBench()                the same object, for bench/run.ts
 *
 * Its own embedded PostgreSQL in a temp dir unless `databaseUrl` is given. The purchases go through
 * the PaymentsService as ticketing calls it (reserve, then post; each writes its event to the
 * outbox in the same transaction); the outbox relay is not running. Variants: the configuration the
 * platform runs (group commit + shards), group commit on one house row, and one transaction per
 * command with and without shards. LEDGER_BENCH_SLICE_MS (default 1000) and LEDGER_BENCH_ROUNDS
 * (default 3) set the measurement: each rate is the median of its interleaved slices.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, createLogger, loadMigrations, migrate, startEmbeddedPostgres, type Db } from '@verity/kernel';
import { paymentsModule } from '@verity/payments';
import { createOutboxPublisher } from '../packages/kernel/src/events/outbox.ts';
import { createLedger, DEFAULT_BATCHING, type BatchingOptions } from '../modules/payments/src/ledger/ledger.ts';
import { createPaymentsService } from '../modules/payments/src/ledger/service.ts';

const CONCURRENCY = [1, 8, 32] as const;
type Clients = `clients${(typeof CONCURRENCY)[number]}`;
const PLAYERS = 2_000;
const PRICE_MINOR = 250n;
const COMPETITION = 'bench-competition';
const CURRENCY = 'GBP';

const progress = (msg: string) => process.stderr.write(`# bench ledger: ${msg}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface RateFigures {
  perS: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `op` back to back on `concurrency` lanes for `durationMs`; adds latencies to `times`. */
async function runFor(durationMs: number, concurrency: number, op: () => Promise<unknown>, times: number[]): Promise<number> {
  const start = performance.now();
  const deadline = start + durationMs;
  let done = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await op();
      times.push(performance.now() - t0);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return done / ((performance.now() - start) / 1000);
}

function figures(rates: number[], times: number[]): RateFigures {
  times.sort((a, b) => a - b);
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(times.length * q))]!, 2);
  return { perS: round(median(rates)), p50Ms: at(0.5), p99Ms: at(0.99) };
}

interface Variant {
  name: string;
  description: string;
  batching: BatchingOptions;
  houseShards: number;
}

const PER_COMMAND: BatchingOptions = { maxBatch: 1, maxInFlight: 64, maxQueued: 10_000 };
const VARIANTS: Variant[] = [
  { name: 'groupCommitSharded', description: 'as the platform runs: group commit (≤64 commands per transaction, 2 flushes in flight) and 8 house shards', batching: DEFAULT_BATCHING, houseShards: 8 },
  { name: 'groupCommitOneRow', description: 'group commit, the house account on one row', batching: DEFAULT_BATCHING, houseShards: 1 },
  { name: 'perCommandTxSharded', description: 'one transaction per command, 8 house shards', batching: PER_COMMAND, houseShards: 8 },
  { name: 'perCommandTxOneRow', description: 'one transaction per command, the house account on one row', batching: PER_COMMAND, houseShards: 1 },
];

/** Funds every bench player once (a deposit from PSP clearing). */
async function fundPlayers(db: Db): Promise<void> {
  const ledger = createLedger({ db, log: createLogger('silent'), houseShards: 1, batching: DEFAULT_BATCHING });
  await Promise.all(Array.from({ length: PLAYERS }, (_, i) =>
    ledger.transfer({
      transferId: randomUUID(), kind: 'deposit', amountMinor: 1_000_000_000n,
      debit: { type: 'psp_clearing', ownerId: 'bench', currency: CURRENCY }, credit: { type: 'player_wallet', ownerId: `player-${i}`, currency: CURRENCY },
    })));
  await ledger.drain();
}

/** Proves the run kept the books: entries sum to zero, balances equal their entries, no wallet below zero. */
async function checkBooks(db: Db): Promise<{ entriesSumZero: boolean; balancesMatchEntries: boolean; negativeWallets: number; purchasesPosted: number }> {
  const row = await db.one<{ total: bigint; mismatched: bigint; negative: bigint; posted: bigint }>(
    `select (select coalesce(sum(amount), 0) from payments.entries)::bigint as total,
            (select count(*) from payments.accounts a
              where a.posted_credits - a.posted_debits <> coalesce((select sum(e.amount) from payments.entries e where e.account_id = a.id), 0)) as mismatched,
            (select count(*) from payments.accounts where type = 'player_wallet' and posted_credits - posted_debits - pending_debits < 0) as negative,
            (select count(*) from payments.transfers where phase = 'post') as posted`,
  );
  return { entriesSumZero: row.total === 0n, balancesMatchEntries: row.mismatched === 0n, negativeWallets: Number(row.negative), purchasesPosted: Number(row.posted) };
}

function purchaser(db: Db, variant: Variant) {
  const ledger = createLedger({ db, log: createLogger('silent'), houseShards: variant.houseShards, batching: variant.batching, events: createOutboxPublisher(db, 'payments') });
  const service = createPaymentsService({ ledger, jobs: { enqueue: async () => null }, defaultTimeoutS: 600 });
  const purchase = async () => {
    const pendingTransferId = randomUUID();
    await service.reserve({ transferId: pendingTransferId, playerId: `player-${Math.floor(Math.random() * PLAYERS)}`, competitionId: COMPETITION, amountMinor: PRICE_MINOR, currency: CURRENCY });
    await service.post({ transferId: randomUUID(), pendingTransferId });
  };
  return { ledger, purchase };
}

/**
 * The machine may be shared: bare commits and each variant take turns in short slices, several
 * rounds, and each reports its median rate, so a neighbour's burst does not favour one side.
 */
export async function runLedgerBench(options: { databaseUrl?: string; sliceMs?: number; rounds?: number } = {}) {
  const sliceMs = options.sliceMs ?? Number(process.env.LEDGER_BENCH_SLICE_MS ?? 1000);
  const rounds = options.rounds ?? Number(process.env.LEDGER_BENCH_ROUNDS ?? 3);
  let dataDir: string | undefined;
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let url = options.databaseUrl;
  if (!url) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-ledger-bench-'));
    server = await startEmbeddedPostgres({ dataDir });
    await server.createDatabase('ledger_bench');
    url = server.urlFor('ledger_bench');
  }
  const db = createDb({ connectionString: url, max: 80, applicationName: 'verity-ledger-bench' });
  try {
    await migrate(db, await loadMigrations([paymentsModule]));
    await db.query('create table if not exists public.bench_ledger_commits (id bigint generated always as identity primary key, data jsonb not null)');
    const pg = await db.one<{ version: string; fsync: string; synchronous_commit: string }>(
      "select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit",
    );
    progress(`funding ${PLAYERS} wallets`);
    await fundPlayers(db);
    const bareCommit = () => db.tx(() => db.query('insert into public.bench_ledger_commits (data) values ($1)', ['{"n":1}']));
    const runners = VARIANTS.map((v) => ({ variant: v, ...purchaser(db, v) }));

    const bare = {} as Record<Clients, RateFigures>;
    const ledger = Object.fromEntries(VARIANTS.map((v) => [v.name, { description: v.description } as Record<string, unknown>]));
    for (const c of CONCURRENCY) {
      const key: Clients = `clients${c}`;
      const samples: Record<string, { rates: number[]; times: number[] }> = Object.fromEntries(['bare', ...VARIANTS.map((v) => v.name)].map((n) => [n, { rates: [], times: [] }]));
      const batches = new Map(runners.map((r) => [r.variant.name, { flushes: 0, items: 0 }]));
      for (let i = 1; i <= rounds; i++) {
        progress(`${c} clients, round ${i}/${rounds}`);
        samples.bare!.rates.push(await runFor(sliceMs, c, bareCommit, samples.bare!.times));
        for (const r of runners) {
          const s = samples[r.variant.name]!;
          const before = r.ledger.stats();
          s.rates.push(await runFor(sliceMs, c, r.purchase, s.times));
          const after = r.ledger.stats();
          const b = batches.get(r.variant.name)!;
          b.flushes += after.flushes - before.flushes;
          b.items += after.items - before.items;
        }
      }
      bare[key] = figures(samples.bare!.rates, samples.bare!.times);
      for (const r of runners) {
        const b = batches.get(r.variant.name)!;
        const f = figures(samples[r.variant.name]!.rates, samples[r.variant.name]!.times);
        ledger[r.variant.name]![key] = { ...f, commandsPerTransaction: round(b.items / Math.max(1, b.flushes), 1), toBareRatio: round(f.perS / bare[key].perS, 3) };
      }
    }
    const headline = ledger.groupCommitSharded as Record<Clients, RateFigures & { toBareRatio: number }>;
    return {
      benchmark: 'ledger',
      at: new Date().toISOString(),
      summary: {
        reservePostPerSAt32: headline.clients32.perS,
        bareCommitsPerSAt32: bare.clients32.perS,
        ratioAt32: headline.clients32.toBareRatio,
        ratioAt8: headline.clients8.toBareRatio,
        ratioAt1: headline.clients1.toBareRatio,
        goal: 'reserve+post transfers/s at 32 clients ≥ 1.0 × bare single-row INSERT commits/s',
      },
      notes: `A "transfer" is one purchase: reserve (player wallet → house sales, pending) then post, two ledger commands, each with its outbox event, through the PaymentsService; ${PLAYERS} funded players, one competition (one hot house_sales account). Bare = BEGIN; INSERT one row; COMMIT. Rates are the median of ${rounds} interleaved slices of ${sliceMs} ms; latencies are per purchase (both commands) over all slices.`,
      postgres: { version: pg.version, fsync: pg.fsync, synchronousCommit: pg.synchronous_commit },
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverage1m: round(os.loadavg()[0]!, 2) },
      bareInsertCommit: bare,
      reservePost: ledger,
      books: await checkBooks(db),
    };
  } finally {
    await db.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  runLedgerBench().then(
    (report) => process.stdout.write(`${JSON.stringify(report, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`ledger bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
