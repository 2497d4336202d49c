/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 (signature type 0x01).
 *
 *   <text ending in "\n">\n— <key name> <base64(key ID[4] ‖ signature)>\n…
 *
 * key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]; vkey = "<name>+<hex key ID>+<base64(type ‖ public key)>".
 * Verifiers may be of any signature type (cosignature.ts adds 0x04); openNote only matches name + key ID.
 */
import { concat, fromBase64, hasControlChar, sha256, toBase64, toHex, utf8 } from './bytes.ts';
import { ed25519PrivateKey, ed25519PublicKey, ed25519RawPublicKey, ed25519Sign, ed25519Verify } from './ed25519.ts';

export const SIG_TYPE_ED25519 = 0x01;
/** Enough for the log and a quorum of witnesses; the spec asks verifiers to accept at least 16. */
export const MAX_SIGNATURES = 32;
export const MAX_NOTE_BYTES = 64 * 1024;
const EM_DASH = '\u2014';

export interface NoteSigner {
  name: string;
  keyId: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  name: string;
  keyId: Uint8Array;
  verify(message: Uint8Array, sig: Uint8Array): boolean;
}

export class NoteError extends Error {
  override name = 'NoteError';
}

export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && !/[\s+]/u.test(name) && !hasControlChar(name);
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) throw new NoteError(`invalid key name ${JSON.stringify(name)}`);
}

export function keyIdOf(name: string, sigType: number, publicKey: Uint8Array): Uint8Array {
  return sha256(concat(utf8(name), new Uint8Array([0x0a, sigType]), publicKey)).slice(0, 4);
}

export function vkeyOf(name: string, publicKeyRaw32: Uint8Array, sigType = SIG_TYPE_ED25519): string {
  assertKeyName(name);
  if (publicKeyRaw32.length !== 32) throw new NoteError('an Ed25519 public key has 32 bytes');
  return `${name}+${toHex(keyIdOf(name, sigType, publicKeyRaw32))}+${toBase64(concat(new Uint8Array([sigType]), publicKeyRaw32))}`;
}

export interface ParsedVkey {
  name: string;
  keyId: Uint8Array;
  sigType: number;
  publicKey: Uint8Array;
}

/** Parses "<name>+<hex key ID>+<base64(type ‖ key)>" and checks that the key ID matches. */
export function parseVkey(vkey: string): ParsedVkey {
  if (typeof vkey !== 'string') throw new NoteError('vkey must be a string');
  // The key's base64 may itself contain '+': split at the first two only.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new NoteError('vkey must be <name>+<key id>+<key>');
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const keyB64 = vkey.slice(second + 1);
  assertKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('vkey key id must be 8 lowercase hex digits');
  let key: Uint8Array;
  try {
    key = fromBase64(keyB64);
  } catch {
    throw new NoteError('vkey key is not canonical base64');
  }
  if (key.length < 2) throw new NoteError('vkey key is empty');
  const sigType = key[0]!;
  const publicKey = key.slice(1);
  const keyId = keyIdOf(name, sigType, publicKey);
  if (toHex(keyId) !== idHex) throw new NoteError('vkey key id does not match its name and key');
  return { name, keyId, sigType, publicKey };
}

/** An Ed25519 note verifier (type 0x01) from its vkey. */
export function verifierFromVkey(vkey: string): NoteVerifier {
  const v = parseVkey(vkey);
  if (v.sigType !== SIG_TYPE_ED25519) throw new NoteError(`vkey type 0x${v.sigType.toString(16)} is not Ed25519 (0x01)`);
  if (v.publicKey.length !== 32) throw new NoteError('an Ed25519 public key has 32 bytes');
  const key = ed25519PublicKey(v.publicKey);
  return { name: v.name, keyId: v.keyId, verify: (message, sig) => ed25519Verify(key, message, sig) };
}

