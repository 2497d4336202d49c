/**
 * The close snapshot: every valid entry (paid tickets not voided, valid postal entries) read from
 * ticketing page by page in canonical order, stored, hashed into the RFC 9162 root as it streams
 * (O(log n) memory for a million entries), reconciled against the sales counts, then logged and
 * checkpointed. A mismatch, or a purchase still unsettled, blocks the draw and opens a compliance case.
 */
import { closeRecordBytes, entryLeafHash, MerkleBuilder, RECORD_TYPES, toHex, type CanonicalEntry, type CloseSnapshotRecord } from '@verity/evidence';
import { DomainError } from '@verity/kernel';
import { DrawEvents, LogRecordTypes, type DrawBlockedV1, type DrawRecord, type LoggedRecord, type Reconciled } from '../contract.ts';
import { chainOfManifest, roundDate } from '../domain/rounds.ts';
import type { DrawsDeps } from './deps.ts';
import { DrawProblems } from './problems.ts';
import type { createCommit } from './commit.ts';

export const SNAPSHOT_JOB = 'close-snapshot';
export const DRAW_JOB = 'run-draw';
/** Tree nodes from this level up are stored (one row per 16 entries); lower ones are rehashed. */
export const NODE_MIN_LEVEL = 4;
/** Ticketing pages: a competition of 50 million entries is a configuration error, not a draw. */
const ENTRIES_MAX = 50_000_000;

interface SalesSummary {
  sold: number;
  voided: number;
  postal: number;
  postalInvalid: number;
  validEntries: number;
  unsettledPurchases: number;
  closedAt?: Date | string;
  state: string;
}

/** Why the snapshot does not reconcile with sales; undefined when it does. */
export function reconciliationProblem(count: number, s: SalesSummary): string | undefined {
  const expected = s.sold - s.voided + s.postal;
  if (s.unsettledPurchases > 0) return `${s.unsettledPurchases} purchase(s) not settled at close`;
  if (count !== expected) return `snapshot has ${count} entries; sales say sold ${s.sold} − voided ${s.voided} + postal ${s.postal} = ${expected}`;
  if (count !== s.validEntries) return `snapshot has ${count} entries; ticketing reports ${s.validEntries} valid entries`;
  return undefined;
}

