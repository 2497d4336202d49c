/**
 * @verity/evidence — the evidence layer, pure and zero-I/O (crypto dependencies only), publishable
 * alone: RFC 9162 Merkle proofs, C2SP signed notes, checkpoints and witness cosignatures, the
 * SP 800-90A HMAC_DRBG, drand beacon verification, the draw protocol and its offline verifier.
 */
export { concat, fromBase64, fromHex, sha256, toBase64, toHex, u64be, utf8 } from './bytes.ts';
export {
  consistencyPlan,
  consistencyProof,
  emptyRoot,
  HASH_SIZE,
  inclusionPlan,
  inclusionProof,
  leafHash,
  MerkleBuilder,
  MerkleTree,
  nodeHash,
  rootOf,
  rootPlan,
  verifyConsistency,
  verifyInclusion,
  type CompletedNode,
  type NodeRef,
  type ProofPlan,
} from './merkle.ts';
export {
  appendSignatures,
  ed25519Signer,
  keyIdOf,
  NoteError,
  openNote,
  parseNote,
  parseVkey,
  SIG_TYPE_ED25519,
  signNote,
  verifierFromVkey,
  vkeyOf,
  type NoteSigner,
  type NoteVerifier,
  type ParsedVkey,
} from './note.ts';
export { CheckpointError, formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.ts';
export {
  cosign,
  cosignatureVerifier,
  cosignatureVkey,
  cosignedMessage,
  SIG_TYPE_COSIGNATURE_V1,
  verifyCosignature,
  Witness,
  WitnessRefusal,
  type CosignatureCheck,
  type WitnessKey,
  type WitnessOptions,
  type WitnessRefusalCode,
  type WitnessState,
} from './cosignature.ts';
export { HmacDrbg } from './drbg.ts';
export {
  drandPublicKey,
  firstRoundAfter,
  localBeacon,
  localBeaconSecretKey,
  QUICKNET,
  QUICKNET_DST,
  QUICKNET_SCHEME,
  roundAt,
  roundMessage,
  roundTime,
  signDrandRound,
  verifyDrandBeacon,
  type DrandBeacon,
  type DrandChainInfo,
} from './drand.ts';
export { canonicalJson, canonicalJsonBytes } from './jcs.ts';
export {
  closeRecordBytes,
  DRAW_PERSONALIZATION_TAG,
  drawPersonalization,
  drawWinners,
  DrawProtocolError,
  entriesRoot,
  entryInclusionProof,
  entryLeafData,
  entryLeafHash,
  holderCommitment,
  manifestBytes,
  MAX_WINNERS,
  operatorCommitment,
  RECORD_TYPES,
  resultRecordBytes,
  selectWinners,
  tierOfPosition,
  uniformBelow,
  verifyEntryInclusion,
  winnersToDraw,
  type CanonicalEntry,
  type CloseSnapshotRecord,
  type DrawInputs,
  type DrawManifest,
  type DrawWinner,
  type EntryInclusion,
  type EntryKind,
  type ManifestBeacon,
  type PrizeTier,
  type Reconciliation,
  type ResultBeacon,
  type ResultRecord,
  type SelectionInput,
} from './draw.ts';
export { formatReport, verifyBundle, verifyBundleJson } from './bundle.ts';
export { runVerifyCli, VERIFY_USAGE, type VerifyCliIo } from './cli.ts';
export {
  BUNDLE_FORMAT,
  type BundleLog,
  type DrawBundle,
  type LogInclusion,
  type VerificationCheck,
  type VerificationReport,
  type VerifyOptions,
} from './bundle-types.ts';
export { bundleShapeErrors } from './schema.ts';
