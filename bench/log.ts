/**
 * Evidence-log benchmark (ADR 0012).
 *
 *   node bench/log.ts            prints one JSON document (progress on stderr)
 *   runLogBench({ seconds })     the same object, for bench/run.ts
 *
 * Its own embedded PostgreSQL in a temp dir. Measures, on one run of one server:
 *  - appends/s, each in its own committed transaction, at 1, 8 and 32 clients (the log's append and
 *    an audit record), next to bare single-row INSERT commits/s in interleaved slices (the ratio);
 *    the integrator runs in the background as in the platform;
 *  - integration throughput (leaves/s) of a backlog of pending rows;
 *  - inclusion and consistency proof generation from PostgreSQL at ~100k leaves and at the final
 *    size (LOG_BENCH_LEAVES, default 1,000,000), and their verification time;
 *  - a full verification of the log (leaves, nodes, checkpoints) at the final size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fromHex, parseCheckpoint, openNote, verifierFromVkey, verifyConsistency, verifyInclusion } from '@verity/evidence';
import { createDb, createEvidenceLog, createLogger, loadConfig, loadMigrations, migrate, startEmbeddedPostgres, type Db } from '@verity/kernel';
import { createAuditLog } from '../packages/kernel/src/audit/audit.ts';
import { createFieldCrypto } from '../packages/kernel/src/crypto/field-crypto.ts';
import { createAppender } from '../packages/kernel/src/evidence-log/append.ts';
import { createIntegrator } from '../packages/kernel/src/evidence-log/integrator.ts';
import { createLogRepository } from '../packages/kernel/src/evidence-log/repository.ts';
import { runLanes } from './lanes.ts';

const CONCURRENCY = [1, 8, 32] as const;
const ROUNDS = 3;
const PROOF_SAMPLES = 300;
const FILL_CHUNK = 50_000;

const progress = (msg: string) => process.stderr.write(`# bench log: ${msg}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

interface Rate {
  perS: number;
  p50Ms: number;
  p99Ms: number;
}

function rate(rates: number[], times: number[]): Rate {
  times.sort((a, b) => a - b);
  return { perS: round(median(rates)), p50Ms: round(pct(times, 0.5), 2), p99Ms: round(pct(times, 0.99), 2) };
}

/** Appends at 1/8/32 clients against bare commits, interleaved so a noisy neighbour hits both. */
async function appendPhase(db: Db, sliceMs: number) {
  await db.query('create table if not exists public.bench_log_commits (id bigint generated always as identity primary key, data jsonb not null)');
  const append = createAppender(db, 'draws', () => {});
  const audit = createAuditLog(db, 'bench');
  const record = (i: number) => ({ type: 'draws.bench-record.v1', data: { drawId: 'bench', i, note: 'a record of about two hundred bytes, as a draw step or an operator action would be', at: new Date() } });
  let n = 0;
  const ops: Record<string, () => Promise<unknown>> = {
    bareInsertCommit: () => db.tx(() => db.query('insert into public.bench_log_commits (data) values ($1)', [JSON.stringify(record(n++))])),
    logAppend: () => db.tx(() => append(record(n++))),
    auditRecord: () => db.tx(() => audit.record({ actor: 'operator:bench', action: 'bench.setting-changed', subject: `setting:${n++}`, data: { from: 1, to: 2 } })),
  };
  const out: Record<string, Record<string, Rate & { toBareRatio?: number }>> = Object.fromEntries(Object.keys(ops).map((k) => [k, {}]));
  for (const c of CONCURRENCY) {
    const samples = Object.fromEntries(Object.keys(ops).map((k) => [k, { rates: [] as number[], times: [] as number[] }]));
    for (let r = 1; r <= ROUNDS; r++) {
      progress(`appends, ${c} clients, round ${r}/${ROUNDS}`);
      for (const [k, op] of Object.entries(ops)) samples[k]!.rates.push((await runLanes(sliceMs, c, op, samples[k]!.times)).perS);
    }
    const bare = rate(samples.bareInsertCommit!.rates, samples.bareInsertCommit!.times);
    out.bareInsertCommit![`clients${c}`] = bare;
    for (const k of ['logAppend', 'auditRecord']) {
      const f = rate(samples[k]!.rates, samples[k]!.times);
      out[k]![`clients${c}`] = { ...f, toBareRatio: round(f.perS / bare.perS, 3) };
    }
  }
  return out;
}