export function createSnapshot(deps: DrawsDeps, commit: ReturnType<typeof createCommit>) {
  const { ctx, repo, settings } = deps;

  /** On `ticketing.competition-closed.v1` (inside the subscriber's transaction). */
  async function onClosed(competitionId: string): Promise<void> {
    const d = await repo.byCompetition(competitionId);
    if (!d || !['pending', 'committed'].includes(d.state)) return;
    await ctx.jobs.enqueue(SNAPSHOT_JOB, { drawId: d.drawId }, { singletonKey: `snapshot:${d.drawId}` });
  }

  /** Streams ticketing's entries into the snapshot tables and the tree; returns root and count. */
  async function readEntries(d: DrawRecord): Promise<{ root: string; count: number }> {
    await ctx.db.tx(() => repo.clearSnapshot(d.drawId));
    const builder = new MerkleBuilder();
    let afterNumber: number | undefined;
    let last = -1;
    for (;;) {
      const page = await deps.ticketing().listEntries({ competitionId: d.competitionId, limit: settings.snapshotPageSize, ...(afterNumber !== undefined ? { afterNumber } : {}) });
      const entries: CanonicalEntry[] = page.entries.map((e) => ({ entryId: e.entryId.toLowerCase(), number: e.number, kind: e.kind, holder: e.holder.toLowerCase() }));
      const nodes: { level: number; index: number; hash: Uint8Array }[] = [];
      for (const e of entries) {
        if (e.number <= last) throw new Error(`ticketing listed entry number ${e.number} after ${last}: not canonical order`);
        last = e.number;
        for (const n of builder.pushWithNodes(entryLeafHash(e))) if (n.level >= NODE_MIN_LEVEL) nodes.push(n);
      }
      const from = builder.size - entries.length;
      await ctx.db.tx(async () => {
        await repo.insertEntries(d.drawId, from, entries);
        await repo.insertNodes(d.drawId, nodes);
      });
      if (builder.size > ENTRIES_MAX) throw new Error(`more than ${ENTRIES_MAX} entries`);
      if (page.nextAfter === undefined || entries.length === 0) break;
      afterNumber = page.nextAfter;
    }
    return { root: toHex(builder.root()), count: builder.size };
  }

  /** Blocks the draw and opens its case; `logged` keeps a close record already in the log. */
  async function block(d: DrawRecord, snap: { root: string; count: number; reconciliation: Reconciled }, reason: string, logged?: { record: Buffer; log: LoggedRecord }): Promise<void> {
    const { caseId } = await deps.compliance().openCase({
      type: 'operator-override',
      subject: `draw:${d.drawId}`,
      summary: `Draw of competition ${d.competitionId} blocked at close: ${reason}`.slice(0, 500),
      data: { drawId: d.drawId, competitionId: d.competitionId, entriesRoot: snap.root, ...snap.reconciliation },
      dedupeKey: `draw-blocked:${d.drawId}`,
    });
    await ctx.db.tx(async () => {
      const locked = await repo.lock(d.drawId);
      if (!locked || (locked.state !== 'committed' && locked.state !== 'blocked')) return;
      await repo.setSnapshot(d.drawId, { state: 'blocked', count: snap.count, root: snap.root, reconciliation: snap.reconciliation, record: logged?.record ?? null, log: logged?.log ?? null, blockedReason: reason, caseId });
      await ctx.audit.record({ actor: 'service:draws', action: 'draws.draw-blocked', subject: `draw:${d.drawId}`, reason, data: { competitionId: d.competitionId, caseId } });
      await ctx.events.publish<DrawBlockedV1>({ type: DrawEvents.drawBlocked, subject: d.competitionId, data: { competitionId: d.competitionId, drawId: d.drawId, reason, caseId } });
    });
    ctx.log.warn({ drawId: d.drawId, competitionId: d.competitionId, reason, caseId }, 'draw blocked at close');
  }

  /** Sales counts, read twice around the entries: a postal entry recorded meanwhile makes the job retry. */
  async function summaryOf(d: DrawRecord): Promise<SalesSummary> {
    const s = (await deps.ticketing().getSalesSummary({ competitionId: d.competitionId })) as SalesSummary;
    if (!s.closedAt) throw new DomainError('competition-not-closed', 409, 'The competition is not closed', `Competition ${d.competitionId} is ${s.state}.`);
    return s;
  }

  /** Builds the snapshot and, when it reconciles, appends the close record (stored with its receipt). */
  async function build(d: DrawRecord): Promise<'blocked' | 'logged'> {
    const summary = await summaryOf(d);
    const snap = await readEntries(d);
    const again = await summaryOf(d);
    if (JSON.stringify(pickCounts(again)) !== JSON.stringify(pickCounts(summary))) throw new Error(`draw ${d.drawId}: sales changed while the snapshot was read; retrying`);
    const reconciliation: Reconciled = { ...pickCounts(summary), count: snap.count };
    const closedAt = new Date(summary.closedAt!);
    const problem = reconciliationProblem(snap.count, summary) ?? timingProblem(d, closedAt);
    if (problem) {
      await block(d, { ...snap, reconciliation }, problem);
      return 'blocked';
    }
    const record: CloseSnapshotRecord = {
      type: RECORD_TYPES.close,
      drawId: d.drawId,
      competitionId: d.competitionId,
      manifestLeafIndex: d.manifestLog!.index!,
      manifestLeafHash: d.manifestLog!.leafHash,
      entriesRoot: snap.root,
      count: snap.count,
      reconciliation: { sold: summary.sold, voided: summary.voided, postal: summary.postal },
      closedAt: closedAt.toISOString(),
    };
    const bytes = closeRecordBytes(record);
    await ctx.db.tx(async () => {
      const locked = await repo.lock(d.drawId);
      if (!locked || (locked.state !== 'committed' && locked.state !== 'blocked') || locked.snapshotLog) return;
      const receipt = await ctx.evidenceLog.append({ type: LogRecordTypes.close, data: bytes });
      await repo.setSnapshot(d.drawId, { state: locked.state, count: snap.count, root: snap.root, reconciliation, record: bytes, log: receipt });
    });
    return 'logged';
  }

  /** The job: snapshot → (blocked | logged → checkpointed → snapshotted, the draw timer set). */
  async function snapshot(drawId: string): Promise<void> {
    let d = await repo.byId(drawId);
    if (!d || (d.state !== 'committed' && d.state !== 'blocked')) return;
    if (!d.snapshotLog) {
      if ((await build(d)) === 'blocked') return;
      d = (await repo.byId(drawId))!;
      if (!d.snapshotLog) return;
    }
    const log = await commit.checkpointed(d.snapshotLog!);
    const roundAt = roundDate(chainOfManifest(d.manifest!), d.beaconRound!);
    const checkpointedAt = await ctx.clock.now();
    if (checkpointedAt >= roundAt) {
      // The protocol logs the close before R exists; a snapshot that took longer than the margin
      // cannot be drawn fairly (R was public while the close was not yet fixed in the log).
      const reason = `close snapshot checkpointed at ${checkpointedAt.toISOString()}, after beacon round ${d.beaconRound} was produced at ${roundAt.toISOString()}`;
      await block(d, { root: d.entriesRoot!, count: d.entriesCount!, reconciliation: d.reconciliation! }, reason, { record: d.snapshotRecord!, log });
      return;
    }
    const runAt = new Date(roundAt.getTime() + settings.drawSlackMs);
    await ctx.db.tx(async () => {
      const locked = await repo.lock(drawId);
      if (!locked || (locked.state !== 'committed' && locked.state !== 'blocked')) return;
      await repo.setSnapshot(drawId, { state: 'snapshotted', count: locked.entriesCount!, root: locked.entriesRoot!, reconciliation: locked.reconciliation!, record: locked.snapshotRecord!, log });
      await ctx.jobs.enqueue(DRAW_JOB, { drawId }, { startAfter: runAt, singletonKey: `draw:${drawId}` });
    });
  }

  /**
   * On `ticketing.competition-closing-time-changed.v1`: a closing time moved past round R cannot be
   * drawn (R would exist before the close). The draw blocks at close; the case is opened now, while
   * sales still run, so compliance can act (reverse the change, or cancel) before anyone buys more.
   */
  async function onClosingTimeChanged(competitionId: string, newClosesAt: Date): Promise<void> {
    const d = await repo.byCompetition(competitionId);
    if (!d?.manifest || !['pending', 'committed'].includes(d.state)) return;
    const roundAt = roundDate(chainOfManifest(d.manifest), d.beaconRound!);
    if (roundAt.getTime() > newClosesAt.getTime()) return;
    const reason = `closing time moved to ${newClosesAt.toISOString()}, after the committed beacon round ${d.beaconRound} (${roundAt.toISOString()}): the draw will be blocked at close`;
    await deps.compliance().openCase({
      type: 'operator-override', subject: `draw:${d.drawId}`, summary: reason.slice(0, 500),
      data: { drawId: d.drawId, competitionId, beaconRound: d.beaconRound, newClosesAt: newClosesAt.toISOString() }, dedupeKey: `draw-blocked:${d.drawId}`,
    });
    await ctx.audit.record({ actor: 'service:draws', action: 'draws.closing-time-past-round', subject: `draw:${d.drawId}`, reason, data: { competitionId } });
    ctx.log.warn({ drawId: d.drawId, competitionId, reason }, 'closing time moved past the committed beacon round');
  }

  /** An operator retries a blocked draw's snapshot once the cause is fixed (the case says why). */
  async function retryBlocked(drawId: string): Promise<void> {
    await ctx.db.tx(async () => {
      const locked = await repo.lock(drawId);
      if (!locked) throw DrawProblems.notFound();
      if (locked.state !== 'blocked') throw DrawProblems.notBlocked();
      if (locked.snapshotLog) throw DrawProblems.snapshotLate();
      await ctx.jobs.enqueue(SNAPSHOT_JOB, { drawId }, { singletonKey: `snapshot:${drawId}` });
    });
  }

  return { onClosed, onClosingTimeChanged, snapshot, retryBlocked };
}

/**
 * The close must fall inside what the manifest promised: not before its close time (the verifier
 * checks it), and before round R exists — a close run late, or a closing time moved past R, would
 * let the randomness be known while entries could still change.
 */
export function timingProblem(d: Pick<DrawRecord, 'manifest' | 'beaconRound'>, closedAt: Date): string | undefined {
  const m = d.manifest!;
  if (closedAt.getTime() < new Date(m.closesAt).getTime()) return `competition closed at ${closedAt.toISOString()}, before the manifest close time ${m.closesAt}`;
  const roundAt = roundDate(chainOfManifest(m), d.beaconRound!);
  if (roundAt.getTime() <= closedAt.getTime()) return `beacon round ${d.beaconRound} was produced at ${roundAt.toISOString()}, before the competition closed at ${closedAt.toISOString()}`;
  return undefined;
}

function pickCounts(s: SalesSummary): Omit<Reconciled, 'count'> {
  return { sold: s.sold, voided: s.voided, postal: s.postal, postalInvalid: s.postalInvalid, validEntries: s.validEntries, unsettledPurchases: s.unsettledPurchases };
}
