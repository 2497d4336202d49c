/**
 * The evidence log of one process: the integrator loop (a short poll plus kicks from appends and
 * waiters; a cron job as backstop), checkpoint signing at most every LOG_CHECKPOINT_INTERVAL_MS
 * and on demand, proofs from the stored complete subtrees, witness cosignatures and anchoring.
 * Every process runs this; the integrator's advisory lock makes one of them sequence at a time.
 */
import { AsyncResource } from 'node:async_hooks';
import {
  appendSignatures, consistencyPlan, cosignatureVerifier, formatCheckpoint, inclusionPlan, NoteError, rootPlan, signNote, verifyConsistency,
  verifyCosignature, verifyInclusion, type NodeRef,
} from '@verity/evidence';
import { createAuditLog } from '../audit/audit.ts';
import type { Config } from '../config.ts';
import type { FieldCrypto } from '../crypto/types.ts';
import type { Db } from '../db/db.ts';
import type { JobDefinition } from '../events/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { CheckpointAnchor } from './anchors.ts';
import { createAppender } from './append.ts';
import { createIntegrator } from './integrator.ts';
import { LogProblems } from './problems.ts';
import { createLogRepository, type CheckpointRow, type LeafRow } from './repository.ts';
import { loadLogKey, type LogKey } from './signing-key.ts';
import type { ConsistencyProofResult, EvidenceLog, InclusionProofResult, LogCheckpoint, LogEntry } from './types.ts';
import { verifyLog, type LogVerification } from './verify.ts';

/** A kick waits this long, so the appending transaction has usually committed by then. */
const KICK_DELAY_MS = 5;
const WAIT_STEP_MS = 15;
const DEFAULT_WAIT_MS = 10_000;
const WITNESS_PAGE_MAX = 100;
/** A cosignature dated further ahead than this is refused (clock skew allowance). */
const COSIGNATURE_FUTURE_S = 600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export interface EvidenceLogOptions {
  db: Db;
  config: Pick<Config, 'logOrigin' | 'logIntegrateIntervalMs' | 'logIntegrateBatchMax' | 'logCheckpointIntervalMs' | 'logAnchorIntervalMs'>;
  log: Logger;
  crypto: FieldCrypto;
  anchors?: readonly CheckpointAnchor[];
}

