/**
 * The worked example of docs/draw-protocol.md §10, computed by the implementation: ten entries, the
 * real drand quicknet round 14517013 as the beacon, a fixed operator secret, three winners. Prints
 * the Markdown when run directly; worked-example.test.ts checks the document against it.
 */
import {
  closeRecordBytes,
  drawWinners,
  leafHash,
  manifestBytes,
  QUICKNET,
  RECORD_TYPES,
  resultRecordBytes,
  roundTime,
  canonicalJson,
  drawPersonalization,
  entriesRoot,
  entryLeafData,
  entryLeafHash,
  HmacDrbg,
  holderCommitment,
  operatorCommitment,
  selectWinners,
  sha256,
  toHex,
  fromHex,
  type CanonicalEntry,
  type CloseSnapshotRecord,
  type DrawManifest,
  type ResultRecord,
} from '../../src/index.ts';

export const EXAMPLE = {
  drawId: '0190a5c2-0000-7000-8000-00000000d1a0',
  round: 14517013,
  signature: '83236a954108c9de257b6a10c838f3e3f215eb3bd25c2261f42b4a6204d6b00a3f216b8d88dcd7947cba97d39f2e16c5',
  operatorSecret: Uint8Array.from({ length: 32 }, (_, i) => i),
  winners: 3,
};

export function exampleEntries(): CanonicalEntry[] {
  return Array.from({ length: 10 }, (_, i) => ({
    entryId: `00000000-0000-4000-8000-0000000000${(i + 1).toString(16).padStart(2, '0')}`,
    number: (i + 1) * 10,
    kind: i === 6 ? 'postal' : 'paid',
    holder: holderCommitment(new Uint8Array(32).fill(i + 1), `player-${i + 1}`),
  }));
}

export interface Step {
  position: number;
  range: number;
  candidates: { hex: string; value: bigint; accepted: boolean }[];
  j: number;
  winner: number;
}

export function workedExample() {
  const entries = exampleEntries();
  const { root, count } = entriesRoot(entries);
  const randomness = sha256(fromHex(EXAMPLE.signature));
  const pers = drawPersonalization(EXAMPLE.drawId, root, count);
  const drbg = new HmacDrbg(randomness, EXAMPLE.operatorSecret, pers);
  const slots = new Map<number, number>();
  const steps: Step[] = [];
  for (let i = 0; i < EXAMPLE.winners; i++) {
    const range = count - i;
    const limit = 2n ** 64n - (2n ** 64n % BigInt(range));
    const candidates: Step['candidates'] = [];
    let r: bigint;
    for (;;) {
      const b = drbg.generate(8);
      r = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
      candidates.push({ hex: toHex(b), value: r, accepted: r < limit });
      if (r < limit) break;
    }
    const j = i + Number(r % BigInt(range));
    const winner = slots.get(j) ?? j;
    slots.set(j, slots.get(i) ?? i);
    steps.push({ position: i, range, candidates, j, winner });
  }
  const winners = steps.map((s) => s.winner);
  const check = selectWinners({ beaconRandomness: randomness, operatorSecret: EXAMPLE.operatorSecret, drawId: EXAMPLE.drawId, entriesRoot: root, count, winners: EXAMPLE.winners });
  if (canonicalJson(check) !== canonicalJson(winners)) throw new Error('worked example disagrees with selectWinners');
  const records = exampleRecords(entries, root, count, randomness);
  return {
    ...records,
    entries,
    leafData0: toHex(entryLeafData(entries[0]!)),
    leafHash0: toHex(entryLeafHash(entries[0]!)),
    root: toHex(root),
    count,
    randomness: toHex(randomness),
    operatorSecret: toHex(EXAMPLE.operatorSecret),
    commitment: operatorCommitment(EXAMPLE.operatorSecret),
    personalization: toHex(pers),
    steps,
    winners,
  };
}

