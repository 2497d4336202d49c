/**
 * Field-level envelope encryption (ARCHITECTURE §3). Every subject (a player, an operator) has its
 * own AES-256-GCM data key, stored in `kernel.data_keys` only wrapped by the master key. Erasing a
 * subject destroys its wrapped key; the ciphertexts left in other tables become noise.
 *
 * Ciphertext format: `v1.` + base64url(iv[12] ‖ tag[16] ‖ body), with the subject id as
 * additional authenticated data, so a value copied onto another subject's row does not decrypt.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { DomainError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { aesGcmOpen, aesGcmSeal, DATA_KEY_BYTES, kmsMasterKey, localMasterKey, type KmsLike, type MasterKey } from './master-key.ts';
import { LruCache } from './lru.ts';
import type { FieldCrypto } from './types.ts';

const CIPHERTEXT_PREFIX = 'v1.';
/** Subjects the kernel keeps for itself; modules cannot encrypt under or destroy them. */
const RESERVED_PREFIX = 'kernel:';
const KEYED_HASH_ROOT = 'kernel:keyed-hash-root';
const SUBJECT_ID = /^[A-Za-z0-9:_.@-]{1,200}$/;
const PLAINTEXT_BYTES_MAX = 64 * 1024;

export const personalDataErased = () =>
  new DomainError('personal-data-erased', 410, 'Personal data erased', 'The personal data of this subject was erased and can no longer be read or written.');

export interface FieldCryptoOptions {
  db: Db;
  config: Config;
  log: Logger;
  /** A KMS client for KMS_KEY_ID (tests point one at a local endpoint); default: the SDK's. */
  kms?: KmsLike;
  /** Unwrapped data keys kept in memory (LRU). */
  cacheEntriesMax?: number;
  /**
   * How long an unwrapped key may be used from memory. Bounds how long another process can still
   * read a subject after its key was destroyed.
   */
  cacheTtlMs?: number;
}

export interface FieldCryptoRuntime extends FieldCrypto {
  /** The master key id new data keys are wrapped with. */
  readonly masterKeyId: string;
  close(): Promise<void>;
}

function assertSubject(subjectId: string): void {
  if (!SUBJECT_ID.test(subjectId)) throw new Error('subject id must be 1..200 characters of [A-Za-z0-9:_.@-]');
  if (subjectId.startsWith(RESERVED_PREFIX)) throw new Error(`subject ids starting with "${RESERVED_PREFIX}" are reserved`);
}

interface KeyRow {
  master_key_id: string;
  wrapped_key: Buffer | null;
  [k: string]: unknown;
}

