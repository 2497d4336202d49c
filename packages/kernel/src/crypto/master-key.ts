/**
 * Master keys wrap the per-subject data keys and never touch personal data themselves.
 * Local: a 256-bit key in a 0600 file (development, tests, one machine). AWS: a KMS key, so the
 * master never leaves KMS and every unwrap is logged by CloudTrail.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../telemetry/logger.ts';

export const DATA_KEY_BYTES = 32;

export interface MasterKey {
  /** Stored beside each wrapped key so the right master unwraps it (`local:<fp>`, `kms:<id>`). */
  readonly id: string;
  /** A fresh data key, in clear and wrapped; the wrap is bound to the subject. */
  generateDataKey(subjectId: string): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrap(subjectId: string, wrapped: Buffer): Promise<Buffer>;
}

/** The minimum of the KMS client we use, so a test can hand in a client pointed at a local endpoint. */
export interface KmsLike {
  send(command: unknown): Promise<any>;
}

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

/**
 * Importing raw key bytes costs more than a small AES-GCM operation; data keys are held (as the same
 * Buffer) by the key cache, so their imported form is kept beside them and goes when they go.
 */
const imported = new WeakMap<Buffer, KeyObject>();
function keyObject(key: Buffer): KeyObject {
  let k = imported.get(key);
  if (!k) {
    k = createSecretKey(key);
    imported.set(key, k);
  }
  return k;
}

export function aesGcmSeal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Throws when the tag does not verify: the bytes were altered, moved to another subject, or the key is wrong. */
export function aesGcmOpen(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), sealed.subarray(0, GCM_IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(GCM_IV_BYTES + GCM_TAG_BYTES)), decipher.final()]);
}

const wrapAad = (subjectId: string) => `verity:data-key:v1:${subjectId}`;

/** Reads the key file, creating it (0600, directory 0700) when absent; `wx` makes concurrent creators safe. */
export async function readOrCreateKeyFile(file: string, log: Logger): Promise<Buffer> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written to a private temp file, then linked into place: a concurrent reader sees either no file
  // or a complete one, and of two concurrent creators exactly one wins (link fails with EEXIST).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${randomBytes(DATA_KEY_BYTES).toString('base64')}\n`, { mode: 0o600 });
  try {
    await link(tmp, file);
    log.info({ keyFile: file }, 'created a new local master key; back it up: without it personal data cannot be read');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) log.warn({ keyFile: file, mode: mode.toString(8) }, 'the master key file is readable by other users; chmod 600 it');
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== DATA_KEY_BYTES) throw new Error(`Master key file ${file} must hold ${DATA_KEY_BYTES} bytes in base64`);
  return key;
}

export async function localMasterKey(file: string, log: Logger): Promise<MasterKey> {
  const master = await readOrCreateKeyFile(file, log);
  // The file's key is only input keying material; wrapping uses a derived key so the same file can
  // safely seed other purposes later.
  const kek = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'verity/master/wrap-data-key/v1', DATA_KEY_BYTES));
  const fingerprint = createHash('sha256').update('verity/master/fingerprint/v1').update(master).digest('hex').slice(0, 16);
  return {
    id: `local:${fingerprint}`,
    async generateDataKey(subjectId) {
      const plaintext = randomBytes(DATA_KEY_BYTES);
      return { plaintext, wrapped: aesGcmSeal(kek, plaintext, wrapAad(subjectId)) };
    },
    async unwrap(subjectId, wrapped) {
      return aesGcmOpen(kek, wrapped, wrapAad(subjectId));
    },
  };
}

/** AWS KMS: GenerateDataKey / Decrypt with the subject in the encryption context (bound and logged). */
export async function kmsMasterKey(keyId: string, client?: KmsLike): Promise<MasterKey> {
  const kms = await import('@aws-sdk/client-kms');
  // The endpoint follows the SDK's own settings (AWS_REGION, AWS_ENDPOINT_URL_KMS for LocalStack and the like).
  const sdk: KmsLike = client ?? new kms.KMSClient({});
  const context = (subjectId: string) => ({ purpose: 'verity-field-encryption', subject: subjectId });
  return {
    id: `kms:${keyId}`,
    async generateDataKey(subjectId) {
      const out = await sdk.send(new kms.GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context(subjectId) }));
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key');
      const plaintext = Buffer.from(out.Plaintext as Uint8Array);
      if (plaintext.length !== DATA_KEY_BYTES) throw new Error('KMS returned a data key of the wrong size');
      return { plaintext, wrapped: Buffer.from(out.CiphertextBlob as Uint8Array) };
    },
    async unwrap(subjectId, wrapped) {
      const out = await sdk.send(new kms.DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: context(subjectId) }));
      if (!out.Plaintext) throw new Error('KMS Decrypt returned no key');
      return Buffer.from(out.Plaintext as Uint8Array);
    },
  };
}