/** An Ed25519 note signer from a 32-byte seed or PKCS#8 DER private key (node:crypto). */
export function ed25519Signer(name: string, privateKeyPkcs8DerOrSeed: Uint8Array): NoteSigner & { vkey: string; publicKey: Uint8Array } {
  assertKeyName(name);
  const key = ed25519PrivateKey(privateKeyPkcs8DerOrSeed);
  const publicKey = ed25519RawPublicKey(key);
  return {
    name,
    keyId: keyIdOf(name, SIG_TYPE_ED25519, publicKey),
    publicKey,
    vkey: vkeyOf(name, publicKey),
    sign: (message) => ed25519Sign(key, message),
  };
}

/** Note text rules: non-empty, ends in "\n", valid UTF-8 without control characters other than "\n". */
function assertText(text: string): void {
  if (typeof text !== 'string' || text.length === 0 || !text.endsWith('\n')) throw new NoteError('note text must be non-empty and end with a newline');
  if (hasControlChar(text, true)) throw new NoteError('note text contains a control character');
  if (!text.isWellFormed()) throw new NoteError('note text is not valid Unicode');
}

export function signatureLine(name: string, keyId: Uint8Array, sig: Uint8Array): string {
  return `${EM_DASH} ${name} ${toBase64(concat(keyId, sig))}\n`;
}

export function signNote(text: string, signers: readonly NoteSigner[]): string {
  assertText(text);
  if (signers.length === 0) throw new NoteError('a note needs at least one signer');
  const message = utf8(text);
  const lines = signers.map((s) => {
    assertKeyName(s.name);
    return signatureLine(s.name, s.keyId, s.sign(message));
  });
  return `${text}\n${lines.join('')}`;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  sig: Uint8Array;
  line: string;
}

/** Splits a note at its last blank line into text and parsed signature lines (no verification). */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== 'string') throw new NoteError('note must be a string');
  if (utf8(note).length > MAX_NOTE_BYTES) throw new NoteError(`note is larger than ${MAX_NOTE_BYTES} bytes`);
  if (!note.isWellFormed()) throw new NoteError('note is not valid Unicode');
  if (hasControlChar(note, true)) throw new NoteError('note contains a control character');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('note has no signature block');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) throw new NoteError('signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => parseSignatureLine(line));
  return { text, signatures };
}

function parseSignatureLine(line: string): NoteSignature {
  const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
  if (!m) throw new NoteError(`malformed signature line ${JSON.stringify(line)}`);
  const name = m[1]!;
  assertKeyName(name);
  let raw: Uint8Array;
  try {
    raw = fromBase64(m[2]!);
  } catch {
    throw new NoteError(`signature of ${name} is not canonical base64`);
  }
  if (raw.length < 5) throw new NoteError(`signature of ${name} is too short`);
  return { name, keyId: raw.slice(0, 4), sig: raw.slice(4), line: `${line}\n` };
}

const sameId = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies a note: signatures from known keys (name and key ID both match) must verify; at least one
 * must. Unknown signatures are counted, not trusted. Throws NoteError on bad format, a bad known
 * signature, or no known signature.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): { text: string; verifiedBy: string[]; unknownSignatures: number } {
  const { text, signatures } = parseNote(note);
  assertText(text);
  const message = utf8(text);
  const verifiedBy: string[] = [];
  let unknownSignatures = 0;
  const seen = new Set<string>();
  for (const s of signatures) {
    const v = verifiers.find((x) => x.name === s.name && sameId(x.keyId, s.keyId));
    if (!v) {
      unknownSignatures++;
      continue;
    }
    const id = `${s.name}+${toHex(s.keyId)}`;
    if (seen.has(id)) throw new NoteError(`duplicate signature from ${id}`);
    seen.add(id);
    if (!v.verify(message, s.sig)) throw new NoteError(`invalid signature from ${id}`);
    verifiedBy.push(s.name);
  }
  if (verifiedBy.length === 0) throw new NoteError('note has no signature from a known key');
  return { text, verifiedBy, unknownSignatures };
}

/** Appends signature lines (e.g. witness cosignatures) to a signed note. */
export function appendSignatures(note: string, lines: readonly string[]): string {
  parseNote(note);
  for (const l of lines) parseSignatureLine(l.endsWith('\n') ? l.slice(0, -1) : l);
  return note + lines.map((l) => (l.endsWith('\n') ? l : `${l}\n`)).join('');
}