/** The three logged records of the example draw (log positions are illustrative: 41, 57, 63). */
function exampleRecords(entries: CanonicalEntry[], root: Uint8Array, count: number, randomness: Uint8Array) {
  const manifest: DrawManifest = {
    version: 1,
    drawId: EXAMPLE.drawId,
    competitionId: '0190a5c2-0000-7000-8000-0000000c0a11',
    origin: 'evidence.verity.example/log',
    prizeTiers: [
      { tier: 1, description: 'Electric car', winners: 1, cashMinor: '3000000', currency: 'GBP' },
      { tier: 2, description: '£50 voucher', winners: 2 },
    ],
    winnerCount: 3,
    closesAt: '2025-01-08T16:30:00.000Z',
    beacon: {
      network: 'drand-quicknet',
      chainHash: QUICKNET.hash,
      publicKey: QUICKNET.publicKey,
      period: QUICKNET.period,
      genesisTime: QUICKNET.genesisTime,
      schemeID: QUICKNET.schemeID,
      round: EXAMPLE.round,
      fallbackRounds: [EXAMPLE.round + 1200],
      nonProduction: false,
    },
    operatorCommitment: operatorCommitment(EXAMPLE.operatorSecret),
    createdAt: '2024-12-01T09:00:00.000Z',
  };
  const manifestLeaf = leafHash(manifestBytes(manifest));
  const close: CloseSnapshotRecord = {
    type: RECORD_TYPES.close,
    drawId: manifest.drawId,
    competitionId: manifest.competitionId,
    manifestLeafIndex: 41,
    manifestLeafHash: toHex(manifestLeaf),
    entriesRoot: toHex(root),
    count,
    reconciliation: { sold: 10, voided: 1, postal: 1 },
    closedAt: '2025-01-08T16:30:01.250Z',
  };
  const result: ResultRecord = {
    type: RECORD_TYPES.result,
    drawId: manifest.drawId,
    manifestLeafHash: toHex(manifestLeaf),
    snapshotLeafIndex: 57,
    snapshotLeafHash: toHex(leafHash(closeRecordBytes(close))),
    beacon: { chainHash: QUICKNET.hash, round: EXAMPLE.round, signature: EXAMPLE.signature, randomness: toHex(randomness), fetchedFrom: `https://api.drand.sh/${QUICKNET.hash}/public/${EXAMPLE.round}` },
    operatorSecret: toHex(EXAMPLE.operatorSecret),
    winners: drawWinners({ manifest, entriesRoot: root, count, beaconRandomness: randomness, operatorSecret: EXAMPLE.operatorSecret, entryAt: (i) => entries[i]! }),
    drawnAt: '2025-01-08T16:40:09.000Z',
  };
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    roundTimeIso: new Date(roundTime(QUICKNET, EXAMPLE.round) * 1000).toISOString(),
    manifestJcs: text(manifestBytes(manifest)),
    manifestLeafHash: toHex(manifestLeaf),
    closeJcs: text(closeRecordBytes(close)),
    closeLeafHash: toHex(leafHash(closeRecordBytes(close))),
    resultJcs: text(resultRecordBytes(result)),
    resultLeafHash: toHex(leafHash(resultRecordBytes(result))),
  };
}

if (import.meta.main) {
  const x = workedExample();
  const lines = [
    '| # | entryId | number | kind | holder |',
    '|---|---|---|---|---|',
    ...x.entries.map((e, i) => `| ${i} | \`${e.entryId}\` | ${e.number} | ${e.kind} | \`${e.holder}\` |`),
    '',
    `leaf data of entry 0: \`${x.leafData0}\``,
    `leaf hash of entry 0: \`${x.leafHash0}\``,
    `entries root: \`${x.root}\`, count ${x.count}`,
    `randomness: \`${x.randomness}\``,
    `operator secret: \`${x.operatorSecret}\`, commitment \`${x.commitment}\``,
    `personalization: \`${x.personalization}\``,
    '',
    '| position i | range n − i | 8-byte output (hex) | as u64 | accepted | j | winner index |',
    '|---|---|---|---|---|---|---|',
    ...x.steps.flatMap((s) => s.candidates.map((c) => `| ${s.position} | ${s.range} | \`${c.hex}\` | ${c.value} | ${c.accepted ? 'yes' : 'no'} | ${c.accepted ? s.j : ''} | ${c.accepted ? s.winner : ''} |`)),
    '',
    `winners (indices): ${JSON.stringify(x.winners)}`,
    '',
    `round time: ${x.roundTimeIso}`,
    'manifest record:',
    x.manifestJcs,
    `manifest leaf hash: ${x.manifestLeafHash}`,
    'close record:',
    x.closeJcs,
    `close leaf hash: ${x.closeLeafHash}`,
    'result record:',
    x.resultJcs,
    `result leaf hash: ${x.resultLeafHash}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