/** Pending rows made in SQL (no client round trips): the backlog the integrator then works off. */
async function fillPending(db: Db, count: number, from: number): Promise<void> {
  for (let done = 0; done < count; done += FILL_CHUNK) {
    const n = Math.min(FILL_CHUNK, count - done);
    await db.query(
      `insert into kernel.log_pending (id, leaf_hash, data, kind, module, type, visibility)
       select gen_random_uuid(), kernel.log_leaf_hash(d), d, 'record', 'draws', 'draws.bench-record.v1', 'public'
         from (select convert_to('{"drawId":"bench","i":' || g || ',"note":"a bench leaf of a realistic size for a draw record, padded"}', 'UTF8') as d
                 from generate_series($1::bigint, $2::bigint) g) s`,
      [from + done, from + done + n - 1],
    );
  }
}

async function integrateBacklog(db: Db, count: number, from: number): Promise<{ leaves: number; seconds: number; leavesPerS: number }> {
  await fillPending(db, count, from);
  const integrator = createIntegrator({ db, repo: createLogRepository(db), batchMax: 2_000 });
  const t0 = performance.now();
  const r = await integrator.drain();
  const seconds = (performance.now() - t0) / 1000;
  return { leaves: r.integrated, seconds: round(seconds, 2), leavesPerS: round(r.integrated / seconds) };
}

type LogRuntime = ReturnType<typeof createEvidenceLog>;

/** Proof generation (from PostgreSQL, as served) and offline verification, at the current size. */
async function proofPhase(log: LogRuntime, db: Db) {
  const draws = log.forModule('draws');
  const cp = await draws.checkpoint();
  const checkpoint = parseCheckpoint(openNote(cp.note, [verifierFromVkey(await log.publicKey())]).text);
  const size = cp.size;
  const leafHashes = new Map<number, Uint8Array>();
  const incGen: number[] = [];
  const incVer: number[] = [];
  const conGen: number[] = [];
  const conVer: number[] = [];
  let proofLength = 0;
  for (let s = 0; s < PROOF_SAMPLES; s++) {
    const index = Math.floor(Math.random() * size);
    const row = await db.one<{ leaf_hash: Buffer }>('select leaf_hash from kernel.log_leaves where idx = $1', [index]);
    leafHashes.set(index, row.leaf_hash);
    let t0 = performance.now();
    const inc = await draws.inclusionProof(index, size);
    incGen.push(performance.now() - t0);
    const path = inc.proof.map((h) => fromHex(h));
    proofLength = path.length;
    t0 = performance.now();
    if (!verifyInclusion(row.leaf_hash, index, size, path, checkpoint.rootHash)) throw new Error(`inclusion proof of ${index} does not verify`);
    incVer.push(performance.now() - t0);

    const from = 1 + Math.floor(Math.random() * (size - 1));
    t0 = performance.now();
    const con = await draws.consistencyProof(from, size);
    conGen.push(performance.now() - t0);
    const cpath = con.proof.map((h) => fromHex(h));
    t0 = performance.now();
    if (!verifyConsistency(from, size, fromHex(con.fromRootHash), checkpoint.rootHash, cpath)) throw new Error(`consistency ${from}→${size} does not verify`);
    conVer.push(performance.now() - t0);
  }
  const ms = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return { p50Ms: round(pct(xs, 0.5), 3), p99Ms: round(pct(xs, 0.99), 3) };
  };
  // Proof generation includes the node fetch (one query), assembly, the self-check and the checkpoint lookup.
  return {
    size,
    samples: PROOF_SAMPLES,
    inclusionPathLength: proofLength,
    inclusionGenerate: ms(incGen),
    inclusionVerify: ms(incVer),
    consistencyGenerate: ms(conGen),
    consistencyVerify: ms(conVer),
  };
}

