/**
 * Builds a complete, valid draw evidence bundle the way the platform does, with an in-memory
 * evidence log, a local (non-production) BLS beacon and optional witnesses. Deterministic from the
 * seed so tests and the docs' worked example reproduce byte for byte.
 */
import { createHash } from 'node:crypto';
import {
  appendSignatures,
  closeRecordBytes,
  consistencyProof,
  cosign,
  cosignatureVkey,
  drandPublicKey,
  drawWinners,
  ed25519Signer,
  entriesRoot,
  firstRoundAfter,
  formatCheckpoint,
  holderCommitment,
  inclusionProof,
  leafHash,
  localBeacon,
  localBeaconSecretKey,
  manifestBytes,
  operatorCommitment,
  RECORD_TYPES,
  resultRecordBytes,
  rootOf,
  signNote,
  toHex,
  utf8,
  type CanonicalEntry,
  type CloseSnapshotRecord,
  type DrandChainInfo,
  type DrawBundle,
  type DrawManifest,
  type ResultRecord,
} from '../../src/index.ts';
import { ed25519RawPublicKey, ed25519PrivateKey } from '../../src/ed25519.ts';

export const ORIGIN = 'log.verity.test/evidence';

/** Deterministic bytes: SHA-256 counter stream over a label. */
export function detBytes(label: string, n = 32): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0, o = 0; o < n; i++) {
    const block = createHash('sha256').update(`${label}#${i}`).digest();
    out.set(block.subarray(0, Math.min(32, n - o)), o);
    o += 32;
  }
  return out;
}

