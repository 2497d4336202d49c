/**
 * Committing a draw before sales open: the manifest (prize tiers, the beacon chain and round R,
 * fallback rounds, the commitment to a fresh operator secret) is logged, integrated and covered by a
 * signed checkpoint; then ticketing records it (a random-draw competition opens only after that) and
 * `draws.manifest-committed.v1` is announced. Each step is idempotent, so the job can be re-run from
 * any point.
 */
import { randomBytes } from 'node:crypto';
import { manifestBytes, operatorCommitment, sha256, toHex, MAX_WINNERS, type DrawManifest } from '@verity/evidence';
import { uuidv7 } from '@verity/kernel';
import type { BeaconChain } from '../beacon/port.ts';
import { DrawEvents, LogRecordTypes, type CompetitionPublishedV1, type DrawRecord, type LoggedRecord, type ManifestCommittedV1 } from '../contract.ts';
import { winnerCount } from '../domain/prizes.ts';
import { plannedRounds } from '../domain/rounds.ts';
import type { DrawsDeps } from './deps.ts';

export const COMMIT_JOB = 'commit-manifest';
/** Subject of the field-crypto data key that keeps a draw's operator secret until the draw. */
export const secretSubject = (drawId: string) => `draw:${drawId}`;

export function manifestBeacon(chain: BeaconChain, plan: { round: number; fallbackRounds: number[] }): DrawManifest['beacon'] {
  return {
    network: chain.nonProduction ? `local-${chain.metadata?.beaconID ?? 'sandbox'}` : `drand-${chain.metadata?.beaconID ?? 'quicknet'}`,
    chainHash: chain.hash,
    publicKey: chain.publicKey,
    period: chain.period,
    genesisTime: chain.genesisTime,
    schemeID: chain.schemeID,
    round: plan.round,
    fallbackRounds: plan.fallbackRounds,
    nonProduction: chain.nonProduction,
  };
}

/**
 * Tiers as the manifest states them: in ascending tier order (tiers take consecutive draw positions
 * in that order), a cash amount only together with its currency (the protocol's rule).
 */
function manifestTiers(tiers: CompetitionPublishedV1['prizeTiers']): DrawManifest['prizeTiers'] {
  if (!Array.isArray(tiers) || tiers.length === 0 || tiers.length > 100) throw new Error('a random draw needs 1..100 prize tiers');
  return [...tiers].sort((a, b) => a.tier - b.tier).map((t) => ({
    tier: t.tier,
    description: t.description,
    winners: t.winners,
    ...(t.cashMinor !== undefined && t.currency ? { cashMinor: BigInt(t.cashMinor).toString(), currency: t.currency } : {}),
  }));
}

export function createCommit(deps: DrawsDeps) {
  const { ctx, repo, beacons, settings } = deps;

  /** On `ticketing.competition-published.v1` (inside the subscriber's transaction). */
  async function onPublished(data: CompetitionPublishedV1): Promise<void> {
    if (data.drawKind !== 'random') return; // spot-the-ball competitions are judged, not drawn
    const count = winnerCount(data.prizeTiers ?? []);
    if (count < 1 || count > MAX_WINNERS) throw new Error(`competition ${data.competitionId}: ${count} winners is outside 1..${MAX_WINNERS}`);
    const { draw, created } = await repo.insertPending({
      drawId: uuidv7(),
      competitionId: data.competitionId,
      title: data.title,
      closesAt: new Date(data.closesAt),
      competition: { title: data.title, opensAt: data.opensAt, closesAt: data.closesAt, prizeTiers: data.prizeTiers },
    });
    if (created) await ctx.jobs.enqueue(COMMIT_JOB, { drawId: draw.drawId }, { singletonKey: `commit:${draw.drawId}` });
  }

  /** Builds and appends the manifest, once: a re-run finds it stored. */
  async function appendManifest(drawId: string): Promise<void> {
    const chain = await beacons.current().info(); // a relay confirms the chain before we commit to it
    await ctx.db.tx(async () => {
      const d = await repo.lock(drawId);
      if (!d || d.state !== 'pending' || d.manifestLog) return;
      const secret = randomBytes(32);
      const plan = plannedRounds(chain, d.closesAt, settings);
      const manifest: DrawManifest = {
        version: 1,
        drawId,
        competitionId: d.competitionId,
        prizeTiers: manifestTiers(d.competition.prizeTiers),
        winnerCount: winnerCount(d.competition.prizeTiers),
        closesAt: d.closesAt.toISOString(),
        beacon: manifestBeacon(chain, plan),
        operatorCommitment: operatorCommitment(secret),
        createdAt: (await ctx.clock.now()).toISOString(),
      };
      const bytes = manifestBytes(manifest);
      const secretEnc = await ctx.crypto.encrypt(secretSubject(drawId), secret.toString('hex'));
      const receipt = await ctx.evidenceLog.append({ type: LogRecordTypes.manifest, data: bytes });
      await repo.setManifest(drawId, { manifest, bytes, hash: toHex(sha256(bytes)), secretEnc, round: plan.round, log: receipt, closesAt: d.closesAt });
    });
  }

  /** Waits for the record's index and a signed checkpoint that covers it. */
  async function checkpointed(log: LoggedRecord): Promise<Required<LoggedRecord>> {
    const { index } = log.index !== undefined ? { index: log.index } : await ctx.evidenceLog.integrated(log.pendingId, { timeoutMs: settings.logTimeoutMs });
    const cp = log.checkpoint ?? (await ctx.evidenceLog.checkpoint({ atLeast: index + 1, timeoutMs: settings.logTimeoutMs }));
    return { pendingId: log.pendingId, leafHash: log.leafHash, index, checkpoint: { size: cp.size, rootHash: cp.rootHash, note: cp.note } };
  }

  /** The job: append → integrate → checkpoint → ticketing records it → committed. */
  async function commit(drawId: string): Promise<DrawRecord | undefined> {
    let d = await repo.byId(drawId);
    if (!d || d.state !== 'pending') return d;
    if (!d.manifestLog) {
      await appendManifest(drawId);
      d = (await repo.byId(drawId))!;
      if (d.state !== 'pending' || !d.manifestLog) return d;
    }
    const log = await checkpointed(d.manifestLog!);
    await repo.setManifestLog(drawId, log);
    await deps.ticketing().recordDrawManifest({ competitionId: d.competitionId, drawId, manifestHash: d.manifestHash!, logIndex: log.index });
    await ctx.db.tx(async () => {
      const locked = await repo.lock(drawId);
      if (!locked || locked.state !== 'pending') return;
      await repo.markCommitted(drawId, log);
      await ctx.events.publish<ManifestCommittedV1>({
        type: DrawEvents.manifestCommitted,
        subject: d!.competitionId,
        data: { competitionId: d!.competitionId, drawId, manifestHash: d!.manifestHash!, logIndex: log.index },
      });
    });
    return repo.byId(drawId);
  }

  return { onPublished, commit, checkpointed };
}