export async function runLogBench(opts: { seconds?: number } = {}): Promise<object> {
  const seconds = opts.seconds ?? Number(process.env.LOG_BENCH_SECONDS ?? 3);
  const sliceMs = Math.max(200, Math.round((seconds * 1000) / ROUNDS));
  const targetLeaves = Number(process.env.LOG_BENCH_LEAVES ?? 1_000_000);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-log-bench-'));
  const server = await startEmbeddedPostgres({ dataDir });
  await server.createDatabase('log_bench');
  const url = server.urlFor('log_bench');
  const db = createDb({ connectionString: url, max: 80, applicationName: 'verity-log-bench', statementTimeoutMs: 600_000 });
  const config = loadConfig({ VERITY_ENV: 'test', LOG_LEVEL: 'silent' }, { dataDir, databaseUrl: url, keyFile: path.join(dataDir, 'master.key'), logAnchorDir: undefined });
  const log = createLogger('silent');
  let crypto: Awaited<ReturnType<typeof createFieldCrypto>> | undefined;
  let evidence: LogRuntime | undefined;
  try {
    await migrate(db, await loadMigrations([]));
    crypto = await createFieldCrypto({ db, config, log });
    evidence = createEvidenceLog({ db, config, log, crypto });
    const pg = await db.one<{ version: string; fsync: string; synchronous_commit: string }>(
      "select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit",
    );
    // As in the platform: the integrator polls and signs in the background while clients append.
    await evidence.start({ background: true });
    const appends = await appendPhase(db, sliceMs);
    await evidence.stop();
    const repo = createLogRepository(db);
    await createIntegrator({ db, repo, batchMax: 2_000 }).drain();

    const size0 = await repo.treeSize();
    const first = Math.max(0, 100_000 - size0);
    progress(`integrating a backlog of ${first} pending rows`);
    const integration = await integrateBacklog(db, first, size0);
    progress(`proofs at ${await repo.treeSize()} leaves`);
    const at100k = await proofPhase(evidence, db);

    let atTarget: Awaited<ReturnType<typeof proofPhase>> | undefined;
    let integrationLarge: Awaited<ReturnType<typeof integrateBacklog>> | undefined;
    const rest = targetLeaves - (await repo.treeSize());
    if (rest > 0) {
      progress(`growing the log to ${targetLeaves} leaves`);
      integrationLarge = await integrateBacklog(db, rest, await repo.treeSize());
      progress(`proofs at ${await repo.treeSize()} leaves`);
      atTarget = await proofPhase(evidence, db);
    }
    progress('verifying the whole log');
    const t0 = performance.now();
    const v = await evidence.verify();
    const vs = (performance.now() - t0) / 1000;
    const verification = { ok: v.ok, leaves: v.size, nodes: v.nodes, checkpoints: v.checkpoints, seconds: round(vs, 1), leavesPerS: round(v.size / vs) };
    const sizes = await db.one<{ leaves: string; nodes: string; total: string }>(
      `select pg_size_pretty(pg_total_relation_size('kernel.log_leaves')) as leaves, pg_size_pretty(pg_total_relation_size('kernel.log_nodes')) as nodes,
              pg_size_pretty(pg_database_size(current_database())) as total`,
    );

    const c32 = appends.logAppend!.clients32!;
    return {
      benchmark: 'log',
      at: new Date().toISOString(),
      summary: {
        logAppendsPerSAt32: c32.perS,
        bareCommitsPerSAt32: appends.bareInsertCommit!.clients32!.perS,
        appendToBareRatioAt1: appends.logAppend!.clients1!.toBareRatio,
        appendToBareRatioAt8: appends.logAppend!.clients8!.toBareRatio,
        appendToBareRatioAt32: c32.toBareRatio,
        auditToBareRatioAt32: appends.auditRecord!.clients32!.toBareRatio,
        integrationLeavesPerS: (integrationLarge ?? integration).leavesPerS,
        inclusionProofP50MsAtLargest: (atTarget ?? at100k).inclusionGenerate.p50Ms,
        consistencyProofP50MsAtLargest: (atTarget ?? at100k).consistencyGenerate.p50Ms,
      },
      notes: `Appends: BEGIN; one evidence-log append (or one audit record: two statements); COMMIT, back to back per client; bare = BEGIN; INSERT one jsonb row; COMMIT. Median of ${ROUNDS} interleaved slices of ${sliceMs} ms. The integrator runs in the background during the append phase. Integration: a backlog of pending rows made in SQL, worked off in batches of 2000 (one transaction each). Proof times are per call through the kernel API as HTTP serves them (one node query, assembly, a self-check, the checkpoint lookup); verification is @verity/evidence's verifier.`,
      postgres: { version: pg.version, fsync: pg.fsync, synchronousCommit: pg.synchronous_commit },
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverage1m: round(os.loadavg()[0]!, 2) },
      appends,
      integration: { to100k: integration, ...(integrationLarge ? { toTarget: integrationLarge } : {}) },
      proofs: { at100k, ...(atTarget ? { atTarget } : {}) },
      verification,
      storage: sizes,
    };
  } finally {
    await evidence?.stop();
    await crypto?.close();
    await db.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  runLogBench().then(
    (report) => process.stdout.write(`${JSON.stringify(report, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`log bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
