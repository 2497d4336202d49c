/**
 * Ticketing benchmark (ADR 0014): ticket purchases through HTTP for ONE hot competition, closed loop
 * at 32 and 128 concurrent clients, then an open-loop burst at 5 000 purchases/s, next to bare
 * single-row INSERT commits/s on the same PostgreSQL in the same run.
 *
 *   node bench/ticketing.ts            prints one JSON document (progress on stderr)
 *   runTicketingBench({ quick })       the same object, for bench/run.ts
 *
 * Its own embedded PostgreSQL in a temp dir and the platform in this process (identity, payments
 * with the sandbox PSP, compliance, skill, ticketing, and a kyc stand-in that publishes approvals).
 * Players register, are approved and deposit through the API. Each purchase is the full story —
 * JWT, eligibility and spend limits (compliance), the skill pass (verified by the skill module),
 * the wallet reservation, the issuing transaction, the post — with its own pass token: tokens are
 * signed here with the skill module's key and format (what answering the skill test yields), so the
 * bench measures purchases, not question answering. The load runs in a worker thread (its own
 * event loop) over keep-alive HTTP connections. TICKETING_BENCH_SECONDS sets each closed-loop phase;
 * TICKETING_BENCH_PROFILE=1 adds the server time per purchase by statement (pg_stat_statements).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createDb, createLogger, defineModule, loadConfig, startEmbeddedPostgres, startPlatform, uuidv7, type Db, type ModuleDefinition, type Platform } from '@verity/kernel';
import { freePort } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { adminSession } from '@verity/identity/testing';
import { paymentsModule } from '@verity/payments';
import { complianceModule } from '@verity/compliance';
import { skillModule } from '@verity/skill';
import { ticketingModule, type TicketingService } from '@verity/ticketing';
import { createFieldCrypto } from '../packages/kernel/src/crypto/field-crypto.ts';
import { signPassToken, TOKEN_KEY_PURPOSE } from '../modules/skill/src/domain/token.ts';

const PRICE_MINOR = 250;
const DEPOSIT_MINOR = 500_000;
const MAX_TICKETS = 10_000_000;
const BURST_PER_S = 5_000;
const CLIENTS = [32, 128] as const;
const DEBIT_FRICTIONLESS = '4000000000000036';

const progress = (msg: string) => process.stderr.write(`# bench ticketing: ${msg}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ───────────────────────────── load generator (worker thread) ─────────────────────────────

interface Job {
  accessToken: string;
  skillToken: string;
}

interface LoadRequest {
  kind: 'closed' | 'open';
  url: string;
  /** closed: one queue per client; open: one queue, sent at `ratePerS`. */
  queues: Job[][];
  durationMs: number;
  ratePerS?: number;
  connections: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  elapsedMs: number;
  /** Problem codes (or HTTP status) of every answer that was not a 201. */
  refusals: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function post(agent: http.Agent, url: URL, job: Job): Promise<{ status: number; code?: string }> {
  const body = JSON.stringify({ quantity: 1, skillToken: job.skillToken });
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${job.accessToken}`, 'idempotency-key': randomUUID() },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 201) return resolve({ status: 201 });
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string }).code;
        } catch {}
        resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}) });
      });
    });
    req.on('error', (err) => resolve({ status: 0, code: `network:${(err as NodeJS.ErrnoException).code ?? 'error'}` }));
    req.end(body);
  });
}

async function runLoad(r: LoadRequest): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: r.connections });
  const url = new URL(r.url);
  const times: number[] = [];
  const refusals: Record<string, number> = {};
  let ok = 0;
  const one = async (job: Job, sentAt: number) => {
    const res = await post(agent, url, job);
    times.push(performance.now() - sentAt);
    if (res.status === 201) ok++;
    else refusals[res.code ?? String(res.status)] = (refusals[res.code ?? String(res.status)] ?? 0) + 1;
  };
  const start = performance.now();
  if (r.kind === 'closed') {
    const deadline = start + r.durationMs;
    await Promise.all(r.queues.map(async (queue) => {
      for (const job of queue) {
        if (performance.now() >= deadline) break;
        await one(job, performance.now());
      }
    }));
  } else {
    // Open loop: request k is due at k / rate, whether or not earlier ones were answered; its latency
    // counts from when it was due (a queue on the client side is part of the burst).
    const jobs = r.queues[0]!;
    const inflight: Promise<void>[] = [];
    for (let k = 0; k < jobs.length; k++) {
      const due = start + (k * 1000) / r.ratePerS!;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((res) => setTimeout(res, wait));
      inflight.push(one(jobs[k]!, due));
    }
    await Promise.all(inflight);
  }
  const elapsedMs = performance.now() - start;
  agent.destroy();
  times.sort((a, b) => a - b);
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(times.length * q))] ?? 0, 1);
  return { sent: times.length, ok, elapsedMs: round(elapsedMs, 0), refusals, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(times.at(-1) ?? 0, 1) };
}

if (!isMainThread && (workerData as { ticketingLoad?: boolean })?.ticketingLoad) {
  parentPort!.on('message', (r: LoadRequest) => {
    runLoad(r).then((result) => parentPort!.postMessage(result), (err: unknown) => parentPort!.postMessage({ error: String(err) }));
  });
}

function loadInWorker(worker: Worker, r: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    worker.once('message', (m: LoadResult & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.postMessage(r);
  });
}

// ───────────────────────────── platform and data ─────────────────────────────

interface KycStandIn {
  approve(playerIds: string[]): Promise<void>;
}

/** Publishes kyc approvals (compliance learns verification from the event, as from the real kyc module). */
const kycStandIn: ModuleDefinition<KycStandIn> = defineModule<KycStandIn>({
  name: 'kyc',
  migrationsDir: path.join(os.tmpdir(), 'verity-bench-no-migrations'),
  remoteMethods: [],
  setup: (ctx) => ({
    service: {
      async approve(playerIds) {
        await ctx.db.tx(async () => {
          const decidedAt = (await ctx.db.now()).toISOString();
          await ctx.events.publishMany(playerIds.map((playerId) => ({ type: 'kyc.verification-changed.v1', subject: playerId, data: { playerId, status: 'approved', ageVerified: true, decidedAt } })));
        });
      },
    },
  }),
});

async function api(base: string, method: string, p: string, body: unknown, token?: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(base + p, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, body: body === undefined ? null : JSON.stringify(body) });
  const json = res.status === 204 ? undefined : await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function parallel<T>(count: number, lanes: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await make(i);
    }
  }));
  return out;
}

/** A hot competition on sale: skill question (four eyes), test, readiness, publish, manifest. */
async function hotCompetition(platform: Platform, admin: string, second: string): Promise<string> {
  const base = platform.url;
  const q = await api(base, 'POST', '/v1/skill/questions', { text: 'Which city is the capital of England?', options: ['Paris', 'London', 'Madrid'], correctOption: 1, category: 'geography', difficulty: 'easy' }, admin);
  await api(base, 'POST', `/v1/skill/questions/${q.questionId}/versions/${q.versions[0].versionId}/decision`, { decision: 'approve' }, second);
  const c = await api(base, 'POST', '/v1/competitions', {
    title: 'Bench hot competition', drawKind: 'random', currency: 'GBP', priceMinor: String(PRICE_MINOR), maxTickets: MAX_TICKETS, perPlayerCap: MAX_TICKETS,
    opensAt: new Date(Date.now() - 60_000).toISOString(), closesAt: new Date(Date.now() + 6 * 3_600_000).toISOString(),
    prizeTiers: [{ tier: 1, description: 'A house', winners: 1, cashAlternativeMinor: '50000000' }],
    freeEntry: { postalAddress: 'Verity Draws, PO Box 1, London', instructions: 'Send your name, address and answer on a postcard.' },
  }, admin);
  await api(base, 'POST', '/v1/skill/tests', { competitionId: c.competitionId, kind: 'multiple-choice', questionIds: [q.questionId] }, admin);
  await api(base, 'PUT', `/v1/competitions/${c.competitionId}/prize-readiness`, { kind: 'owned', externalReference: 'title deed 1', cashAlternativeReservedMinor: '50000000' }, admin);
  await api(base, 'POST', `/v1/competitions/${c.competitionId}/publish`, undefined, admin);
  const ticketing = platform.service<TicketingService>('ticketing');
  await ticketing.recordDrawManifest({ competitionId: c.competitionId, drawId: randomUUID(), manifestHash: 'f'.repeat(64), logIndex: 1 });
  await until(async () => (await ticketing.getCompetition({ competitionId: c.competitionId }))?.state === 'on_sale', 'the competition to open');
  return c.competitionId as string;
}

/** Registered, approved (compliance sees them verified) and funded by card through the API. */
async function players(platform: Platform, count: number): Promise<{ playerId: string; accessToken: string }[]> {
  const base = platform.url;
  const made = await parallel(count, 16, async (i) => {
    const email = `bench-${i}-${randomUUID().slice(0, 8)}@example.test`;
    const password = `Bench-${randomUUID()}-9x`;
    const { playerId } = await api(base, 'POST', '/v1/players', {
      email, password, legalName: 'Bench Player', dateOfBirth: '1990-01-01', address: { line1: '1 Bench Street', city: 'London', postcode: 'SW1A 1AA', country: 'GB' }, country: 'GB',
    });
    const { accessToken } = await api(base, 'POST', '/v1/auth/login', { email, password });
    return { playerId: playerId as string, accessToken: accessToken as string };
  });
  const db = platform.db;
  const ids = made.map((p) => p.playerId);
  await until(async () => Number((await db.one<{ n: bigint }>('select count(*) as n from compliance.players where player_id = any($1) and registered_at is not null', [ids])).n) === count, 'compliance to learn of the players');
  await platform.service<KycStandIn>('kyc').approve(ids);
  await until(async () => Number((await db.one<{ n: bigint }>(`select count(*) as n from compliance.players where player_id = any($1) and verification_status = 'approved'`, [ids])).n) === count, 'the approvals');
  await parallel(count, 16, (i) => api(base, 'POST', '/v1/wallet/deposits', { amountMinor: String(DEPOSIT_MINOR), paymentMethod: DEBIT_FRICTIONLESS }, made[i]!.accessToken, { 'idempotency-key': randomUUID() }));
  return made;
}

// ───────────────────────────── measurements ─────────────────────────────

/**
 * CPU ticks (1/100 s) used so far by the embedded PostgreSQL: its postmaster, its live backends, and
 * (the postmaster's cutime/cstime) every backend that has exited.
 */
function pgCpuTicks(dir: string): number {
  const master = readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (pid === master) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      else if (fields[1] === master) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ticks;
}

/** Server execution time per purchase, by statement (pg_stat_statements, nested statements too). */
async function statementProfile(db: Db, purchases: number) {
  const rows = await db.query<{ q: string; calls: bigint; total: number }>(
    `select left(regexp_replace(query, '\\s+', ' ', 'g'), 100) as q, calls, total_exec_time as total from pg_stat_statements
      where query not like '%pg_stat_statements%' order by total_exec_time desc limit ${Number(process.env.TICKETING_BENCH_PROFILE_ROWS ?? 15)}`,
  );
  return rows.map((r) => ({ statement: r.q, callsPerPurchase: round(Number(r.calls) / Math.max(1, purchases), 2), execUsPerPurchase: Math.round((r.total * 1000) / Math.max(1, purchases)) }));
}

async function bareCommits(url: string, clients: number, durationMs: number): Promise<{ perS: number; p50Ms: number; p99Ms: number }> {
  const db = createDb({ connectionString: url, max: clients, applicationName: 'verity-ticketing-bench-bare' });
  try {
    await db.query('create table if not exists public.bench_ticketing_commits (id bigint generated always as identity primary key, data jsonb not null)');
    const times: number[] = [];
    let done = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() - start < durationMs) {
        const t0 = performance.now();
        await db.tx(() => db.query('insert into public.bench_ticketing_commits (data) values ($1)', ['{"n":1}']));
        times.push(performance.now() - t0);
        done++;
      }
    }));
    const s = (performance.now() - start) / 1000;
    times.sort((a, b) => a - b);
    return { perS: round(done / s), p50Ms: round(times[Math.floor(times.length / 2)]!, 2), p99Ms: round(times[Math.floor(times.length * 0.99)]!, 2) };
  } finally {
    await db.close();
  }
}

async function settled(db: Db, competitionId: string): Promise<void> {
  await until(async () => (await db.maybeOne(`select 1 from ticketing.purchases where competition_id = $1 and state in ('pending', 'issued')`, [competitionId])) === undefined, 'every purchase to finish', 120_000);
}

async function checkBooks(db: Db, competitionId: string) {
  const row = await db.one<{ total: bigint; mismatched: bigint; negative: bigint; held: bigint; tickets: bigint; numbers: bigint; paid: bigint; house: bigint | null }>(
    `select (select coalesce(sum(amount), 0) from payments.entries)::bigint as total,
            (select count(*) from payments.accounts a
              where a.posted_credits - a.posted_debits <> coalesce((select sum(e.amount) from payments.entries e where e.account_id = a.id), 0)) as mismatched,
            (select count(*) from payments.accounts where type = 'player_wallet' and posted_credits - posted_debits - pending_debits < 0) as negative,
            (select coalesce(sum(pending_debits), 0) from payments.accounts where type = 'player_wallet')::bigint as held,
            (select count(*) from ticketing.tickets where competition_id = $1 and state = 'valid') as tickets,
            (select count(distinct number) from ticketing.tickets where competition_id = $1 and state = 'valid') as numbers,
            (select count(*) from ticketing.purchases where competition_id = $1 and state = 'posted') as paid,
            (select sum(posted_credits - posted_debits) from payments.accounts where type = 'house_sales' and owner_id = $1::text)::bigint as house`,
    [competitionId],
  );
  return {
    entriesSumZero: row.total === 0n, balancesMatchEntries: row.mismatched === 0n, negativeWallets: Number(row.negative), holdsLeftMinor: Number(row.held),
    ticketsIssued: Number(row.tickets), numbersUnique: row.tickets === row.numbers, purchasesPosted: Number(row.paid),
    houseSalesMatchTickets: (row.house ?? 0n) === BigInt(PRICE_MINOR) * row.tickets,
  };
}

function figures(r: LoadResult, bare?: { perS: number }) {
  const perS = round(r.ok / (r.elapsedMs / 1000));
  return { purchasesPerS: perS, p50Ms: r.p50Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, requests: r.sent, sold: r.ok, refusals: r.refusals, ...(bare ? { toBareCommitRatio: round(perS / bare.perS, 3) } : {}) };
}

export async function runTicketingBench(opts: { quick?: boolean } = {}): Promise<object> {
  const quick = opts.quick ?? false;
  const phaseMs = Number(process.env.TICKETING_BENCH_SECONDS ?? (quick ? 3 : 8)) * 1000;
  const burstS = quick ? 1 : 2;
  const playerCount = quick ? 128 : 256;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-ticketing-bench-'));
  const pgDir = await mkdtemp(path.join(os.tmpdir(), 'verity-ticketing-bench-pg-'));
  const profile = process.env.TICKETING_BENCH_PROFILE === '1';
  const loadAtStart = os.loadavg()[0]!;
  const server = await startEmbeddedPostgres({ dataDir: pgDir, settings: { max_connections: '400', ...(profile ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {}) } });
  let platform: Platform | undefined;
  const worker = new Worker(new URL(import.meta.url), { workerData: { ticketingLoad: true } });
  try {
    await server.createDatabase('ticketing_bench');
    const url = server.urlFor('ticketing_bench');
    const config = loadConfig({
      VERITY_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', SEED_DEMO: 'false', DATABASE_URL: url, VERITY_DATA_DIR: dataDir, DATABASE_POOL_MAX: process.env.TICKETING_BENCH_POOL ?? '40',
      // Sign-in hashing is not what this bench measures (bench/run.ts measures it apart).
      ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1', RATE_LIMIT_MAX: '1000000',
      COMPLIANCE_SELF_EXCLUSION_REGISTER: 'none', PSP_PROVIDER: 'sandbox', PSP_SANDBOX_PORT: String(await freePort()), QUEUE_SUPERVISE_INTERVAL_S: '1',
    });
    progress('starting the platform');
    platform = await startPlatform({ config, modules: [identityModule, kycStandIn, paymentsModule, complianceModule, skillModule, ticketingModule], log: createLogger('silent') });
    const [admin, second] = [await adminSession({ http: httpClient(platform.url), service: platform.service }), await adminSession({ http: httpClient(platform.url), service: platform.service })];
    if (profile) await platform.db.query('create extension if not exists pg_stat_statements');
    const competitionId = await hotCompetition(platform, admin.accessToken, second.accessToken);
    progress(`registering, approving and funding ${playerCount} players`);
    const buyers = await players(platform, playerCount);
    const crypto = await createFieldCrypto({ db: platform.db, config, log: createLogger('silent') });
    const mint = (playerId: string) => signPassToken({ tokenId: uuidv7(), playerId, competitionId, exp: Math.floor(Date.now() / 1000) + 3_600 }, (input) => crypto.keyedHash(TOKEN_KEY_PURPOSE, input));
    const purchaseUrl = `${platform.url}/v1/competitions/${competitionId}/purchases`;
    const closedQueues = (clients: number) => Array.from({ length: clients }, (_, c) => {
      const b = buyers[c % buyers.length]!;
      // More than a client can send in the phase at 1 200 purchases/s each… per client.
      return Array.from({ length: Math.ceil((phaseMs / 1000) * 3_000 / clients) + 50 }, () => ({ accessToken: b.accessToken, skillToken: mint(b.playerId) }));
    });

    const bare: Record<string, { perS: number; p50Ms: number; p99Ms: number }> = {};
    const closed: Record<string, ReturnType<typeof figures> & Record<string, unknown>> = {};
    for (const clients of CLIENTS) {
      progress(`bare INSERT commits, ${clients} clients`);
      bare[`clients${clients}`] = await bareCommits(url, clients, Math.min(phaseMs, 3_000));
      progress(`warm-up and purchases, ${clients} clients`);
      await loadInWorker(worker, { kind: 'closed', url: purchaseUrl, queues: closedQueues(clients).map((q) => q.slice(0, 20)), durationMs: 1_000, connections: clients });
      if (profile) await platform.db.query('select pg_stat_statements_reset()');
      const [cpu0, pg0] = [process.cpuUsage(), pgCpuTicks(pgDir)];
      const r = await loadInWorker(worker, { kind: 'closed', url: purchaseUrl, queues: closedQueues(clients), durationMs: phaseMs, connections: clients });
      const [cpu1, pg1] = [process.cpuUsage(cpu0), pgCpuTicks(pgDir)];
      closed[`clients${clients}`] = {
        ...figures(r, bare[`clients${clients}`]),
        // CPU per purchase sold: this process (HTTP server, every module, the load worker) and the PostgreSQL server.
        cpuPerPurchaseUs: { node: Math.round((cpu1.user + cpu1.system) / Math.max(1, r.ok)), postgres: Math.round(((pg1 - pg0) * 10_000) / Math.max(1, r.ok)) },
        ...(profile ? { statementsPerPurchase: await statementProfile(platform.db, r.ok) } : {}),
      };
      await settled(platform.db, competitionId);
    }
    progress(`open-loop burst: ${BURST_PER_S}/s for ${burstS} s`);
    const burstJobs = Array.from({ length: BURST_PER_S * burstS }, (_, k) => {
      const b = buyers[k % buyers.length]!;
      return { accessToken: b.accessToken, skillToken: mint(b.playerId) };
    });
    const burst = await loadInWorker(worker, { kind: 'open', url: purchaseUrl, queues: [burstJobs], durationMs: burstS * 1000, ratePerS: BURST_PER_S, connections: 512 });
    await settled(platform.db, competitionId);
    const nonSoldOut = Object.entries(burst.refusals).filter(([code]) => code !== 'sold-out').reduce((n, [, v]) => n + v, 0);
    const books = await checkBooks(platform.db, competitionId);
    await crypto.close();
    const c32 = closed.clients32!;
    const c128 = closed.clients128!;
    // Where the platform's connections arrive: the embedded server's socket (ADR 0019) or TCP.
    const overTcp = (await platform.db.one<{ tcp: boolean }>('select inet_server_addr() is not null as tcp')).tcp;
    return {
      benchmark: 'ticketing',
      at: new Date().toISOString(),
      summary: {
        purchasesPerSAt32: c32.purchasesPerS, p99MsAt32: c32.p99Ms, bareCommitsPerSAt32: bare.clients32!.perS, ratioAt32: c32.toBareCommitRatio,
        purchasesPerSAt128: c128.purchasesPerS, p99MsAt128: c128.p99Ms, bareCommitsPerSAt128: bare.clients128!.perS, ratioAt128: c128.toBareCommitRatio,
        burstRequested: BURST_PER_S * burstS, burstSold: burst.ok, burstErrorsOtherThanSoldOut: nonSoldOut, burstDrainedInMs: burst.elapsedMs, burstP99Ms: burst.p99Ms,
        targets: 'sustained ≥ 1 000 purchases/s with p99 < 250 ms; a 5 000/s burst absorbed with no error other than sold-out',
        sustainedTargetMet: Math.max(c32.purchasesPerS, c128.purchasesPerS) >= 1_000 && Math.min(c32.p99Ms, c128.p99Ms) < 250,
        burstTargetMet: nonSoldOut === 0,
      },
      notes: `One hot competition (${MAX_TICKETS} tickets, price ${PRICE_MINOR}); ${playerCount} funded players; every purchase is 1 ticket with its own pass token and Idempotency-Key, through HTTP (JWT, compliance eligibility and spend limits, skill pass check, wallet reservation, issuing transaction, post). Closed loop for ${phaseMs / 1000} s per client count after a 1 s warm-up; the burst is open loop (latency from each request's due time). Bare = BEGIN; INSERT one row; COMMIT on the same server, ${Math.min(phaseMs, 3_000) / 1000} s per client count. The load runs in a worker thread of this process.`,
      // The machine may be shared: a load average above its CPU count means others were using it too.
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverage1mAtStart: round(loadAtStart, 2), loadAverage1mAtEnd: round(os.loadavg()[0]!, 2) },
      config: { databaseConnection: overTcp ? 'tcp' : 'unix socket', databasePoolMax: config.databasePoolMax, numberShards: config.ticketingNumberShards, houseShards: config.paymentsHouseShards },
      bareInsertCommit: bare,
      purchases: closed,
      burst: { requestedPerS: BURST_PER_S, seconds: burstS, ...figures(burst) },
      books,
    };
  } finally {
    await worker.terminate();
    await platform?.stop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(pgDir, { recursive: true, force: true });
  }
}

/** The small HTTP client the identity test helpers expect. */
function httpClient(base: string) {
  const request = async (method: string, p: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) => {
    const res = await fetch(base + p, { method, headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.headers ?? {}) }, body: o.body === undefined ? null : JSON.stringify(o.body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    request,
    get: (p: string, token?: string) => request('GET', p, { ...(token ? { token } : {}) }),
    post: (p: string, body?: unknown, token?: string, headers?: Record<string, string>) => request('POST', p, { body, ...(token ? { token } : {}), ...(headers ? { headers } : {}) }),
  };
}

if (isMainThread && import.meta.main) {
  runTicketingBench({ quick: process.argv.includes('--quick') }).then(
    (report) => process.stdout.write(`${JSON.stringify(report, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`ticketing bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
