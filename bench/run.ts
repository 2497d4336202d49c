/**
 * `npm run bench`: starts its own embedded PostgreSQL in a temp dir and the whole platform in this
 * process, then measures (loopback only, each phase bounded to a few seconds):
 *   a) authenticated GET /v1/me against a bare Fastify route: requests/s, latency, and the ratio;
 *   b) sign-ins/s (POST /v1/auth/login) with the production argon2id parameters, and one raw hash;
 *   c) a bare PostgreSQL insert+commit against an audit record append.
 * Prints ONE JSON document on stdout; progress goes to stderr.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hash, type Options as Argon2Options } from '@node-rs/argon2';
import pino from 'pino';
import { createDb, createLogger, loadConfig, startEmbeddedPostgres, startPlatform, type Config, type Platform } from '@verity/kernel';
import { verifyAuditRecords } from '../packages/kernel/src/audit/audit.ts';
import { allModules } from '../apps/platform/src/modules.ts';
import { commitVsAudit } from './database.ts';
import { runDrawBench } from './draw.ts';
import { runLedgerBench } from './ledger.ts';
import { runLogBench } from './log.ts';
import { runSanctionsBench } from './sanctions.ts';
import { runTicketingBench } from './ticketing.ts';
import { load, round, startBareFastify, unloadedLatency, type Target } from './http.ts';

const HTTP_DURATION_S = 5;
const HTTP_CONNECTIONS = 10;
const SIGN_IN_DURATION_S = 5;
/** argon2id is memory-hard: a few parallel sign-ins already fill two cores. */
const SIGN_IN_CONNECTIONS = 4;
const DB_PHASE_MS = 3000;
const ARGON2ID = 2;

const progress = (msg: string) => process.stderr.write(`# bench: ${msg}\n`);

async function post(url: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A registered player and a signed-in access token, through the public API. */
async function signedInPlayer(baseUrl: string): Promise<{ email: string; password: string; accessToken: string }> {
  const email = `bench-${randomBytes(6).toString('hex')}@example.test`;
  const password = `Bench-${randomBytes(12).toString('base64url')}-7x`;
  await post(`${baseUrl}/v1/players`, {
    email, password, legalName: 'Bench Player', dateOfBirth: '1990-01-01',
    address: { line1: '1 Bench Street', city: 'London', postcode: 'SW1A 1AA', country: 'GB' }, country: 'GB',
  });
  const tokens = await post(`${baseUrl}/v1/auth/login`, { email, password });
  if (!tokens.accessToken) throw new Error(`login did not return tokens: ${JSON.stringify(tokens)}`);
  return { email, password, accessToken: tokens.accessToken };
}

async function httpPhase(platform: Platform, player: { accessToken: string }) {
  const bare = await startBareFastify();
  try {
    const me: Target = { url: `${platform.url}/v1/me`, headers: { authorization: `Bearer ${player.accessToken}` } };
    const options = { durationS: HTTP_DURATION_S, connections: HTTP_CONNECTIONS, warmupS: 1 };
    progress('bare Fastify route');
    const bareFigures = await load({ url: bare.url }, options);
    progress('authenticated GET /v1/me');
    const meFigures = await load(me, options);
    return {
      connections: HTTP_CONNECTIONS,
      durationS: HTTP_DURATION_S,
      bareFastify: bareFigures,
      authenticatedGetMe: meFigures,
      getMeToBareRatio: round(meFigures.requestsPerS / bareFigures.requestsPerS, 3),
      unloadedLatency: { bareFastify: await unloadedLatency({ url: bare.url }, 300), authenticatedGetMe: await unloadedLatency(me, 300) },
    };
  } finally {
    await bare.close();
  }
}

async function signInPhase(platform: Platform, config: Config, player: { email: string; password: string }) {
  const argon2: Argon2Options = { algorithm: ARGON2ID, memoryCost: config.argon2MemoryKib, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism };
  progress('raw argon2id hashes');
  const hashMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await hash(`bench-password-${i}`, argon2);
    hashMs.push(performance.now() - t0);
  }
  hashMs.sort((a, b) => a - b);
  progress('sign-ins');
  const login: Target = { url: `${platform.url}/v1/auth/login`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: player.email, password: player.password }) };
  const figures = await load(login, { durationS: SIGN_IN_DURATION_S, connections: SIGN_IN_CONNECTIONS, warmupS: 1 });
  return {
    argon2id: { memoryKib: config.argon2MemoryKib, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism },
    rawHashMs: { mean: round(hashMs.reduce((s, t) => s + t, 0) / hashMs.length, 2), p50: round(hashMs[5]!, 2), min: round(hashMs[0]!, 2), max: round(hashMs.at(-1)!, 2), samples: hashMs.length },
    connections: SIGN_IN_CONNECTIONS,
    durationS: SIGN_IN_DURATION_S,
    signInsPerS: figures.requestsPerS,
    latencyMsP50: figures.latencyMsP50,
    latencyMsP99: figures.latencyMsP99,
    non2xx: figures.non2xx,
    errors: figures.errors,
  };
}

