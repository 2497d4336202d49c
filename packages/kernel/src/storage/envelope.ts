/**
 * The encrypted-object format. Each object gets its own random AES-256-GCM content key; the content
 * key is encrypted with the field crypto under the subject's data key (envelope in an envelope, as
 * S3 client-side encryption does), so destroying the subject's key makes every such object noise.
 *
 * Layout: MAGIC (8 bytes) ‖ header length (uint32 BE) ‖ header (JSON, UTF-8) ‖ IV (12) ‖ tag (16) ‖ body.
 * The header holds the algorithm, the subject and the wrapped content key; all of MAGIC ‖ length ‖
 * header is the additional authenticated data, so none of it can be swapped. The body is the
 * encryption of (content-type length (uint8) ‖ content type ‖ bytes): even the kind of document
 * stays inside.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { FieldCrypto } from '../crypto/types.ts';

export const ENVELOPE_MAGIC = Buffer.from('VRTYENC1', 'ascii');
export const ENCRYPTED_CONTENT_TYPE = 'application/vnd.verity.encrypted-object';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES_MAX = 4096;

interface EnvelopeHeader {
  v: 1;
  alg: 'A256GCM';
  subject: string;
  /** The content key, base64, as a field ciphertext of the subject. */
  key: string;
}

export const isEnvelope = (bytes: Uint8Array): boolean =>
  bytes.length >= ENVELOPE_MAGIC.length && Buffer.from(bytes.buffer, bytes.byteOffset, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC);

export async function seal(crypto: FieldCrypto, subjectId: string, plaintext: Uint8Array, contentType: string): Promise<Buffer> {
  const contentKey = randomBytes(32);
  const header: EnvelopeHeader = { v: 1, alg: 'A256GCM', subject: subjectId, key: await crypto.encrypt(subjectId, contentKey.toString('base64')) };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  if (headerBytes.length > HEADER_BYTES_MAX) throw new Error('object header too large (subject id too long)');
  const type = Buffer.from(contentType, 'utf8');
  if (type.length > 255) throw new Error('content type too long');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  const aad = Buffer.concat([ENVELOPE_MAGIC, length, headerBytes]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', contentKey, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(Buffer.from([type.length])), cipher.update(type), cipher.update(plaintext), cipher.final()]);
  contentKey.fill(0);
  return Buffer.concat([aad, iv, cipher.getAuthTag(), body]);
}

export function readHeader(sealed: Buffer): { header: EnvelopeHeader; aad: Buffer; rest: Buffer } {
  const start = ENVELOPE_MAGIC.length;
  if (sealed.length < start + 4) throw new Error('encrypted object truncated');
  const length = sealed.readUInt32BE(start);
  if (length > HEADER_BYTES_MAX || sealed.length < start + 4 + length + IV_BYTES + TAG_BYTES) throw new Error('encrypted object header is malformed');
  const aad = sealed.subarray(0, start + 4 + length);
  const header = JSON.parse(sealed.subarray(start + 4, start + 4 + length).toString('utf8')) as EnvelopeHeader;
  if (header.v !== 1 || header.alg !== 'A256GCM' || typeof header.subject !== 'string' || typeof header.key !== 'string') {
    throw new Error('encrypted object header is not a supported version');
  }
  return { header, aad, rest: sealed.subarray(aad.length) };
}

/** Decrypts; throws when any byte was altered, and `personal-data-erased` (410) after erasure. */
export async function open(crypto: FieldCrypto, sealed: Buffer): Promise<{ plaintext: Buffer; subjectId: string; contentType: string }> {
  const { header, aad, rest } = readHeader(sealed);
  const contentKey = Buffer.from(await crypto.decrypt(header.subject, header.key), 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', contentKey, rest.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(rest.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const inner = Buffer.concat([decipher.update(rest.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    const typeLength = inner[0] ?? 0;
    return { plaintext: inner.subarray(1 + typeLength), subjectId: header.subject, contentType: inner.subarray(1, 1 + typeLength).toString('utf8') };
  } finally {
    contentKey.fill(0);
  }
}
