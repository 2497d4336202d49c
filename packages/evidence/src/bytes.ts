/**
 * Byte helpers shared by the evidence package. Encodings are strict on purpose: the verifier accepts
 * only the canonical form of every value (lowercase hex, padded standard base64), so that two
 * different bundle texts can never decode to the same bytes (a flipped letter case must be caught).
 */
import { hash as nodeHash, timingSafeEqual } from 'node:crypto';

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Lowercase hex only; throws on anything else (odd length, uppercase, separators). */
export function fromHex(s: string, expectedLength?: number): Uint8Array {
  if (typeof s !== 'string' || !HEX_RE.test(s)) throw new TypeError('not lowercase hex');
  const out = new Uint8Array(Buffer.from(s, 'hex'));
  if (expectedLength !== undefined && out.length !== expectedLength) throw new TypeError(`expected ${expectedLength} bytes, got ${out.length}`);
  return out;
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Standard padded base64 (RFC 4648 §4), canonical only: the unused bits of the last symbol are zero. */
export function fromBase64(s: string): Uint8Array {
  if (typeof s !== 'string' || !B64_RE.test(s)) throw new TypeError('not canonical base64');
  const out = new Uint8Array(Buffer.from(s, 'base64'));
  if (toBase64(out) !== s) throw new TypeError('not canonical base64');
  return out;
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Unsigned 64-bit big-endian; the value must be a safe integer ≥ 0 (or a bigint < 2^64). */
export function u64be(v: number | bigint): Uint8Array {
  const big = typeof v === 'bigint' ? v : BigInt(v);
  if (typeof v === 'number' && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`not a u64: ${v}`);
  if (big < 0n || big >= 1n << 64n) throw new RangeError(`not a u64: ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, big, false);
  return out;
}

export function sha256(data: Uint8Array): Uint8Array {
  return nodeHash('sha256', data, 'buffer') as unknown as Uint8Array;
}

const BLOCK = 64;

/**
 * HMAC-SHA-256 (RFC 2104) over one-shot SHA-256 calls: node's createHmac builds a key object per
 * call (~28 µs); the DRBG changes its key on every step, so this is ~10× faster for its short inputs.
 */
export function hmacSha256(key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const k = key.length > BLOCK ? sha256(key) : key;
  let n = 0;
  for (const p of parts) n += p.length;
  const inner = new Uint8Array(BLOCK + n);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const b = k[i] ?? 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  let o = BLOCK;
  for (const p of parts) {
    inner.set(p, o);
    o += p.length;
  }
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && (a.length === 0 || timingSafeEqual(a, b));
}

export const isSafeIndex = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** True if s has an ASCII control character (below U+0020; C2SP notes allow nothing else), other than "\n" when allowed. */
export function hasControlChar(s: string, allowNewline = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}