async function databasePhase(databaseUrl: string) {
  const db = createDb({ connectionString: databaseUrl, max: 10, applicationName: 'verity-bench' });
  try {
    const settings = await db.one<{ version: string; fsync: string; synchronous_commit: string }>(
      "select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit",
    );
    progress('bare commits and audit appends, one at a time');
    const sequential = await commitVsAudit(db, { durationMs: DB_PHASE_MS, concurrency: 1 });
    progress('bare commits and audit appends, 8 at a time');
    const concurrent = await commitVsAudit(db, { durationMs: DB_PHASE_MS, concurrency: 8 });
    const records = await verifyAuditRecords(db);
    return { postgres: { version: settings.version, fsync: settings.fsync, synchronousCommit: settings.synchronous_commit }, sequential, concurrent, auditRecords: { ok: records.ok, records: records.count } };
  } finally {
    await db.close();
  }
}

/** reserve+post purchases/s ÷ bare commits/s at 1, 8 and 32 clients, from the ledger bench's summary. */
function ledgerRatios(report: Record<string, unknown>): Record<string, unknown> {
  const summary = (report.summary ?? {}) as Record<string, unknown>;
  return { clients1: summary.ratioAt1, clients8: summary.ratioAt8, clients32: summary.ratioAt32 };
}

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-bench-'));
  // The directory itself (not a child): as root the server runs as `postgres`, which must reach it.
  const pg = await startEmbeddedPostgres({ dataDir });
  let platform: Platform | undefined;
  try {
    await pg.createDatabase('verity_bench');
    const databaseUrl = pg.urlFor('verity_bench');
    // Production argon2 parameters are the config defaults: nothing here overrides them.
    const config = loadConfig(
      { VERITY_ENV: 'development', PORT: '0', LOG_LEVEL: 'silent', SEED_DEMO: 'false', RATE_LIMIT_MAX: '1000000' },
      { dataDir, databaseUrl },
    );
    progress('starting the platform');
    // Logs as in production (info, one line per request), written to the null device.
    const log = createLogger('info', { destination: pino.destination({ dest: os.devNull, sync: false }) });
    platform = await startPlatform({ config, modules: allModules, log });
    const player = await signedInPlayer(platform.url);
    const http = await httpPhase(platform, player);
    const signIn = await signInPhase(platform, config, player);
    await platform.stop();
    platform = undefined;
    const database = await databasePhase(databaseUrl);
    progress('ledger: reserve+post against bare commits (1, 8, 32 clients)');
    const ledger = (await runLedgerBench()) as { reservePost?: unknown; bareInsertCommit?: unknown } & Record<string, unknown>;
    progress('ticketing: purchases through HTTP for one hot competition at 32 and 128 clients, a 5,000/s burst');
    const ticketing = (await runTicketingBench({})) as { summary?: unknown } & Record<string, unknown>;
    progress('evidence log: appends against bare commits, integration, proofs from PostgreSQL');
    const evidenceLog = (await runLogBench()) as { summary?: unknown } & Record<string, unknown>;
    progress('draw: root + selection over 10 million entries against raw SHA-256, χ² uniformity, proofs');
    const draw = (await runDrawBench()) as { summary?: unknown } & Record<string, unknown>;
    progress('sanctions matching: precision and recall on the labelled name pairs');
    const { sanctions } = (await runSanctionsBench()) as { sanctions: { precision: number; recall: number } & Record<string, unknown> };
    const report = {
      benchmark: 'verity',
      at: new Date().toISOString(),
      summary: {
        getMeRequestsPerS: http.authenticatedGetMe.requestsPerS,
        bareFastifyRequestsPerS: http.bareFastify.requestsPerS,
        getMeToBareRatio: http.getMeToBareRatio,
        signInsPerS: signIn.signInsPerS,
        argon2idHashMsP50: signIn.rawHashMs.p50,
        auditToCommitThroughputRatio: database.sequential.throughputRatio,
        auditToCommitThroughputRatioAt8: database.concurrent.throughputRatio,
        ledgerReservePostToBareCommitRatio: ledgerRatios(ledger),
        ticketing: ticketing.summary,
        evidenceLog: evidenceLog.summary,
        draw: draw.summary,
        sanctionsPrecision: sanctions.precision,
        sanctionsRecall: sanctions.recall,
      },
      notes: {
        http: `autocannon (worker thread, ${HTTP_CONNECTIONS} connections, ${HTTP_DURATION_S} s after 1 s warm-up) against the platform and a plugin-free Fastify route in this process; the platform logs at info to the null device. autocannon latencies have 1 ms resolution; unloadedLatency is one request at a time.`,
        signIn: 'POST /v1/auth/login for one player without MFA, with the argon2id parameters of the config defaults; rate limits raised out of the way.',
        database: 'insert+commit of one row per transaction against createAuditLog().record(), back to back: an audit record is a pending leaf of the evidence log plus its queryable copy, written in the caller\'s transaction without a shared lock (ADR 0012).',
      },
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.release()}` },
      http,
      signIn,
      database,
      ledger,
      ticketing,
      evidenceLog,
      draw,
      sanctions,
      totalDurationS: round((performance.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await platform?.stop();
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
