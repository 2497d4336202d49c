/**
 * Running a draw: the beacon round the manifest named (or its fallback, when R could not be had
 * within its window) is fetched from the relays and verified, the operator secret is decrypted and
 * checked against its commitment, the winners are selected (HMAC_DRBG, rejection sampling), the
 * result record (which reveals the secret) is logged and checkpointed, the bundle assembled and
 * stored, ticketing marks the competition drawn, and the winners are announced. A timer job runs it
 * at round R's time; an operator may run it as soon as the round exists. Every step re-runs safely.
 */
import {
  operatorCommitment, RECORD_TYPES, resultRecordBytes, selectWinners, sha256, tierOfPosition, toHex, winnersToDraw, fromHex,
  type DrawWinner, type ResultRecord,
} from '@verity/evidence';
import { DomainError } from '@verity/kernel';
import { isBeaconError, type VerifiedBeacon } from '../beacon/port.ts';
import { DrawEvents, LogRecordTypes, type DrawCompletedV1, type DrawFailedV1, type DrawRecord, type WinnerSelectedV1 } from '../contract.ts';
import { prizeOf } from '../domain/prizes.ts';
import { candidateRound, chainOfManifest, roundDate } from '../domain/rounds.ts';
import type { createBundles } from './bundle.ts';
import type { createCommit } from './commit.ts';
import { secretSubject } from './commit.ts';
import type { DrawsDeps } from './deps.ts';
import { DrawProblems } from './problems.ts';
import type { NewWinner } from './repository.ts';
import { DRAW_JOB } from './snapshot.ts';

export const SETTLE_JOB = 'settle-draw';
/** Longest pause between two attempts at a round that is late (the window bounds the total). */
const RETRY_MAX_S = 60;


