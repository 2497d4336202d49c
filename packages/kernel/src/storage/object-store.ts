/**
 * The object store every module gets as `ctx.objects` (ARCHITECTURE §3, ADR 0009): hashing,
 * integrity on read and encryption at rest over a backend (filesystem by default, S3 in AWS).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { FieldCrypto } from '../crypto/types.ts';
import { DomainError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ENCRYPTED_CONTENT_TYPE, isEnvelope, open, readHeader, seal } from './envelope.ts';
import { createFsBackend } from './fs-backend.ts';
import { createS3Backend, type S3BackendOptions } from './s3-backend.ts';
import type { ObjectBackend, ObjectStore } from './types.ts';

const KEY = /^[0-9a-f]{64}$/;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export const objectNotFound = () => new DomainError('object-not-found', 404, 'Not found', 'The stored object does not exist.');

/** The stored bytes do not hash to their key: damaged or tampered with. Never served. */
export class ObjectIntegrityError extends Error {
  override name = 'ObjectIntegrityError';
}

export interface ObjectStoreOptions {
  backend: ObjectBackend;
  crypto: FieldCrypto;
  objectMaxBytes: number;
  log?: Logger;
}

function assertKey(key: string): void {
  if (!KEY.test(key)) throw new DomainError('object-key-invalid', 400, 'Invalid object key', 'An object key is 64 lower-case hex characters (a SHA-256).');
}

export function createObjectStore(options: ObjectStoreOptions): ObjectStore {
  const { backend, crypto } = options;
  return {
    kind: backend.kind,
    async put(input, { contentType, encryptFor, retainUntil }) {
      if (!CONTENT_TYPE.test(contentType)) throw new Error(`content type "${contentType.slice(0, 80)}" is not a plain MIME type`);
      if (input.length > options.objectMaxBytes) throw new Error(`object of ${input.length} bytes is above OBJECT_STORE_OBJECT_MAX_BYTES (${options.objectMaxBytes})`);
      const bytes = Buffer.from(input.buffer, input.byteOffset, input.length);
      // Plain bytes that look like an envelope would be "decrypted" on read: refuse the ambiguity.
      if (!encryptFor && isEnvelope(bytes)) throw new Error('plain objects may not start with the encrypted-object marker');
      const sha256 = sha256Hex(bytes);
      const stored = encryptFor ? await seal(crypto, encryptFor, bytes, contentType) : bytes;
      const key = encryptFor ? sha256Hex(stored) : sha256;
      await backend.put(key, stored, { contentType: encryptFor ? ENCRYPTED_CONTENT_TYPE : contentType, ...(retainUntil ? { retainUntil } : {}) });
      return { key, size: bytes.length, sha256, storedSha256: key, storedSize: stored.length, encrypted: !!encryptFor, contentType };
    },
    async get(key, getOptions = {}) {
      assertKey(key);
      const found = await backend.get(key);
      if (!found) throw objectNotFound();
      if (sha256Hex(found.bytes) !== key) {
        options.log?.error({ key, backend: backend.kind }, 'stored object does not match its hash');
        throw new ObjectIntegrityError(`object ${key} does not match its SHA-256`);
      }
      if (!isEnvelope(found.bytes)) {
        if (getOptions.subjectId) throw objectNotFound();
        return { bytes: found.bytes, contentType: found.contentType, sha256: key, encrypted: false };
      }
      // Checked before any key is touched: a caller asking for one subject's document never decrypts another's.
      if (getOptions.subjectId && readHeader(found.bytes).header.subject !== getOptions.subjectId) throw objectNotFound();
      const { plaintext, subjectId, contentType } = await open(crypto, found.bytes);
      return { bytes: plaintext, contentType, sha256: sha256Hex(plaintext), encrypted: true, subjectId };
    },
    async exists(key) {
      assertKey(key);
      return backend.exists(key);
    },
    close: () => backend.close(),
  };
}

/** The store OBJECT_STORE_* describes. `s3` lets tests hand in credentials for a local endpoint. */
export async function objectStoreFromConfig(input: {
  config: Config;
  crypto: FieldCrypto;
  log?: Logger;
  s3?: Partial<S3BackendOptions>;
}): Promise<ObjectStore> {
  const { config } = input;
  let backend: ObjectBackend;
  if (config.objectStore === 's3') {
    if (!config.objectStoreS3Bucket) throw new Error('OBJECT_STORE=s3 needs OBJECT_STORE_S3_BUCKET');
    backend = await createS3Backend({
      bucket: config.objectStoreS3Bucket,
      prefix: config.objectStoreS3Prefix,
      forcePathStyle: config.objectStoreS3ForcePathStyle,
      objectLockMode: config.objectStoreS3ObjectLockMode,
      ...(config.objectStoreS3Region ? { region: config.objectStoreS3Region } : {}),
      ...(config.objectStoreS3Endpoint ? { endpoint: config.objectStoreS3Endpoint } : {}),
      ...input.s3,
    });
  } else {
    // Resolved here, not in the config default, so a data directory given at run time (tests) holds it too.
    backend = createFsBackend(config.objectStoreDir ?? path.join(config.dataDir, 'objects'));
  }
  return createObjectStore({ backend, crypto: input.crypto, objectMaxBytes: config.objectStoreObjectMaxBytes, ...(input.log ? { log: input.log } : {}) });
}
