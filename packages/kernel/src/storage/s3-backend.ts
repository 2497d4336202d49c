/**
 * The S3 backend (the AWS target). Keys are `<prefix><sha256>`. Every PutObject carries
 * `x-amz-checksum-sha256`, so S3 refuses bytes damaged on the way; GetObject asks for the checksum
 * back (`x-amz-checksum-mode: ENABLED`) and the store re-hashes what arrives anyway. Objects given a
 * retention date are written with Object Lock (the bucket must have it enabled): in COMPLIANCE mode
 * not even the account root can delete them before that date.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobMeta, ObjectBackend } from './types.ts';

export interface S3BackendOptions {
  bucket: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  objectLockMode: 'COMPLIANCE' | 'GOVERNANCE';
  /** Explicit credentials (tests, S3-compatible servers); default: the SDK's provider chain (task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Deadline of one S3 request. */
  requestTimeoutMs?: number;
}

const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const isMissing = (err: unknown) => {
  const name = (err as { name?: string }).name;
  return name === 'NotFound' || name === 'NoSuchKey' || statusOf(err) === 404;
};

export async function createS3Backend(options: S3BackendOptions): Promise<ObjectBackend> {
  // Loaded only when configured: the filesystem default does not pay for the SDK.
  const s3 = await import('@aws-sdk/client-s3');
  const client: S3Client = new s3.S3Client({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 3,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 },
  });
  const keyOf = (key: string) => `${options.prefix ?? ''}${key}`;

  const exists = async (key: string): Promise<boolean> => {
    try {
      await client.send(new s3.HeadObjectCommand({ Bucket: options.bucket, Key: keyOf(key) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  };

  return {
    kind: 's3',
    exists,
    async put(key, bytes, meta: BlobMeta) {
      // Content-addressed: the same key holds the same bytes, so an upload that is already there is skipped.
      if (await exists(key)) return;
      await client.send(
        new s3.PutObjectCommand({
          Bucket: options.bucket,
          Key: keyOf(key),
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: meta.contentType,
          ChecksumSHA256: createHash('sha256').update(bytes).digest('base64'),
          ...(meta.retainUntil ? { ObjectLockMode: options.objectLockMode, ObjectLockRetainUntilDate: meta.retainUntil } : {}),
        }),
      );
    },
    async get(key) {
      try {
        const res = await client.send(new s3.GetObjectCommand({ Bucket: options.bucket, Key: keyOf(key), ChecksumMode: 'ENABLED' }));
        const bytes = Buffer.from(await res.Body!.transformToByteArray());
        return { bytes, contentType: res.ContentType ?? 'application/octet-stream' };
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async close() {
      client.destroy();
    },
  };
}