export interface ServedCheckpoint extends LogCheckpoint {
  /** The note with the witnesses' cosignature lines appended (C2SP). */
  cosignedNote: string;
  cosignatures: { witness: string; cosignedAt: Date }[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function createEvidenceLog(opts: EvidenceLogOptions) {
  const { db, config, log } = opts;
  const repo = createLogRepository(db);
  const integrator = createIntegrator({ db, repo, batchMax: config.logIntegrateBatchMax });
  const anchors = opts.anchors ?? [];
  const audit = createAuditLog(db, 'kernel');
  // Anchor jobs are enqueued through the bus once the platform has it (kernel queue `log-anchor`).
  let enqueueAnchor: ((size: number, anchor: string) => Promise<void>) | undefined;

  let keyPromise: Promise<LogKey> | undefined;
  const key = (): Promise<LogKey> => {
    keyPromise ??= loadLogKey({ origin: config.logOrigin, repo, crypto: opts.crypto, log }).catch((err: unknown) => {
      keyPromise = undefined;
      throw err;
    });
    return keyPromise;
  };

  // --- the loop: passes never overlap in this process; kicks and ticks coalesce ---------------
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let poll: NodeJS.Timeout | undefined;
  let kickTimer: NodeJS.Timeout | undefined;
  let signTimer: NodeJS.Timeout | undefined;

  // Whether a pass should look at the checkpoint cadence: after it integrated, when the cadence
  // timer fired, and on the cron backstop (another process may have integrated and died).
  let cadenceDue = true;

  async function pass(): Promise<void> {
    if (await repo.hasPending()) {
      const r = await integrator.drain();
      if (r.integrated > 0) cadenceDue = true;
    }
    if (!cadenceDue) return;
    cadenceDue = false;
    await checkpointIfDue();
  }

  // Bound to the context the log was created in: a kick from inside a caller's transaction must
  // not run the integrator on that transaction's connection (AsyncLocalStorage follows timers).
  const tick = AsyncResource.bind((): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = pass()
      .catch((err: unknown) => {
        cadenceDue = true;
        log.warn({ err }, 'evidence log integration failed; retrying on the next tick');
      })
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          void tick();
        }
      });
    return running;
  });

  const kick = AsyncResource.bind((): void => {
    if (stopped || kickTimer) return;
    kickTimer = setTimeout(() => {
      kickTimer = undefined;
      void tick();
    }, KICK_DELAY_MS);
    kickTimer.unref();
  });

  /** Integrates now, outside any ambient transaction. */
  const drainDetached = AsyncResource.bind(async () => {
    const r = await integrator.drain();
    if (r.integrated > 0) {
      // Leaves integrated for a waiter still get a checkpoint on the usual cadence.
      cadenceDue = true;
      kick();
    }
    return r;
  });
  const signDetached = AsyncResource.bind((size: number) => signAt(size));
  const anchorDetached = AsyncResource.bind(() => anchorIfDue());

  // --- checkpoints -------------------------------------------------------------------------------
  async function signAt(size: number): Promise<void> {
    const k = await key();
    const rootHash = await integrator.rootAt(size);
    const note = signNote(formatCheckpoint({ origin: k.origin, size, rootHash }), [k.signer]);
    if (await repo.insertCheckpoint({ size, rootHash, note })) log.debug({ size }, 'evidence log checkpoint signed');
  }

  async function checkpointIfDue(): Promise<void> {
    const [latest, size] = await Promise.all([repo.latestCheckpoint(), repo.treeSize()]);
    if (latest && Number(latest.size) >= size) return;
    const elapsedMs = latest ? latest.now.getTime() - latest.signed_at.getTime() : Infinity;
    if (elapsedMs >= config.logCheckpointIntervalMs) {
      await signAt(size);
      await anchorIfDue();
    } else if (!signTimer && !stopped) {
      signTimer = setTimeout(() => {
        signTimer = undefined;
        cadenceDue = true;
        void tick();
      }, config.logCheckpointIntervalMs - elapsedMs + 1);
      signTimer.unref();
    }
  }

  /** Hands the latest checkpoint to each anchor whose last one is older than LOG_ANCHOR_INTERVAL_MS. */
  async function anchorIfDue(): Promise<void> {
    if (!enqueueAnchor || anchors.length === 0) return;
    const latest = await repo.latestCheckpoint();
    if (!latest) return;
    const size = Number(latest.size);
    for (const a of anchors) {
      const last = await repo.lastAnchoredAt(a.name);
      if (last && last.now.getTime() - last.created_at.getTime() < config.logAnchorIntervalMs) continue;
      await db.tx(async () => {
        if (await repo.insertAnchor(size, a.name)) await enqueueAnchor!(size, a.name);
      });
    }
  }

  const toCheckpoint = async (row: CheckpointRow): Promise<LogCheckpoint> => ({
    origin: (await key()).origin, size: Number(row.size), rootHash: hex(row.root_hash), note: row.note, signedAt: row.signed_at,
  });

  async function treeSizeAtLeast(target: number, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      await drainDetached();
      const size = await repo.treeSize();
      if (size >= target) return size;
      if (performance.now() > deadline) throw LogProblems.notIntegrated(`tree size ${target}`, timeoutMs);
      await sleep(WAIT_STEP_MS);
    }
  }

  async function checkpoint(options: { atLeast?: number; timeoutMs?: number } = {}): Promise<LogCheckpoint> {
    const target = options.atLeast ?? 0;
    if (!Number.isSafeInteger(target) || target < 0) throw new RangeError('checkpoint: atLeast must be a non-negative integer');
    const size = await treeSizeAtLeast(target, options.timeoutMs ?? DEFAULT_WAIT_MS);
    const latest = await repo.latestCheckpoint();
    if (!latest || Number(latest.size) < size) {
      await signDetached(size);
      // Anchoring is best effort here: the checkpoint is signed and stored whatever happens to it.
      await anchorDetached().catch((err: unknown) => log.warn({ err }, 'evidence log anchoring not scheduled'));
    }
    const row = await repo.latestCheckpoint();
    if (!row || Number(row.size) < target) throw new Error(`evidence log: no checkpoint of ${target} leaves after signing`);
    return toCheckpoint(row);
  }

  // --- proofs ------------------------------------------------------------------------------------
  /** Fetches several plans' nodes in one query. */
  async function fetchPlans(plans: readonly { refs: NodeRef[] }[]): Promise<Buffer[][]> {
    const all = await repo.nodeHashes(plans.flatMap((p) => p.refs));
    let o = 0;
    return plans.map((p) => all.slice(o, (o += p.refs.length)));
  }

  async function assertSizeExists(size: number): Promise<void> {
    const treeSize = await repo.treeSize();
    if (size > treeSize) throw LogProblems.sizeBeyondTree(size, treeSize);
  }

  async function proveInclusion(index: number, size: number): Promise<InclusionProofResult> {
    if (index >= size) throw LogProblems.indexBeyondSize(index, size);
    await assertSizeExists(size);
    const plan = inclusionPlan(index, size);
    const root = rootPlan(size);
    const leafRef = { refs: [{ level: 0, index }] };
    const [planHashes, rootHashes, leafHashes] = await fetchPlans([plan, root, leafRef]);
    const leaf = leafHashes![0];
    const proof = plan.assemble(planHashes!);
    const rootHash = root.assemble(rootHashes!)[0]!;
    // Served proofs are checked first: a damaged node must fail here, not at a verifier's desk.
    if (!verifyInclusion(leaf!, index, size, proof, rootHash)) throw new Error(`evidence log: inclusion proof of ${index} in ${size} does not verify (storage damaged?)`);
    const cp = await repo.checkpointAt(size);
    return {
      index, size, leafHash: hex(leaf!), proof: proof.map(hex), rootHash: hex(rootHash),
      ...(cp ? { checkpoint: (await served(cp)).cosignedNote } : {}),
    };
  }

  async function proveConsistency(from: number, to: number): Promise<ConsistencyProofResult> {
    if (from > to) throw LogProblems.rangeInvalid(from, to);
    await assertSizeExists(to);
    const plan = consistencyPlan(from, to);
    const [planHashes, fromHashes, toHashes] = await fetchPlans([plan, rootPlan(from), rootPlan(to)]);
    const proof = plan.assemble(planHashes!);
    const fromRoot = rootPlan(from).assemble(fromHashes!)[0]!;
    const toRoot = rootPlan(to).assemble(toHashes!)[0]!;
    if (!verifyConsistency(from, to, fromRoot, toRoot, proof)) throw new Error(`evidence log: consistency proof ${from}→${to} does not verify (storage damaged?)`);
    const [cpFrom, cpTo] = await Promise.all([repo.checkpointAt(from), repo.checkpointAt(to)]);
    return {
      from, to, proof: proof.map(hex), fromRootHash: hex(fromRoot), toRootHash: hex(toRoot),
      ...(cpFrom ? { fromCheckpoint: (await served(cpFrom)).cosignedNote } : {}),
      ...(cpTo ? { toCheckpoint: (await served(cpTo)).cosignedNote } : {}),
    };
  }

  async function latestCheckpointRow(): Promise<CheckpointRow> {
    const row = await repo.latestCheckpoint();
    if (row) return row;
    await checkpoint();
    return (await repo.latestCheckpoint())!;
  }

  async function served(row: CheckpointRow): Promise<ServedCheckpoint> {
    const cosigs = await repo.cosignatures(Number(row.size));
    return {
      ...(await toCheckpoint(row)),
      cosignedNote: cosigs.length ? appendSignatures(row.note, cosigs.map((c) => c.line)) : row.note,
      cosignatures: cosigs.map((c) => ({ witness: c.witness, cosignedAt: c.cosigned_at })),
    };
  }

  const entryOf = (row: LeafRow): LogEntry => ({
    index: Number(row.idx), leafHash: hex(row.leaf_hash), data: new Uint8Array(row.data), kind: row.kind, module: row.module, type: row.type,
    visibility: row.visibility, recordedAt: row.recorded_at, integratedAt: row.integrated_at,
  });

  async function entry(index: number): Promise<LogEntry> {
    const row = await repo.leaf(index);
    if (!row) throw LogProblems.entryNotFound(`at index ${index}`);
    return entryOf(row);
  }

  async function indexOf(ref: string): Promise<number | undefined> {
    if (UUID.test(ref)) return repo.leafIndexByPendingId(ref);
    if (HEX64.test(ref)) return repo.leafIndexByHash(Buffer.from(ref, 'hex'));
    throw new TypeError('evidence log: a reference is a pending id (UUID) or a leaf hash (64 lowercase hex)');
  }

  async function integrated(ref: string, options: { timeoutMs?: number } = {}): Promise<{ index: number }> {
    // Waiting inside the transaction that appended would wait for a commit that comes after the wait.
    if (db.inTransaction()) throw new Error('evidence log: integrated() waits for a commit; call it after the transaction');
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = await indexOf(ref);
      if (index !== undefined) return { index };
      if (performance.now() > deadline) throw LogProblems.notIntegrated(ref, timeoutMs);
      await drainDetached();
      if ((await indexOf(ref)) === undefined) await sleep(WAIT_STEP_MS);
    }
  }

  // --- witnesses ---------------------------------------------------------------------------------
  async function registerWitness(vkey: string, actor: string): Promise<{ name: string; vkey: string; registeredAt: Date }> {
    let name: string;
    try {
      name = cosignatureVerifier(vkey).name;
    } catch (err) {
      throw LogProblems.witnessInvalid(`Not a C2SP cosignature/v1 (Ed25519, type 0x04) verifier key: ${(err as Error).message}`);
    }
    return db.tx(async () => {
      const row = await repo.insertWitness({ name, vkey, registeredBy: actor });
      if (!row) throw LogProblems.witnessExists(name);
      await audit.record({ actor, action: 'kernel.log-witness-registered', subject: `log-witness:${name}`, data: { vkey } });
      return { name, vkey, registeredAt: row.registered_at };
    });
  }

  /** Verifies a witness's cosignature line over our checkpoint of `size` and stores it. */
  async function submitCosignature(size: number, line: string): Promise<{ created: boolean; witness: string; cosignedAt: Date }> {
    const cp = await repo.checkpointAt(size);
    if (!cp) throw LogProblems.checkpointNotFound(size);
    const name = /^\u2014 (\S+) \S+\n?$/u.exec(line)?.[1];
    if (!name) throw LogProblems.cosignatureInvalid('A cosignature is one signature line: "— <witness name> <base64>".');
    const witness = await repo.witness(name);
    if (!witness) throw LogProblems.witnessUnknown(name);
    let note: string;
    try {
      note = appendSignatures(cp.note, [line]);
    } catch (err) {
      if (err instanceof NoteError) throw LogProblems.cosignatureInvalid(err.message);
      throw err;
    }
    const check = verifyCosignature(note, witness.vkey);
    if (!check.ok) throw LogProblems.cosignatureInvalid(`The cosignature of ${name} does not verify over checkpoint ${size}: ${check.reason ?? 'invalid'}.`);
    const now = await db.now();
    if (check.timeS! > now.getTime() / 1000 + COSIGNATURE_FUTURE_S) throw LogProblems.cosignatureInvalid('The cosignature is dated in the future.');
    const cosignedAt = new Date(check.timeS! * 1000);
    const normalized = line.endsWith('\n') ? line : `${line}\n`;
    const created = await repo.insertCosignature({ size, witness: name, line: normalized, cosignedAt });
    return { created, witness: name, cosignedAt };
  }

  // --- anchoring job -----------------------------------------------------------------------------
  async function deliverAnchor(size: number, anchorName: string): Promise<void> {
    const anchor = anchors.find((a) => a.name === anchorName);
    if (!anchor) {
      log.warn({ anchor: anchorName, size }, 'evidence log anchor no longer configured; delivery dropped');
      return;
    }
    const row = await repo.anchor(size, anchorName);
    if (!row || row.status === 'anchored') return;
    const cp = await repo.checkpointAt(size);
    if (!cp) throw new Error(`evidence log: anchor job for unknown checkpoint ${size}`);
    try {
      const receipt = await anchor.anchor({ origin: (await key()).origin, size, rootHash: hex(cp.root_hash), note: cp.note });
      await repo.anchorSucceeded(size, anchorName, receipt);
      log.info({ anchor: anchorName, size }, 'evidence log checkpoint anchored');
    } catch (err) {
      await repo.anchorFailed(size, anchorName, (err as Error).message ?? String(err));
      log.warn({ err, anchor: anchorName, size, attempt: row.attempts + 1 }, 'evidence log anchoring failed; the queue retries it');
      throw err;
    }
  }

  const jobs: JobDefinition<any>[] = [
    {
      // Backstop: a process that was never kicked (or whose timers died) still integrates and signs.
      name: 'log-integrate',
      cron: '* * * * *',
      retryLimit: 1,
      async handle() {
        cadenceDue = true;
        await tick();
        await anchorIfDue();
      },
    },
    {
      name: 'log-anchor',
      // 2 s, 4 s, … capped at an hour by the queue: a day of retries before the dead-letter queue.
      retryLimit: 30,
      retryDelayS: 2,
      timeoutS: 120,
      async handle(data: { size: number; anchor: string }) {
        await deliverAnchor(data.size, data.anchor);
      },
    },
  ];

  return {
    jobs,
    kick,
    /** Loads (or creates) the signing key, signs a first checkpoint, starts the loop when `background`. */
    async start(options: { background: boolean; enqueueAnchor?: (size: number, anchor: string) => Promise<void> }): Promise<void> {
      enqueueAnchor = options.enqueueAnchor;
      await key();
      if (!(await repo.latestCheckpoint())) await checkpoint();
      if (options.background) {
        poll = setInterval(() => void tick(), config.logIntegrateIntervalMs);
        poll.unref();
        void tick();
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const t of [poll, kickTimer, signTimer]) if (t) clearTimeout(t);
      await running;
    },
    forModule(module: string): EvidenceLog {
      const append = createAppender(db, module, kick);
      return {
        append,
        integrated,
        checkpoint,
        inclusionProof: (index, size) => inclusionProof(index, size),
        consistencyProof: (size1, size2) => consistencyProof(size1, size2),
        entry,
        publicKey: async () => (await key()).vkey,
      };
    },
    checkpoint,
    integrated,
    entry,
    publicKey: async () => (await key()).vkey,
    /** The latest checkpoint (or the one of `size`), with its cosignatures. */
    async servedCheckpoint(size?: number): Promise<ServedCheckpoint> {
      if (size === undefined) return served(await latestCheckpointRow());
      const row = await repo.checkpointAt(size);
      if (!row) throw LogProblems.checkpointNotFound(size);
      return served(row);
    },
    inclusionProof,
    /** For HTTP: never signs on demand; an entry not yet under a checkpoint is a 409 to retry. */
    async publicInclusionProof(ref: { index: number } | { leafHash: string }, size?: number): Promise<InclusionProofResult> {
      const index = 'index' in ref ? ref.index : await repo.leafIndexByHash(Buffer.from(ref.leafHash, 'hex'));
      if (index === undefined) throw LogProblems.entryNotFound(`with hash ${(ref as { leafHash: string }).leafHash}`);
      if (size !== undefined) return proveInclusion(index, size);
      const latest = Number((await latestCheckpointRow()).size);
      if (latest > index) return proveInclusion(index, latest);
      if (index >= (await repo.treeSize())) throw LogProblems.entryNotFound(`at index ${index}`);
      throw LogProblems.notCheckpointed(index, Math.max(1, Math.ceil(config.logCheckpointIntervalMs / 1000)));
    },
    async publicConsistencyProof(from: number, to?: number): Promise<ConsistencyProofResult> {
      return proveConsistency(from, to ?? Number((await latestCheckpointRow()).size));
    },
    registerWitness,
    async witnesses(after: string, limit: number) {
      const rows = await repo.witnesses(after, Math.min(limit, WITNESS_PAGE_MAX));
      return rows.map((r) => ({ name: r.name, vkey: r.vkey, registeredAt: r.registered_at }));
    },
    submitCosignature,
    async verify(): Promise<LogVerification> {
      return verifyLog(db, (await key()).verifier);
    },
  };

  async function inclusionProof(index: number, size?: number): Promise<InclusionProofResult> {
    if (size !== undefined) return proveInclusion(index, size);
    // Against the latest checkpoint; a module asking about a leaf no checkpoint covers yet (a draw's
    // evidence bundle) gets one signed now.
    const latest = await latestCheckpointRow();
    const covering = Number(latest.size) > index ? Number(latest.size) : (await checkpoint({ atLeast: index + 1 })).size;
    return proveInclusion(index, covering);
  }

  async function consistencyProof(size1: number, size2?: number): Promise<ConsistencyProofResult> {
    return proveConsistency(size1, size2 ?? Number((await latestCheckpointRow()).size));
  }
}

export type EvidenceLogRuntime = ReturnType<typeof createEvidenceLog>;
