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
 * (default 5) set the measurement: each rate is the median of its interleaved slices, and each
 * ratio comes with its spread over the rounds (a variant's slice against the bare slice of the same
 * round). CPU time per operation (this Node process, and the PostgreSQL server's processes when the
 * bench started the server) is less sensitive to a shared machine than rates are.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, createLogger, loadMigrations, migrate, startEmbeddedPostgres, type Db } from '@verity/kernel';
import { paymentsModule } from '@verity/payments';
import { createLedger, DEFAULT_BATCHING, type BatchingOptions } from '../modules/payments/src/ledger/ledger.ts';
import { createPaymentsService } from '../modules/payments/src/ledger/service.ts';
import { runLanes } from './lanes.ts';

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
  /** CPU time per operation: this process, and the PostgreSQL server when the bench started it. */
  cpuUsPerOp?: { node: number; postgres?: number };
}

/** CPU time of one process in µs: /proc/<pid>/schedstat (ns) where the kernel keeps it, else stat's ticks. */
function processCpuUs(pid: number): { ppid: number; us: number; reapedUs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tickUs = 1_000_000 / 100;
    let us = (Number(f[11]) + Number(f[12])) * tickUs;
    try {
      const ns = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
      if (ns > 0) us = ns / 1000;
    } catch {
      // no schedstat: ticks it is
    }
    return { ppid: Number(f[1]), us, reapedUs: (Number(f[13]) + Number(f[14])) * tickUs };
  } catch {
    return undefined;
  }
}

/** CPU time of a PostgreSQL server in µs: the postmaster, its live children, and those it reaped (autovacuum workers). */
function serverCpuUs(postmasterPid: number): number | undefined {
  const root = processCpuUs(postmasterPid);
  if (!root) return undefined;
  let total = root.us + root.reapedUs;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const child = processCpuUs(Number(entry));
    if (child?.ppid === postmasterPid) total += child.us;
  }
  return total;
}

const nodeCpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

interface Slice {
  perS: number;
  ops: number;
  nodeUs: number;
  serverUs?: number;
}

/** Runs `op` back to back on `concurrency` lanes for `durationMs`; adds latencies to `times`. */
async function runFor(durationMs: number, concurrency: number, op: () => Promise<unknown>, times: number[], postmasterPid?: number): Promise<Slice> {
  const node0 = nodeCpuUs();
  const server0 = postmasterPid ? serverCpuUs(postmasterPid) : undefined;
  const { perS, ops } = await runLanes(durationMs, concurrency, op, times);
  const slice: Slice = { perS, ops, nodeUs: nodeCpuUs() - node0 };
  const server1 = postmasterPid ? serverCpuUs(postmasterPid) : undefined;
  if (server0 !== undefined && server1 !== undefined) slice.serverUs = server1 - server0;
  return slice;
}

function figures(slices: Slice[], times: number[]): RateFigures {
  times.sort((a, b) => a - b);
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(times.length * q))]!, 2);
  const ops = slices.reduce((n, s) => n + s.ops, 0);
  const cpu: { node: number; postgres?: number } = { node: Math.round(slices.reduce((n, s) => n + s.nodeUs, 0) / ops) };
  if (slices.every((s) => s.serverUs !== undefined)) cpu.postgres = Math.round(slices.reduce((n, s) => n + s.serverUs!, 0) / ops);
  return { perS: round(median(slices.map((s) => s.perS))), p50Ms: at(0.5), p99Ms: at(0.99), cpuUsPerOp: cpu };
}

interface Variant {
  name: string;
  description: string;
  batching: BatchingOptions;
  houseShards: number;
}