export async function createFieldCrypto(options: FieldCryptoOptions): Promise<FieldCryptoRuntime> {
  const { config, log } = options;
  const primary: MasterKey = config.kmsKeyId ? await kmsMasterKey(config.kmsKeyId, options.kms) : await localMasterKey(config.keyFile, log);
  const masters = new Map<string, MasterKey>([[primary.id, primary]]);
  // Key rows are read and created on a pool of their own: a key made inside a caller's transaction
  // would vanish on its rollback while still cached here (ciphertexts made with it would be lost), and
  // on the shared pool, many transactions each waiting for a key connection could starve it.
  const connectionString = options.db.pool.options.connectionString;
  if (!connectionString) throw new Error('field crypto needs the database connection string of the pool');
  const keyPool = new pg.Pool({
    connectionString,
    max: 2,
    idleTimeoutMillis: 5_000,
    allowExitOnIdle: true,
    statement_timeout: config.databaseStatementTimeoutMs,
    connectionTimeoutMillis: 10_000,
    application_name: 'verity-field-crypto',
  });
  keyPool.on('error', () => {});
  const cache = new LruCache<Buffer>(options.cacheEntriesMax ?? 10_000, options.cacheTtlMs ?? 5 * 60_000);
  const loading = new Map<string, Promise<Buffer>>();

  const masterFor = async (id: string): Promise<MasterKey> => {
    const known = masters.get(id);
    if (known) return known;
    // Keys wrapped locally before KMS was configured stay readable while the key file is present.
    if (id.startsWith('local:')) {
      const local = await localMasterKey(config.keyFile, log);
      if (local.id === id) {
        masters.set(id, local);
        return local;
      }
    }
    throw new Error(`Data key wrapped by master key "${id}", which this process does not have (check VERITY_KEY_FILE / KMS_KEY_ID)`);
  };

  const select = async (subjectId: string) =>
    (await keyPool.query<KeyRow>('select master_key_id, wrapped_key from kernel.data_keys where subject_id = $1', [subjectId])).rows[0];

  const load = async (subjectId: string, create: boolean): Promise<Buffer> => {
    let row = await select(subjectId);
    if (!row && create) {
      const fresh = await primary.generateDataKey(subjectId);
      const inserted = await keyPool.query(
        'insert into kernel.data_keys (subject_id, master_key_id, wrapped_key) values ($1, $2, $3) on conflict (subject_id) do nothing',
        [subjectId, primary.id, fresh.wrapped],
      );
      if (inserted.rowCount === 1) return fresh.plaintext;
      row = await select(subjectId); // another process created it first: use theirs
    }
    if (!row?.wrapped_key) throw personalDataErased();
    const key = await (await masterFor(row.master_key_id)).unwrap(subjectId, row.wrapped_key);
    if (key.length !== DATA_KEY_BYTES) throw new Error('unwrapped data key has the wrong size');
    return key;
  };

  const dataKey = async (subjectId: string, create: boolean): Promise<Buffer> => {
    const cached = cache.get(subjectId);
    if (cached) return cached;
    // Concurrent misses for one subject share a load; creating and non-creating loads stay apart so
    // a read of an unknown subject cannot fail a concurrent first write.
    const loadKey = `${create ? 'w' : 'r'}:${subjectId}`;
    const pending = loading.get(loadKey);
    if (pending) return pending;
    const p = load(subjectId, create)
      .then((key) => {
        cache.set(subjectId, key);
        return key;
      })
      .finally(() => loading.delete(loadKey));
    loading.set(loadKey, p);
    return p;
  };

  // The root of every keyed hash: a data key like the others, so it lives wrapped by the master (KMS too).
  const hashRoot = await dataKey(KEYED_HASH_ROOT, true).catch(async (err: unknown) => {
    await keyPool.end();
    throw err;
  });
  const purposeKeys = new Map<string, Buffer>();
  const purposeKey = (purpose: string): Buffer => {
    let key = purposeKeys.get(purpose);
    if (!key) {
      if (!/^[a-z0-9][a-z0-9._-]{0,99}$/.test(purpose)) throw new Error('keyed-hash purpose must be a short lower-case identifier');
      key = Buffer.from(hkdfSync('sha256', hashRoot, Buffer.alloc(0), `verity/keyed-hash/v1/${purpose}`, 32));
      purposeKeys.set(purpose, key);
    }
    return key;
  };

  return {
    masterKeyId: primary.id,
    async encrypt(subjectId, plaintext) {
      assertSubject(subjectId);
      const bytes = Buffer.from(plaintext, 'utf8');
      if (bytes.length > PLAINTEXT_BYTES_MAX) throw new Error(`field plaintext above ${PLAINTEXT_BYTES_MAX} bytes`);
      const key = await dataKey(subjectId, true);
      return CIPHERTEXT_PREFIX + aesGcmSeal(key, bytes, `verity:field:v1:${subjectId}`).toString('base64url');
    },
    async decrypt(subjectId, ciphertext) {
      assertSubject(subjectId);
      if (!ciphertext.startsWith(CIPHERTEXT_PREFIX)) throw new Error('not a field ciphertext (expected the v1. prefix)');
      const key = await dataKey(subjectId, false);
      const sealed = Buffer.from(ciphertext.slice(CIPHERTEXT_PREFIX.length), 'base64url');
      return aesGcmOpen(key, sealed, `verity:field:v1:${subjectId}`).toString('utf8');
    },
    keyedHash(purpose, value) {
      return createHmac('sha256', purposeKey(purpose)).update(value, 'utf8').digest('hex');
    },
    async destroySubjectKey(subjectId) {
      assertSubject(subjectId);
      // Its own statement, not the caller's transaction: erasure is irreversible by intent, and a
      // rollback must not bring a key back that callers were told is gone. The tombstone also covers
      // subjects that never had a key, so nothing is encrypted for them afterwards.
      await keyPool.query(
        `insert into kernel.data_keys (subject_id, master_key_id, wrapped_key, destroyed_at) values ($1, 'destroyed', null, clock_timestamp())
         on conflict (subject_id) do update set wrapped_key = null, destroyed_at = coalesce(kernel.data_keys.destroyed_at, clock_timestamp())`,
        [subjectId],
      );
      cache.delete(subjectId);
      log.info({ subject: subjectId }, 'subject data key destroyed');
    },
    async close() {
      await keyPool.end();
    },
  };
}
