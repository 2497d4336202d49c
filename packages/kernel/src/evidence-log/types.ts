/**
 * The evidence log as modules see it (ADR 0012): append inside your transaction, wait for an index
 * if you need one, ask for signed checkpoints and proofs. Hashes on this surface are lowercase hex;
 * the checkpoint notes are C2SP signed notes (their root hash is base64, as the spec says).
 */

/** Who may read a leaf's bytes over HTTP. Proofs and hashes are public whatever the visibility. */
export type LeafVisibility = 'public' | 'restricted';

export interface LogRecord {
  /**
   * A label stored beside the leaf (with the appending module's name), not part of the logged bytes:
   * `draws.manifest.v1`. Make the bytes self-describing if a verifier needs the type.
   */
  type: string;
  /**
   * The logged bytes, or an object logged as its canonical JSON (sorted keys, bigint and Date as
   * strings). Never personal data in clear: the log is meant to be public and is never erased.
   * At most 64 KiB.
   */
  data: Uint8Array | object;
  /** Default `public` (anyone may read the entry); `restricted` needs `audit:read`. */
  visibility?: LeafVisibility;
}

export interface AppendReceipt {
  /** Id of the pending row; `integrated(pendingId)` waits for its index. */
  pendingId: string;
  /** RFC 9162 leaf hash SHA-256(0x00 ‖ data), hex. */
  leafHash: string;
}

export interface LogCheckpoint {
  origin: string;
  size: number;
  /** Root hash of the tree of `size` leaves, hex. */
  rootHash: string;
  /** The C2SP signed note (log signature only). */
  note: string;
  signedAt: Date;
}

export interface InclusionProofResult {
  index: number;
  size: number;
  leafHash: string;
  /** RFC 9162 inclusion path, hex, leaf to root. */
  proof: string[];
  rootHash: string;
  /** The signed checkpoint of `size`, when one was signed at that size. */
  checkpoint?: string;
}

export interface ConsistencyProofResult {
  from: number;
  to: number;
  proof: string[];
  fromRootHash: string;
  toRootHash: string;
  fromCheckpoint?: string;
  toCheckpoint?: string;
}

export interface LogEntry {
  index: number;
  leafHash: string;
  data: Uint8Array;
  kind: 'audit' | 'record';
  module: string;
  type: string;
  visibility: LeafVisibility;
  recordedAt: Date;
  integratedAt: Date;
}

/** The evidence log bound to one module (`ModuleContext.evidenceLog`). */
export interface EvidenceLog {
  /** Queues the record for the log in the current transaction (or its own): it commits or rolls back with the caller. */
  append(record: LogRecord): Promise<AppendReceipt>;
  /** Waits until the appended record has its index (a pending id, or a leaf hash: the first leaf with it). */
  integrated(ref: string, options?: { timeoutMs?: number }): Promise<{ index: number }>;
  /** Integrates what is committed and returns a signed checkpoint of at least `atLeast` leaves (signing one if needed). */
  checkpoint(options?: { atLeast?: number; timeoutMs?: number }): Promise<LogCheckpoint>;
  /** Inclusion proof of leaf `index` in the tree of `size` leaves (default: a checkpoint covering it). */
  inclusionProof(index: number, size?: number): Promise<InclusionProofResult>;
  /** Consistency proof between two tree sizes (`size2` default: the latest checkpoint). */
  consistencyProof(size1: number, size2?: number): Promise<ConsistencyProofResult>;
  entry(index: number): Promise<LogEntry>;
  /** The log's C2SP verifier key `<origin>+<key id>+<key>`. */
  publicKey(): Promise<string>;
}