const PER_COMMAND: BatchingOptions = { maxBatch: 1, maxInFlight: 64, maxQueued: 10_000 };
const VARIANTS: Variant[] = [
  {
    name: 'groupCommitSharded',
    description: 'as the platform runs: group commit (≤64 commands per flush, one statement and one commit; a second flush beside the first when each gets ≥16 commands) and 8 house shards',
    batching: DEFAULT_BATCHING, houseShards: 8,
  },
  { name: 'groupCommitOneRow', description: 'group commit, the house account on one row', batching: DEFAULT_BATCHING, houseShards: 1 },
  { name: 'perCommandTxSharded', description: 'one transaction (one statement) per command, 8 house shards', batching: PER_COMMAND, houseShards: 8 },
  { name: 'perCommandTxOneRow', description: 'one transaction (one statement) per command, the house account on one row', batching: PER_COMMAND, houseShards: 1 },
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
  const ledger = createLedger({ db, log: createLogger('silent'), houseShards: variant.houseShards, batching: variant.batching });
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
  const rounds = options.rounds ?? Number(process.env.LEDGER_BENCH_ROUNDS ?? 5);
  let dataDir: string | undefined;
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let postmasterPid: number | undefined;
  let url = options.databaseUrl;
  if (!url) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-ledger-bench-'));
    server = await startEmbeddedPostgres({ dataDir });
    await server.createDatabase('ledger_bench');
    url = server.urlFor('ledger_bench');
    postmasterPid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]) || undefined;
  }
  const db = createDb({ connectionString: url, max: 80, applicationName: 'verity-ledger-bench' });
  try {
    await migrate(db, await loadMigrations([paymentsModule]));
    await db.query('create table if not exists public.bench_ledger_commits (id bigint generated always as identity primary key, data jsonb not null)');
    const pg = await db.one<{ version: string; fsync: string; synchronous_commit: string; over_tcp: boolean }>(
      "select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit, inet_server_addr() is not null as over_tcp",
    );
    progress(`funding ${PLAYERS} wallets`);
    await fundPlayers(db);
    // The same pool as the purchases: BEGIN; INSERT one row; COMMIT, three round trips per commit.
    const bareCommit = () => db.tx(() => db.query('insert into public.bench_ledger_commits (data) values ($1)', ['{"n":1}']));
    const runners = VARIANTS.map((v) => ({ variant: v, ...purchaser(db, v) }));

    const bare = {} as Record<Clients, RateFigures>;
    const ledger = Object.fromEntries(VARIANTS.map((v) => [v.name, { description: v.description } as Record<string, unknown>]));
    for (const c of CONCURRENCY) {
      const key: Clients = `clients${c}`;
      const samples: Record<string, { slices: Slice[]; times: number[] }> = Object.fromEntries(['bare', ...VARIANTS.map((v) => v.name)].map((n) => [n, { slices: [], times: [] }]));
      const batches = new Map(runners.map((r) => [r.variant.name, { flushes: 0, items: 0 }]));
      for (let i = 1; i <= rounds; i++) {
        progress(`${c} clients, round ${i}/${rounds}`);
        samples.bare!.slices.push(await runFor(sliceMs, c, bareCommit, samples.bare!.times, postmasterPid));
        for (const r of runners) {
          const s = samples[r.variant.name]!;
          const before = r.ledger.stats();
          s.slices.push(await runFor(sliceMs, c, r.purchase, s.times, postmasterPid));
          const after = r.ledger.stats();
          const b = batches.get(r.variant.name)!;
          b.flushes += after.flushes - before.flushes;
          b.items += after.items - before.items;
        }
      }
      bare[key] = figures(samples.bare!.slices, samples.bare!.times);
      for (const r of runners) {
        const b = batches.get(r.variant.name)!;
        const slices = samples[r.variant.name]!.slices;
        const f = figures(slices, samples[r.variant.name]!.times);
        // Each round's slice against the bare slice of the same round: the spread a shared machine leaves.
        const perRound = slices.map((s, i) => s.perS / samples.bare!.slices[i]!.perS);
        ledger[r.variant.name]![key] = {
          ...f,
          commandsPerTransaction: round(b.items / Math.max(1, b.flushes), 1),
          toBareRatio: round(f.perS / bare[key].perS, 3),
          toBareRatioPerRound: { median: round(median(perRound), 3), min: round(Math.min(...perRound), 3), max: round(Math.max(...perRound), 3) },
        };
      }
    }
    const headline = ledger.groupCommitSharded as Record<Clients, RateFigures & { toBareRatio: number; toBareRatioPerRound: { min: number; max: number } }>;
    return {
      benchmark: 'ledger',
      at: new Date().toISOString(),
      summary: {
        reservePostPerSAt32: headline.clients32.perS,
        bareCommitsPerSAt32: bare.clients32.perS,
        ratioAt32: headline.clients32.toBareRatio,
        ratioAt8: headline.clients8.toBareRatio,
        ratioAt1: headline.clients1.toBareRatio,
        ratioAt32Spread: [headline.clients32.toBareRatioPerRound.min, headline.clients32.toBareRatioPerRound.max],
        goal: 'reserve+post transfers/s at 32 clients ≥ 1.0 × bare single-row INSERT commits/s',
      },
      notes: `A "transfer" is one purchase: reserve (player wallet → house sales, pending) then post, two ledger commands, each with its outbox event, through the PaymentsService; ${PLAYERS} funded players, one competition (one hot house_sales account). Bare = BEGIN; INSERT one row; COMMIT. Rates are the median of ${rounds} interleaved slices of ${sliceMs} ms; latencies are per purchase (both commands) over all slices; toBareRatioPerRound compares each round's slice with the bare slice of the same round; cpuUsPerOp is CPU time per purchase (or bare commit) of this Node process and of every process of the PostgreSQL server (backends, WAL writer, checkpointer, autovacuum).`,
      postgres: { version: pg.version, fsync: pg.fsync, synchronousCommit: pg.synchronous_commit, connection: pg.over_tcp ? 'tcp' : 'unix socket' },
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
