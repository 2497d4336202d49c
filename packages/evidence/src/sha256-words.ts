/**
 * SHA-256 (FIPS 180-4) compression in plain JS over 32-bit words, for the one hot loop of a draw:
 * hashing millions of fixed-size Merkle inputs (59-byte leaves, 65-byte nodes). node:crypto pays a
 * native call and a Buffer allocation per hash, more than the hash itself at these sizes; here the
 * state lives in preallocated Int32Arrays and nothing is allocated per hash. Tested against
 * node:crypto on random inputs; used only by entriesRoot.
 */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** Expands W[0..15] (already set) into the 64-word schedule. */
function expand(W: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
}

/** One compression of `state` (8 words at `so`) with the expanded schedule W. */
function compress(state: Int32Array, so: number, W: Int32Array): void {
  let a = state[so]!;
  let b = state[so + 1]!;
  let c = state[so + 2]!;
  let d = state[so + 3]!;
  let e = state[so + 4]!;
  let f = state[so + 5]!;
  let g = state[so + 6]!;
  let h = state[so + 7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[so] = (state[so]! + a) | 0;
  state[so + 1] = (state[so + 1]! + b) | 0;
  state[so + 2] = (state[so + 2]! + c) | 0;
  state[so + 3] = (state[so + 3]! + d) | 0;
  state[so + 4] = (state[so + 4]! + e) | 0;
  state[so + 5] = (state[so + 5]! + f) | 0;
  state[so + 6] = (state[so + 6]! + g) | 0;
  state[so + 7] = (state[so + 7]! + h) | 0;
}

/** The schedule of a final block holding only padding and a bit length (constant per message size). */
function lengthOnlySchedule(bits: number): Int32Array {
  const W = new Int32Array(64);
  W[15] = bits;
  expand(W);
  return W;
}

const W = new Int32Array(64);
const LEAF_TAIL = lengthOnlySchedule(59 * 8);

/**
 * SHA-256 of a 59-byte message laid out in `block` (64 bytes: the message, then 0x80 and four zero
 * bytes, which the caller keeps); the digest's 8 words go to out[oo..oo+8).
 */
export function sha256Block59(block: Uint8Array, out: Int32Array, oo: number): void {
  for (let i = 0; i < 16; i++) {
    const j = i * 4;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  expand(W);
  out.set(IV, oo);
  compress(out, oo, W);
  compress(out, oo, LEAF_TAIL);
}

/**
 * RFC 9162 node hash SHA-256(0x01 ‖ left ‖ right) over digests held as words: left at words[lo..lo+8),
 * right at words[ro..ro+8); the result goes to out[oo..oo+8) (which may alias left).
 */
export function nodeHashWords(words: Int32Array, lo: number, ro: number, out: Int32Array, oo: number): void {
  // The 65-byte message is 0x01 then the 64 bytes of left ‖ right: every word is shifted by one byte.
  let prev = 0x01;
  for (let i = 0; i < 16; i++) {
    const x = i < 8 ? words[lo + i]! : words[ro + i - 8]!;
    W[i] = (prev << 24) | (x >>> 8);
    prev = x & 0xff;
  }
  expand(W);
  const s = SCRATCH;
  s.set(IV, 0);
  compress(s, 0, W);
  W[0] = (prev << 24) | (0x80 << 16);
  W.fill(0, 1, 15);
  W[15] = 65 * 8;
  expand(W);
  compress(s, 0, W);
  out.set(s, oo);
}
const SCRATCH = new Int32Array(8);

export function wordsToBytes(words: Int32Array, o: number): Uint8Array {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) dv.setInt32(i * 4, words[o + i]!, false);
  return out;
}

export function bytesToWords(bytes: Uint8Array, out: Int32Array, o: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 32);
  for (let i = 0; i < 8; i++) out[o + i] = dv.getInt32(i * 4, false);
}