export function createRun(deps: DrawsDeps, parts: { commit: ReturnType<typeof createCommit>; bundles: ReturnType<typeof createBundles> }) {
  const { ctx, repo, beacons, settings } = deps;

  async function fail(d: DrawRecord, reason: string): Promise<void> {
    await ctx.db.tx(async () => {
      const locked = await repo.lock(d.drawId);
      if (!locked || locked.state !== 'snapshotted' || locked.resultLog) return;
      await repo.setState(d.drawId, 'failed', { failureReason: reason });
      await ctx.audit.record({ actor: 'service:draws', action: 'draws.draw-failed', subject: `draw:${d.drawId}`, reason, data: { competitionId: d.competitionId } });
      await ctx.events.publish<DrawFailedV1>({ type: DrawEvents.drawFailed, subject: d.competitionId, data: { competitionId: d.competitionId, drawId: d.drawId, reason } });
    });
    ctx.log.error({ drawId: d.drawId, reason }, 'draw failed: no beacon round obtainable');
  }

  /** The round to use now, fetched and verified; throws a problem saying why not. */
  async function fetchBeacon(d: DrawRecord): Promise<VerifiedBeacon> {
    const manifest = d.manifest!;
    const chain = chainOfManifest(manifest);
    const now = await ctx.clock.now();
    const cand = candidateRound(chain, { round: d.beaconRound!, fallbackRounds: manifest.beacon.fallbackRounds }, now, settings.roundWindowS);
    if (!cand) {
      await fail(d, `beacon rounds ${[d.beaconRound, ...manifest.beacon.fallbackRounds].join(', ')} could not be obtained within ${settings.roundWindowS} s each`);
      throw DrawProblems.windowsPassed();
    }
    if (cand.waitUntil) throw DrawProblems.roundNotYet(cand.round, cand.waitUntil);
    return beacons.forChain(chain).round(cand.round);
  }

  /** Winners for a beacon: indices from the protocol, entries read by position, tiers by position. */
  async function selection(d: DrawRecord, beacon: VerifiedBeacon, secret: Uint8Array): Promise<DrawWinner[]> {
    const manifest = d.manifest!;
    const indices = selectWinners({
      beaconRandomness: fromHex(beacon.randomness, 32),
      operatorSecret: secret,
      drawId: d.drawId,
      entriesRoot: fromHex(d.entriesRoot!, 32),
      count: d.entriesCount!,
      winners: winnersToDraw(manifest, d.entriesCount!),
    });
    const entries = await repo.entriesAt(d.drawId, indices);
    return indices.map((index, position) => {
      const e = entries.get(index);
      if (!e) throw new Error(`draw ${d.drawId}: no snapshot entry at ${index}`);
      return { tier: tierOfPosition(manifest, position), position, index, entryId: e.entryId, number: e.number };
    });
  }

  function winnerRows(d: DrawRecord, winners: readonly DrawWinner[]): NewWinner[] {
    const tiers = new Map(d.manifest!.prizeTiers.map((t) => [t.tier, t]));
    return winners.map((w) => {
      const prize = prizeOf(tiers.get(w.tier)!);
      return { position: w.position, tier: w.tier, entryIndex: w.index, entryId: w.entryId, number: w.number, prizeKind: prize.kind, ...(prize.cashMinor ? { cashMinor: prize.cashMinor, currency: prize.currency! } : {}) };
    });
  }

  /** Fetches the beacon, selects, and appends the result record once. */
  async function produceResult(d: DrawRecord): Promise<void> {
    const beacon = await fetchBeacon(d);
    const secret = Buffer.from(await ctx.crypto.decrypt(secretSubject(d.drawId), d.secretEnc!), 'hex');
    // The secret must be the one committed to before sales; anything else would be a different draw.
    if (operatorCommitment(secret) !== d.manifest!.operatorCommitment) throw new Error(`draw ${d.drawId}: stored operator secret does not match its commitment`);
    const winners = await selection(d, beacon, secret);
    const record: ResultRecord = {
      type: RECORD_TYPES.result,
      drawId: d.drawId,
      manifestLeafHash: d.manifestLog!.leafHash,
      snapshotLeafIndex: d.snapshotLog!.index!,
      snapshotLeafHash: d.snapshotLog!.leafHash,
      beacon: { chainHash: d.manifest!.beacon.chainHash, round: beacon.round, signature: beacon.signature, randomness: beacon.randomness, fetchedFrom: beacons.fetchedFrom(chainOfManifest(d.manifest!), beacon) },
      operatorSecret: secret.toString('hex'),
      winners,
      drawnAt: (await ctx.clock.now()).toISOString(),
    };
    const bytes = resultRecordBytes(record);
    await ctx.db.tx(async () => {
      const locked = await repo.lock(d.drawId);
      if (!locked || locked.state !== 'snapshotted' || locked.resultLog) return;
      const receipt = await ctx.evidenceLog.append({ type: LogRecordTypes.result, data: bytes });
      const used = { round: beacon.round, signature: beacon.signature, randomness: beacon.randomness, fetchedFrom: record.beacon.fetchedFrom };
      await repo.setResultPending(d.drawId, { beacon: used, record: bytes, resultHash: toHex(sha256(bytes)), log: receipt, winners: winnerRows(d, winners) });
    });
  }

  /** Result logged → checkpoint → bundle stored → ticketing drawn → drawn + events. */
  async function complete(drawId: string): Promise<void> {
    const d = (await repo.byId(drawId))!;
    const log = await parts.commit.checkpointed(d.resultLog!);
    await repo.setResultLog(drawId, log);
    const bundle = await parts.bundles.assemble(d, log);
    const stored = await parts.bundles.store(bundle);
    await deps.ticketing().markDrawn({ competitionId: d.competitionId, drawId, resultHash: d.resultHash! });
    await ctx.db.tx(async () => {
      const locked = await repo.lock(drawId);
      if (!locked || locked.state !== 'snapshotted') return;
      await repo.markDrawn(drawId, stored);
      await announce(locked);
    });
    // The secret is public now (in the result record); its data key has no further use. After the
    // commit: a rolled-back draw must still be able to decrypt it.
    if ((await repo.byId(drawId))?.state !== 'snapshotted') await ctx.crypto.destroySubjectKey(secretSubject(drawId));
  }

  async function announce(d: DrawRecord): Promise<void> {
    const winners = await repo.winners(d.drawId);
    await ctx.audit.record({ actor: 'service:draws', action: 'draws.draw-completed', subject: `draw:${d.drawId}`, data: { competitionId: d.competitionId, resultHash: d.resultHash, winners: winners.length } });
    await ctx.events.publish<DrawCompletedV1>({
      type: DrawEvents.drawCompleted,
      subject: d.competitionId,
      data: { competitionId: d.competitionId, drawId: d.drawId, resultHash: d.resultHash!, winners: winners.map((w) => ({ tier: w.tier, ticketId: w.entryId, number: w.number })) },
    });
    await ctx.events.publishMany(winners.map((w) => ({
      type: DrawEvents.winnerSelected,
      subject: d.competitionId,
      data: {
        drawId: d.drawId, competitionId: d.competitionId, tier: w.tier, ticketId: w.entryId, position: w.position,
        ...(w.cashMinor !== null ? { cashMinor: w.cashMinor.toString(), currency: w.currency! } : {}),
      } satisfies WinnerSelectedV1,
    })));
    if (winners.length === 0) await ctx.jobs.enqueue(SETTLE_JOB, { drawId: d.drawId }, { singletonKey: `settle:${d.drawId}` });
  }

  /** Runs the draw now if it can; returns the draw. Throws problems an operator can read. */
  async function run(drawId: string): Promise<DrawRecord> {
    let d = await repo.byId(drawId);
    if (!d) throw DrawProblems.notFound();
    if (d.state === 'drawn' || d.state === 'settled') return d;
    if (d.state !== 'snapshotted') throw DrawProblems.notSnapshotted(d.state);
    if (!d.resultLog) await produceResult(d);
    d = (await repo.byId(drawId))!;
    if (d.state === 'snapshotted' && d.resultLog) await complete(drawId);
    return (await repo.byId(drawId))!;
  }

  /**
   * An operator's request (runDraw): checked now — the draw exists and is snapshotted, its round has
   * been produced and a relay serves it verified — then the draw job is started at once (it replaces
   * the pending timer). The work itself runs in the job, outside the request's transaction: it waits
   * for the log and calls other services. `accepted` is false when the draw was already drawn.
   */
  async function request(drawId: string): Promise<{ draw: DrawRecord; accepted: boolean }> {
    const d = await repo.byId(drawId);
    if (!d) throw DrawProblems.notFound();
    if (d.state === 'drawn' || d.state === 'settled') return { draw: d, accepted: false };
    if (d.state !== 'snapshotted') throw DrawProblems.notSnapshotted(d.state);
    if (!d.resultLog) {
      const chain = chainOfManifest(d.manifest!);
      const cand = candidateRound(chain, { round: d.beaconRound!, fallbackRounds: d.manifest!.beacon.fallbackRounds }, await ctx.clock.now(), settings.roundWindowS);
      if (cand?.waitUntil) throw DrawProblems.roundNotYet(cand.round, cand.waitUntil);
      // A probe, so the operator hears now when the relays do not have the round (the job asks again).
      if (cand) await beacons.forChain(chain).round(cand.round);
    }
    await ctx.jobs.enqueue(DRAW_JOB, { drawId }, { startAfter: 0, singletonKey: `draw:${drawId}` });
    return { draw: d, accepted: true };
  }

  /** The timer job: waits for a late round by re-arming itself with backoff; the windows bound it. */
  async function onTimer(data: { drawId: string; attempt?: number }): Promise<void> {
    const attempt = data.attempt ?? 0;
    try {
      await run(data.drawId);
    } catch (err) {
      const waitable = isBeaconError(err) || (err instanceof DomainError && err.code === 'beacon-round-not-yet-available');
      if (!waitable) {
        if (err instanceof DomainError && (err.code === 'draw-not-ready' || err.code === 'draw-failed')) return; // cancelled, failed, not ours to run
        throw err;
      }
      const d = await repo.byId(data.drawId);
      if (d?.state !== 'snapshotted') return;
      const delayS = await retryDelayS(err as Error, attempt);
      ctx.log.warn({ drawId: data.drawId, attempt, err: (err as Error).message, retryInS: delayS }, 'draw waits for its beacon round');
      await ctx.jobs.enqueue(DRAW_JOB, { drawId: data.drawId, attempt: attempt + 1 }, { startAfter: delayS, singletonKey: `draw:${data.drawId}` });
    }
  }

  /** Until the round's time when it is ahead; otherwise exponential backoff, at most a minute. */
  async function retryDelayS(err: Error, attempt: number): Promise<number> {
    const at = err instanceof DomainError && typeof err.extensions.availableAt === 'string' ? new Date(err.extensions.availableAt) : undefined;
    if (at) return Math.max(1, Math.ceil((at.getTime() - (await ctx.clock.now()).getTime() + settings.drawSlackMs) / 1000));
    return Math.min(RETRY_MAX_S, 2 ** Math.min(attempt, 6));
  }

  /** When the draw's round is (or was) produced: for the operator's problem messages. */
  const roundTimeOf = (d: DrawRecord) => roundDate(chainOfManifest(d.manifest!), d.beaconRound!);

  return { run, request, onTimer, roundTimeOf };
}
