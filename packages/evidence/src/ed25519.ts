/** Ed25519 through node:crypto (RFC 8032), from raw 32-byte keys or PKCS#8 DER. */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A private key from a 32-byte seed or a PKCS#8 DER encoding. */
export function ed25519PrivateKey(seedOrPkcs8: Uint8Array): KeyObject {
  const der = seedOrPkcs8.length === 32 ? Buffer.concat([PKCS8_SEED_PREFIX, seedOrPkcs8]) : Buffer.from(seedOrPkcs8);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 key, got ${key.asymmetricKeyType}`);
  return key;
}

export function ed25519PublicKey(raw32: Uint8Array): KeyObject {
  if (raw32.length !== 32) throw new TypeError('an Ed25519 public key has 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw32]), format: 'der', type: 'spki' });
}

/** The raw 32-byte public key of a private key. */
export function ed25519RawPublicKey(privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey));
}

export function ed25519Verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
