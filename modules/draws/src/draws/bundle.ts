/**
 * The evidence bundle of a drawn draw (one JSON document, @verity/evidence's DrawBundle): the three
 * logged records exactly as logged, every entry of the close snapshot, and the log evidence — the
 * checkpoint taken after the manifest, the one taken after the result, the consistency proof between
 * them and the inclusion proof of each record. `verity verify <bundle>` re-checks it offline.
 */
import { BUNDLE_FORMAT, type CanonicalEntry, type CloseSnapshotRecord, type DrawBundle, type DrawManifest, type ResultRecord } from '@verity/evidence';
import type { DrawRecord, LoggedRecord } from '../contract.ts';
import type { DrawsDeps } from './deps.ts';

const ENTRIES_PAGE = 10_000;

const parse = <T>(bytes: Buffer): T => JSON.parse(bytes.toString('utf8')) as T;

/** The manifest as logged, without the "type" member manifestBytes adds. */
export function loggedManifest(bytes: Buffer): DrawManifest {
  const { type: _type, ...manifest } = parse<DrawManifest & { type: string }>(bytes);
  return manifest as DrawManifest;
}

/** The checkpoint note's origin: its first line (C2SP tlog-checkpoint). */
export const originOf = (note: string): string => note.slice(0, note.indexOf('\n'));

export function createBundles(deps: DrawsDeps) {
  const { ctx, repo } = deps;

  async function allEntries(d: DrawRecord): Promise<CanonicalEntry[]> {
    const out: CanonicalEntry[] = [];
    while (out.length < d.entriesCount!) {
      const page = await repo.entriesPage(d.drawId, out.length, ENTRIES_PAGE);
      if (page.length === 0) throw new Error(`draw ${d.drawId}: snapshot has ${out.length} of ${d.entriesCount} entries`);
      for (const e of page) out.push(e);
    }
    return out;
  }

  async function inclusion(log: LoggedRecord, size: number) {
    const p = await ctx.evidenceLog.inclusionProof(log.index!, size);
    return { leafIndex: log.index!, proof: p.proof };
  }

  /** Consistency proof between two checkpoint sizes (empty when they are the same tree). */
  async function consistency(from: number, to: number): Promise<string[]> {
    return from === to ? [] : (await ctx.evidenceLog.consistencyProof(from, to)).proof;
  }

  /** Assembles the bundle of a draw whose result record is logged and checkpointed. */
  async function assemble(d: DrawRecord, resultLog: Required<LoggedRecord>): Promise<DrawBundle> {
    const manifestLog = d.manifestLog as Required<LoggedRecord>;
    const snapshotLog = d.snapshotLog as Required<LoggedRecord>;
    const sizes = { manifest: manifestLog.checkpoint.size, close: snapshotLog.checkpoint.size, result: resultLog.checkpoint.size };
    return {
      format: BUNDLE_FORMAT,
      manifest: loggedManifest(d.manifestBytes!),
      close: { record: parse<CloseSnapshotRecord>(d.snapshotRecord!), entries: await allEntries(d) },
      result: parse<ResultRecord>(d.resultRecord!),
      log: {
        origin: originOf(manifestLog.checkpoint.note),
        vkeys: [await ctx.evidenceLog.publicKey()],
        witnessVkeys: [],
        checkpoints: { manifest: manifestLog.checkpoint.note, close: snapshotLog.checkpoint.note, result: resultLog.checkpoint.note },
        consistency: { manifestToClose: await consistency(sizes.manifest, sizes.close), closeToResult: await consistency(sizes.close, sizes.result) },
        manifestInclusion: await inclusion(manifestLog, sizes.manifest),
        closeInclusion: await inclusion(snapshotLog, sizes.close),
        resultInclusion: await inclusion(resultLog, sizes.result),
      },
    };
  }

  /** Stores the bundle (content-addressed, kept as evidence) and returns where. */
  async function store(bundle: DrawBundle): Promise<{ key: string; sha256: string; bytes: number }> {
    const bytes = Buffer.from(JSON.stringify(bundle), 'utf8');
    const stored = await ctx.objects.put(bytes, { contentType: 'application/json' });
    return { key: stored.key, sha256: stored.sha256, bytes: stored.size };
  }

  return { assemble, store };
}
