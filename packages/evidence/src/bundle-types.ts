/** Types of the draw evidence bundle (one JSON document); docs/draw-protocol.md §8 is the normative shape. */
import type { CanonicalEntry, CloseSnapshotRecord, DrawManifest, ResultRecord } from './draw.ts';
import type { DrandChainInfo } from './drand.ts';

export const BUNDLE_FORMAT = 'verity-draw-bundle/v1';

export interface LogInclusion {
  /** 0-based index of the record's leaf in the evidence log. */
  leafIndex: number;
  /** RFC 9162 inclusion proof, lowercase hex hashes. */
  proof: string[];
}

export interface BundleLog {
  /** The log's checkpoint origin line. */
  origin: string;
  /** The log's Ed25519 note vkeys (type 0x01). */
  vkeys: string[];
  /** Witness cosigner vkeys (type 0x04); every cosignature line on the checkpoints must be from one of them. */
  witnessVkeys: string[];
  /** Signed checkpoint notes (with any witness cosignatures), in log order. */
  checkpoints: {
    /** Taken right after the manifest was logged, before sales opened. */
    manifest: string;
    /** Taken right after the close snapshot was logged, before the beacon round was emitted. */
    close: string;
    /** Taken after the result was logged. */
    result: string;
  };
  /** RFC 9162 consistency proofs between the checkpoints, lowercase hex. */
  consistency: { manifestToClose: string[]; closeToResult: string[] };
  /** Each record's leaf index and inclusion proof in its own checkpoint's tree. */
  manifestInclusion: LogInclusion;
  closeInclusion: LogInclusion;
  resultInclusion: LogInclusion;
}

export interface DrawBundle {
  format: typeof BUNDLE_FORMAT;
  manifest: DrawManifest;
  close: { record: CloseSnapshotRecord; entries: CanonicalEntry[] };
  /** The result record as logged: beacon (round, signature, randomness, fetchedFrom), revealed operator secret, winners. */
  result: ResultRecord;
  log: BundleLog;
}

export interface VerificationCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerificationReport {
  ok: boolean;
  checks: VerificationCheck[];
  winners: { tier: number; entryId: string; number: number }[];
  nonProduction: boolean;
  drawId?: string;
}

export interface VerifyOptions {
  /** Pin the log: only these note vkeys are accepted for the checkpoints' log signature. */
  trustedLogKeys?: string[];
  /**
   * Require time anchors: the manifest and close checkpoints must each carry a cosignature from one
   * of these witness vkeys (type 0x04) dated before the close time and the beacon round respectively.
   */
  trustedWitnessKeys?: string[];
  /** Accepted beacon chains (default: drand quicknet for production bundles). */
  trustedBeaconChains?: DrandChainInfo[];
}
