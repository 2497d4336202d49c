/**
 * The object store port (ARCHITECTURE §3): documents and evidence files, content-addressed by the
 * SHA-256 of the stored bytes. Objects are immutable: there is no overwrite and no delete; personal
 * documents are stored encrypted under the subject's data key, so erasure is destroying that key.
 */

export interface PutOptions {
  /** MIME type of the bytes given (kept with the object; inside the ciphertext when encrypted). */
  contentType: string;
  /**
   * Encrypt at rest under this subject's data key (a player id): for personal documents. The stored
   * object is then ciphertext, its key the hash of the ciphertext; nothing in it reads without the key.
   */
  encryptFor?: string;
  /**
   * Keep the object at least until then (evidence). S3: Object Lock retention in the configured mode;
   * filesystem: recorded beside the object (the store never deletes anyway).
   */
  retainUntil?: Date;
}

export interface StoredObject {
  /** Where to find it again: the SHA-256 (hex) of the stored bytes (the ciphertext when encrypted). */
  key: string;
  /** Bytes given (plaintext). */
  size: number;
  /** SHA-256 (hex) of the bytes given: what a manifest or a document record quotes. */
  sha256: string;
  /** SHA-256 (hex) of the stored object; equals `key`. */
  storedSha256: string;
  /** Bytes stored (larger than `size` when encrypted: header, IV and tag). */
  storedSize: number;
  encrypted: boolean;
  contentType: string;
}

export interface FetchedObject {
  /** The bytes as given to `put` (decrypted when the object is encrypted). */
  bytes: Buffer;
  contentType: string;
  /** SHA-256 (hex) of `bytes`. */
  sha256: string;
  encrypted: boolean;
  /** The subject whose key encrypts it. */
  subjectId?: string;
}

export interface GetOptions {
  /** Refuse unless the object is encrypted for exactly this subject (a player's document stays theirs). */
  subjectId?: string;
}

export interface ObjectStore {
  /** Which backend: `fs` or `s3`. */
  readonly kind: string;
  put(bytes: Uint8Array, options: PutOptions): Promise<StoredObject>;
  /** The object, its stored hash verified (and decrypted); 404 DomainError `object-not-found` when absent. */
  get(key: string, options?: GetOptions): Promise<FetchedObject>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** What a backend stores: opaque bytes under their hash. */
export interface BlobMeta {
  contentType: string;
  retainUntil?: Date;
}

export interface ObjectBackend {
  readonly kind: string;
  /** Stores `bytes` under `key` (their SHA-256) unless already there. */
  put(key: string, bytes: Buffer, meta: BlobMeta): Promise<void>;
  /** The stored bytes, or undefined when absent (the caller verifies the hash). */
  get(key: string): Promise<{ bytes: Buffer; contentType: string } | undefined>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}
