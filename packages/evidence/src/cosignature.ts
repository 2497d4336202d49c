/**
 * C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature), Ed25519 (signature type 0x04):
 * the signature line is "— <name> base64(key ID[4] ‖ timestamp u64be ‖ Ed25519 sig[64])" over
 *   "cosignature/v1\ntime <timestamp>\n" ‖ <whole checkpoint note text>.
 * A Witness cosigns a log's checkpoint only after checking the log's signature and consistency with
 * the last checkpoint it cosigned for that origin: it never signs a rollback or a fork.
 */
import { bytesEqual, concat, toHex, u64be, utf8 } from './bytes.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { ed25519PrivateKey, ed25519PublicKey, ed25519RawPublicKey, ed25519Sign, ed25519Verify } from './ed25519.ts';
import { verifyConsistency } from './merkle.ts';
import { keyIdOf, NoteError, openNote, parseNote, parseVkey, signatureLine, verifierFromVkey, vkeyOf, type NoteVerifier } from './note.ts';

export const SIG_TYPE_COSIGNATURE_V1 = 0x04;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export function cosignedMessage(checkpointText: string, timeS: number): Uint8Array {
  if (!Number.isSafeInteger(timeS) || timeS < 0) throw new RangeError(`cosignature time must be a non-negative integer, got ${timeS}`);
  return utf8(`cosignature/v1\ntime ${timeS}\n${checkpointText}`);
}

export function cosignatureVkey(name: string, publicKeyRaw32: Uint8Array): string {
  return vkeyOf(name, publicKeyRaw32, SIG_TYPE_COSIGNATURE_V1);
}

export interface WitnessKey {
  name: string;
  /** 32-byte Ed25519 seed or PKCS#8 DER. */
  privateKey: Uint8Array;
}

/** Cosigns a checkpoint note text (the body only, ending in "\n"); returns the signature line. */
export function cosign(checkpointText: string, witness: WitnessKey, timeS: number): string {
  parseCheckpoint(checkpointText);
  const key = ed25519PrivateKey(witness.privateKey);
  const keyId = keyIdOf(witness.name, SIG_TYPE_COSIGNATURE_V1, ed25519RawPublicKey(key));
  const sig = ed25519Sign(key, cosignedMessage(checkpointText, timeS));
  return signatureLine(witness.name, keyId, concat(u64be(timeS), sig));
}

/** A note verifier for a cosigner vkey (type 0x04): checks the timestamped signature. */
export function cosignatureVerifier(vkey: string): NoteVerifier & { vkey: string } {
  const v = parseVkey(vkey);
  if (v.sigType !== SIG_TYPE_COSIGNATURE_V1) throw new NoteError(`vkey type 0x${v.sigType.toString(16)} is not a cosignature/v1 key (0x04)`);
  if (v.publicKey.length !== 32) throw new NoteError('an Ed25519 public key has 32 bytes');
  const key = ed25519PublicKey(v.publicKey);
  return {
    name: v.name,
    keyId: v.keyId,
    vkey,
    verify(message, sig) {
      const t = timestampOf(sig);
      if (t === undefined) return false;
      const text = new TextDecoder().decode(message);
      return ed25519Verify(key, cosignedMessage(text, t), sig.slice(8));
    },
  };
}

function timestampOf(sig: Uint8Array): number | undefined {
  if (sig.length !== 72) return undefined;
  const t = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0, false);
  if (t > MAX_TIMESTAMP || t > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(t);
}

export interface CosignatureCheck {
  ok: boolean;
  timeS?: number;
  reason?: string;
}

/**
 * Finds the cosignature of `witnessVkey` in a signed checkpoint note and verifies it. Returns its
 * timestamp. A note without that witness's line is `ok: false` (reason "absent").
 */