export function detUuid(label: string): string {
  const h = toHex(detBytes(`uuid:${label}`, 16));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** count entries, numbered 1..count (skipping every 7th number, as voided tickets leave gaps); every 5th postal. */
export function makeEntries(count: number, seed = 'entries'): CanonicalEntry[] {
  const out: CanonicalEntry[] = [];
  for (let i = 0, n = 1; i < count; i++, n++) {
    if (n % 7 === 0) n++;
    out.push({ entryId: detUuid(`${seed}:${i}`), number: n, kind: i % 5 === 4 ? 'postal' : 'paid', holder: holderCommitment(detBytes(`salt:${seed}:${i}`), `player-${i % 13}`) });
  }
  return out;
}

export class InMemoryLog {
  readonly leaves: Uint8Array[] = [];
  readonly origin: string;
  readonly signer: ReturnType<typeof ed25519Signer>;

  constructor(origin: string, signer: ReturnType<typeof ed25519Signer>) {
    this.origin = origin;
    this.signer = signer;
  }

  append(data: Uint8Array): number {
    this.leaves.push(leafHash(data));
    return this.leaves.length - 1;
  }

  checkpoint(): string {
    return signNote(formatCheckpoint({ origin: this.origin, size: this.leaves.length, rootHash: rootOf(this.leaves) }), [this.signer]);
  }

  inclusion(index: number, size: number): string[] {
    return inclusionProof(this.leaves, index, size).map(toHex);
  }

  consistency(size1: number, size2: number): string[] {
    return consistencyProof(this.leaves, size1, size2).map(toHex);
  }
}

export interface DrawFixtureOptions {
  seed?: string;
  entries?: CanonicalEntry[];
  tiers?: { tier: number; description: string; winners: number; cashMinor?: string; currency?: string }[];
  /** Witness names to cosign both checkpoints. */
  witnesses?: string[];
  closesAt?: string;
  /** Rounds after the first round after close: the margin. */
  marginRounds?: number;
  /** Use this many rounds later than the primary (one of the fallbacks). */
  useFallback?: boolean;
  filler?: number;
  /** The beacon round to commit to (default: first round after close + margin). */
  round?: number;
  nonProduction?: boolean;
  /** Edit a record before it is logged and signed (to build internally consistent but wrong draws). */
  editManifest?: (m: DrawManifest) => void;
  editClose?: (r: CloseSnapshotRecord) => void;
  editResult?: (r: ResultRecord) => void;
  /** Log the close snapshot before the manifest checkpoint is taken. */
  closeBeforeManifestCheckpoint?: boolean;
  /** When the witnesses cosign the close checkpoint (default: 10 s after the snapshot). */
  closeWitnessedAtS?: number;
}

export interface DrawFixture {
  bundle: DrawBundle;
  logVkey: string;
  witnessVkeys: string[];
  chain: DrandChainInfo;
  operatorSecret: Uint8Array;
  beaconSecretKey: Uint8Array;
  log: InMemoryLog;
}

function fillerRecord(i: number): Uint8Array {
  return utf8(JSON.stringify({ type: 'verity/audit/test', seq: i }));
}

export function localChain(seed: string): { chain: DrandChainInfo; sk: Uint8Array } {
  const sk = localBeaconSecretKey(detBytes(`beacon:${seed}`, 48));
  const publicKey = drandPublicKey(sk);
  const chain = { publicKey, period: 3, genesisTime: 1_700_000_000, hash: toHex(detBytes(`chain:${publicKey}`)), schemeID: 'bls-unchained-g1-rfc9380' };
  return { chain, sk };
}

export function buildDrawFixture(opts: DrawFixtureOptions = {}): DrawFixture {
  const seed = opts.seed ?? 'draw';
  const entries = opts.entries ?? makeEntries(20, seed);
  const tiers = opts.tiers ?? [
    { tier: 1, description: 'Car', winners: 1, cashMinor: '2500000', currency: 'GBP' },
    { tier: 2, description: '£100 cash', winners: 2, cashMinor: '10000', currency: 'GBP' },
  ];
  const signer = ed25519Signer(ORIGIN, detBytes(`log-key:${seed}`));
  const log = new InMemoryLog(ORIGIN, signer);
  const { chain, sk } = localChain(seed);
  const operatorSecret = detBytes(`operator:${seed}`);
  const closesAt = opts.closesAt ?? '2025-06-01T18:00:00.000Z';
  const closeS = Date.parse(closesAt) / 1000;
  const round = opts.round ?? firstRoundAfter(chain, closeS) + (opts.marginRounds ?? 20);
  const manifest: DrawManifest = {
    version: 1,
    drawId: detUuid(`draw:${seed}`),
    competitionId: detUuid(`competition:${seed}`),
    origin: ORIGIN,
    prizeTiers: tiers,
    winnerCount: tiers.reduce((s, t) => s + t.winners, 0),
    closesAt,
    beacon: { network: 'local-sandbox', chainHash: chain.hash, publicKey: chain.publicKey, period: chain.period, genesisTime: chain.genesisTime, schemeID: chain.schemeID, round, fallbackRounds: [round + 100, round + 1200], nonProduction: opts.nonProduction ?? true },
    operatorCommitment: operatorCommitment(operatorSecret),
    rulesHash: toHex(detBytes(`rules:${seed}`)),
    createdAt: '2025-05-01T09:00:00.000Z',
  };
  opts.editManifest?.(manifest);
  const witnessKeys = (opts.witnesses ?? []).map((name) => ({ name, privateKey: detBytes(`witness:${name}`) }));
  const cosignAll = (note: string, timeS: number) => {
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    return appendSignatures(note, witnessKeys.map((w) => cosign(text, w, timeS)));
  };
  const filler = opts.filler ?? 3;
  for (let i = 0; i < filler; i++) log.append(fillerRecord(i));
  const manifestIndex = log.append(manifestBytes(manifest));
  const { root, count } = entriesRoot(entries);
  const paid = entries.filter((e) => e.kind === 'paid').length;
  const closeRecord: CloseSnapshotRecord = {
    type: RECORD_TYPES.close,
    drawId: manifest.drawId,
    competitionId: manifest.competitionId,
    manifestLeafIndex: manifestIndex,
    manifestLeafHash: toHex(leafHash(manifestBytes(manifest))),
    entriesRoot: toHex(root),
    count,
    reconciliation: { sold: paid + 2, voided: 2, postal: count - paid },
    closedAt: '2025-06-01T18:00:05.000Z',
  };
  opts.editClose?.(closeRecord);
  let closeIndex = -1;
  if (opts.closeBeforeManifestCheckpoint) closeIndex = log.append(closeRecordBytes(closeRecord));
  const cp1Size = log.leaves.length;
  const manifestCheckpoint = cosignAll(log.checkpoint(), Date.parse(manifest.createdAt) / 1000 + 60);
  for (let i = 0; i < filler; i++) log.append(fillerRecord(100 + i));
  if (!opts.closeBeforeManifestCheckpoint) closeIndex = log.append(closeRecordBytes(closeRecord));
  const cp2Size = log.leaves.length;
  const closeCheckpoint = cosignAll(log.checkpoint(), opts.closeWitnessedAtS ?? Date.parse(closeRecord.closedAt) / 1000 + 10);
  for (let i = 0; i < filler; i++) log.append(fillerRecord(200 + i));
  const usedRound = opts.useFallback ? manifest.beacon.fallbackRounds[0]! : round;
  const beacon = localBeacon(sk, usedRound);
  const result: ResultRecord = {
    type: RECORD_TYPES.result,
    drawId: manifest.drawId,
    manifestLeafHash: closeRecord.manifestLeafHash,
    snapshotLeafIndex: closeIndex,
    snapshotLeafHash: toHex(leafHash(closeRecordBytes(closeRecord))),
    beacon: { chainHash: chain.hash, round: usedRound, signature: beacon.signature, randomness: beacon.randomness, fetchedFrom: 'local:sandbox-beacon' },
    operatorSecret: toHex(operatorSecret),
    winners: drawWinners({ manifest, entriesRoot: root, count, beaconRandomness: Buffer.from(beacon.randomness, 'hex'), operatorSecret, entryAt: (i) => entries[i]! }),
    drawnAt: '2025-06-01T18:02:00.000Z',
  };
  opts.editResult?.(result);
  const resultIndex = log.append(resultRecordBytes(result));
  const cp3Size = log.leaves.length;
  const resultCheckpoint = cosignAll(log.checkpoint(), Date.parse(result.drawnAt) / 1000 + 30);
  const witnessVkeys = witnessKeys.map((w) => cosignatureVkey(w.name, ed25519RawPublicKey(ed25519PrivateKey(w.privateKey))));
  const bundle: DrawBundle = {
    format: 'verity-draw-bundle/v1',
    manifest,
    close: { record: closeRecord, entries },
    result,
    log: {
      origin: ORIGIN,
      vkeys: [signer.vkey],
      witnessVkeys,
      checkpoints: { manifest: manifestCheckpoint, close: closeCheckpoint, result: resultCheckpoint },
      consistency: { manifestToClose: log.consistency(cp1Size, cp2Size), closeToResult: log.consistency(cp2Size, cp3Size) },
      manifestInclusion: { leafIndex: manifestIndex, proof: log.inclusion(manifestIndex, cp1Size) },
      closeInclusion: { leafIndex: closeIndex, proof: log.inclusion(closeIndex, cp2Size) },
      resultInclusion: { leafIndex: resultIndex, proof: log.inclusion(resultIndex, cp3Size) },
    },
  };
  return { bundle, logVkey: signer.vkey, witnessVkeys, chain, operatorSecret, beaconSecretKey: sk, log };
}
