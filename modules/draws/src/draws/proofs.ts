/**
 * A player's entry inclusion proof in the close snapshot root, read in O(log n) from the stored
 * tree nodes (level ≥ 4) and at most 15 neighbouring entries for the levels below.
 */
import { entryLeafHash, inclusionPlan, rootOf, toHex, type CanonicalEntry } from '@verity/evidence';
import type { DrawRecord } from '../contract.ts';
import type { DrawsRepository } from './repository.ts';
import { NODE_MIN_LEVEL } from './snapshot.ts';

export interface EntryProof {
  index: number;
  proof: string[];
  root: string;
  count: number;
  leaf: CanonicalEntry;
}

export async function entryProof(repo: DrawsRepository, d: DrawRecord, entryId: string): Promise<EntryProof | undefined> {
  const found = await repo.entryOf(d.drawId, entryId);
  if (!found) return undefined;
  const count = d.entriesCount!;
  const plan = inclusionPlan(found.position, count);
  const stored = await repo.nodes(d.drawId, plan.refs.filter((r) => r.level >= NODE_MIN_LEVEL));
  const hashes: Uint8Array[] = [];
  for (const ref of plan.refs) {
    if (ref.level >= NODE_MIN_LEVEL) {
      const h = stored.get(`${ref.level}:${ref.index}`);
      if (!h) throw new Error(`draw ${d.drawId}: tree node ${ref.level}:${ref.index} missing`);
      hashes.push(h);
    } else {
      const width = 2 ** ref.level;
      const leaves = (await repo.entryRange(d.drawId, ref.index * width, (ref.index + 1) * width)).map(entryLeafHash);
      hashes.push(rootOf(leaves));
    }
  }
  return { index: found.position, proof: plan.assemble(hashes).map(toHex), root: d.entriesRoot!, count, leaf: found.entry };
}