export function verifyCosignature(note: string, witnessVkey: string): CosignatureCheck {
  try {
    const v = cosignatureVerifier(witnessVkey);
    const { text, signatures } = parseNote(note);
    const mine = signatures.filter((s) => s.name === v.name && bytesEqual(s.keyId, v.keyId));
    if (mine.length === 0) return { ok: false, reason: 'absent' };
    if (mine.length > 1) return { ok: false, reason: 'duplicate cosignature' };
    const s = mine[0]!;
    if (!v.verify(utf8(text), s.sig)) return { ok: false, reason: 'invalid signature' };
    return { ok: true, timeS: timestampOf(s.sig)! };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export type WitnessRefusalCode = 'unknown-log' | 'bad-signature' | 'bad-checkpoint' | 'rollback' | 'fork' | 'bad-proof';

export class WitnessRefusal extends Error {
  override name = 'WitnessRefusal';
  readonly code: WitnessRefusalCode;
  constructor(code: WitnessRefusalCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface WitnessState {
  size: number;
  rootHash: Uint8Array;
}

export interface WitnessOptions {
  name: string;
  privateKey: Uint8Array;
  /** The logs this witness follows: origin → the log's note vkey(s). */
  logs: readonly { origin: string; vkeys: readonly string[] }[];
  /** Seconds since the epoch; injected (domain code never reads the wall clock itself). */
  clock: () => number;
  /** Persisted state to resume from, per origin. */
  state?: ReadonlyMap<string, WitnessState>;
}

/**
 * A witness: remembers, per origin, the checkpoint it last cosigned. `cosign(note, proof)` verifies
 * the log signature, then the consistency proof from its last (size, root) to the new checkpoint;
 * it refuses a smaller size (rollback) and a different root at the same size or an inconsistent
 * proof (fork). The first checkpoint of an origin is accepted on the log signature alone (TOFU).
 */
export class Witness {
  readonly name: string;
  readonly vkey: string;
  readonly #key: WitnessKey;
  readonly #logs: Map<string, NoteVerifier[]>;
  readonly #state: Map<string, WitnessState>;
  readonly #clock: () => number;

  constructor(opts: WitnessOptions) {
    this.name = opts.name;
    this.#key = { name: opts.name, privateKey: opts.privateKey };
    this.vkey = cosignatureVkey(opts.name, ed25519RawPublicKey(ed25519PrivateKey(opts.privateKey)));
    this.#logs = new Map(opts.logs.map((l) => [l.origin, l.vkeys.map((k) => verifierFromVkey(k))]));
    this.#state = new Map([...(opts.state ?? new Map<string, WitnessState>())].map(([o, s]) => [o, { size: s.size, rootHash: s.rootHash.slice() }]));
    this.#clock = opts.clock;
  }

  /** The last cosigned (size, root) for an origin. */
  state(origin: string): WitnessState | undefined {
    const s = this.#state.get(origin);
    return s && { size: s.size, rootHash: s.rootHash.slice() };
  }

  /** Returns the cosignature line for the checkpoint note, or throws WitnessRefusal. */
  cosign(note: string, consistencyProof: readonly Uint8Array[]): string {
    const { text, checkpoint } = this.#open(note);
    const last = this.#state.get(checkpoint.origin);
    if (last) this.#checkAppendOnly(last, checkpoint, consistencyProof);
    const line = cosign(text, this.#key, this.#clock());
    this.#state.set(checkpoint.origin, { size: checkpoint.size, rootHash: checkpoint.rootHash.slice() });
    return line;
  }

  #open(note: string): { text: string; checkpoint: Checkpoint } {
    let text: string;
    try {
      text = parseNote(note).text;
    } catch (err) {
      throw new WitnessRefusal('bad-checkpoint', (err as Error).message);
    }
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(text);
    } catch (err) {
      throw new WitnessRefusal('bad-checkpoint', (err as Error).message);
    }
    const verifiers = this.#logs.get(checkpoint.origin);
    if (!verifiers) throw new WitnessRefusal('unknown-log', `not witnessing origin ${JSON.stringify(checkpoint.origin)}`);
    try {
      openNote(note, verifiers);
    } catch (err) {
      throw new WitnessRefusal('bad-signature', (err as Error).message);
    }
    return { text, checkpoint };
  }

  #checkAppendOnly(last: WitnessState, next: Checkpoint, proof: readonly Uint8Array[]): void {
    if (next.size < last.size) throw new WitnessRefusal('rollback', `size ${next.size} is smaller than the last cosigned size ${last.size}`);
    if (next.size === last.size) {
      if (!bytesEqual(next.rootHash, last.rootHash)) throw new WitnessRefusal('fork', `a different root at the cosigned size ${last.size}`);
      return;
    }
    if (!verifyConsistency(last.size, next.size, last.rootHash, next.rootHash, proof)) {
      throw new WitnessRefusal('fork', `no valid consistency proof from size ${last.size} (${toHex(last.rootHash).slice(0, 16)}…) to ${next.size}`);
    }
  }
}
