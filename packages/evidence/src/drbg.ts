/**
 * HMAC_DRBG with SHA-256, NIST SP 800-90A Rev. 1 §10.1.2, without prediction resistance.
 * Deterministic by design: the draw re-runs it from public inputs, so the "entropy" here is the
 * drand beacon randomness and the nonce is the revealed operator secret (docs/draw-protocol.md).
 */
import { concat, hmacSha256 } from './bytes.ts';

const OUTLEN = 32;
/** SP 800-90A Table 2: max_number_of_bits_per_request = 2^19. */
export const MAX_BYTES_PER_REQUEST = 2 ** 19 / 8;
/** SP 800-90A Table 2: reseed_interval ≤ 2^48. */
export const RESEED_INTERVAL = 2 ** 48;
/** Table 2 caps entropy and other inputs at 2^35 bits; we hold them far lower. */
const MAX_INPUT_BYTES = 1 << 16;
/** security_strength 256 needs at least 256 bits of entropy (§8.6.7, §10.1). */
const MIN_ENTROPY_BYTES = 32;

const hmac = hmacSha256;

function assertInput(b: Uint8Array, what: string): void {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} must be bytes`);
  if (b.length > MAX_INPUT_BYTES) throw new RangeError(`${what} is longer than ${MAX_INPUT_BYTES} bytes`);
}

const ZERO = new Uint8Array([0x00]);
const ONE = new Uint8Array([0x01]);

export class HmacDrbg {
  #k: Uint8Array = new Uint8Array(OUTLEN);
  #v: Uint8Array = new Uint8Array(OUTLEN).fill(0x01);
  #reseedCounter = 1;

  /** §10.1.2.3 instantiate: seed_material = entropy ‖ nonce ‖ personalization. */
  constructor(entropy: Uint8Array, nonce: Uint8Array, personalization: Uint8Array = new Uint8Array(0)) {
    assertInput(entropy, 'entropy');
    assertInput(nonce, 'nonce');
    assertInput(personalization, 'personalization');
    if (entropy.length < MIN_ENTROPY_BYTES) throw new RangeError(`entropy must be at least ${MIN_ENTROPY_BYTES} bytes`);
    this.#update(concat(entropy, nonce, personalization));
  }

  /** §10.1.2.2 HMAC_DRBG_Update. */
  #update(provided: Uint8Array | undefined): void {
    const data = provided ?? new Uint8Array(0);
    this.#k = hmac(this.#k, this.#v, ZERO, data);
    this.#v = hmac(this.#k, this.#v);
    if (data.length === 0) return;
    this.#k = hmac(this.#k, this.#v, ONE, data);
    this.#v = hmac(this.#k, this.#v);
  }

  /** §10.1.2.4 reseed. */
  reseed(entropy: Uint8Array, additional: Uint8Array = new Uint8Array(0)): void {
    assertInput(entropy, 'entropy');
    assertInput(additional, 'additional input');
    if (entropy.length < MIN_ENTROPY_BYTES) throw new RangeError(`entropy must be at least ${MIN_ENTROPY_BYTES} bytes`);
    this.#update(concat(entropy, additional));
    this.#reseedCounter = 1;
  }

  /** §10.1.2.5 generate. An empty additional input is the same as none (the spec's Null). */
  generate(bytes: number, additionalInput?: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_BYTES_PER_REQUEST) throw new RangeError(`requested ${bytes} bytes; at most ${MAX_BYTES_PER_REQUEST} per request`);
    if (this.#reseedCounter > RESEED_INTERVAL) throw new Error('HMAC_DRBG: reseed required');
    const additional = additionalInput && additionalInput.length > 0 ? additionalInput : undefined;
    if (additional) {
      assertInput(additional, 'additional input');
      this.#update(additional);
    }
    const out = new Uint8Array(bytes);
    for (let off = 0; off < bytes; off += OUTLEN) {
      this.#v = hmac(this.#k, this.#v);
      out.set(this.#v.subarray(0, Math.min(OUTLEN, bytes - off)), off);
    }
    this.#update(additional);
    this.#reseedCounter++;
    return out;
  }
}
