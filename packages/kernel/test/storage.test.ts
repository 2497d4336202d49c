/**
 * The object store port: the content-addressed filesystem store and the S3 adapter (against a local
 * server speaking the S3 REST shapes the SDK sends, path-style), hashing, integrity on read,
 * encryption at rest under the subject's data key, and erasure by destroying that key.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDb, createLogger, loadMigrations, migrate, type Config, type Db } from '@verity/kernel';
import { testConfig } from '@verity/kernel/testing';
import { createFieldCrypto, type FieldCryptoRuntime } from '../src/crypto/field-crypto.ts';
import { objectStoreFromConfig, ObjectIntegrityError } from '../src/storage/object-store.ts';
import type { ObjectStore } from '../src/storage/types.ts';

const log = createLogger('silent');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PASSPORT_TEXT = 'P<GBRLOVELACE<<ADA<<<<<<<<<<<<<<<<<<<<<<<<<<<';

interface StoredS3Object {
  body: Buffer;
  contentType: string;
  checksum?: string;
  lockMode?: string;
  retainUntil?: string;
}

/**
 * A stand-in for S3 answering PutObject, GetObject and HeadObject, path-style (`/<bucket>/<key>`),
 * the way the SDK calls them: SigV4-signed, `x-amz-content-sha256` of the payload, and the
 * `x-amz-checksum-sha256` we send, which it verifies as S3 does (400 BadDigest on a mismatch).
 */
async function fakeS3(bucket: string) {
  const objects = new Map<string, StoredS3Object>();
  const requests: { method: string; path: string; headers: http.IncomingHttpHeaders }[] = [];
  const xmlError = (res: http.ServerResponse, status: number, code: string, head = false) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(head ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://s3.local');
    requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers });
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential=test-key/')) return xmlError(res, 403, 'AccessDenied');
    const [, b, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (b !== bucket || !key) return xmlError(res, 404, 'NoSuchBucket');
    if (req.method === 'PUT') {
      const checksum = req.headers['x-amz-checksum-sha256'] as string | undefined;
      if (req.headers['x-amz-content-sha256'] !== sha256(body)) return xmlError(res, 400, 'XAmzContentSHA256Mismatch');
      if (checksum && checksum !== createHash('sha256').update(body).digest('base64')) return xmlError(res, 400, 'BadDigest');
      const lockMode = req.headers['x-amz-object-lock-mode'] as string | undefined;
      const retainUntil = req.headers['x-amz-object-lock-retain-until-date'] as string | undefined;
      objects.set(key, { body, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'), ...(checksum ? { checksum } : {}), ...(lockMode ? { lockMode } : {}), ...(retainUntil ? { retainUntil } : {}) });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, ...(checksum ? { 'x-amz-checksum-sha256': checksum } : {}) });
      return res.end();
    }
    const object = objects.get(key);
    if (req.method === 'HEAD') {
      if (!object) return xmlError(res, 404, 'NotFound', true);
      res.writeHead(200, { 'content-length': object.body.length, 'content-type': object.contentType });
      return res.end();
    }
    if (req.method === 'GET') {
      if (!object) return xmlError(res, 404, 'NoSuchKey');
      const withChecksum = req.headers['x-amz-checksum-mode'] === 'ENABLED' && object.checksum;
      res.writeHead(200, { 'content-length': object.body.length, 'content-type': object.contentType, ...(withChecksum ? { 'x-amz-checksum-sha256': object.checksum } : {}) });
      return res.end(object.body);
    }
    xmlError(res, 405, 'MethodNotAllowed');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('object store', () => {
  let config: Config;
  let db: Db;
  let crypto: FieldCryptoRuntime;
  before(async () => {
    const base = await testConfig();
    config = { ...base, keyFile: path.join(base.dataDir, 'keys', 'master.key') };
    db = createDb({ connectionString: config.databaseUrl!, max: 4 });
    await migrate(db, await loadMigrations([]));
    crypto = await createFieldCrypto({ db, config, log });
  });
  after(async () => {
    await crypto?.close();
    await db?.close();
  });

  describe('filesystem', () => {
    let store: ObjectStore;
    let root: string;
    before(async () => {
      store = await objectStoreFromConfig({ config, crypto, log });
      root = path.join(config.dataDir, 'objects');
    });
    const fileOf = (key: string) => path.join(root, key.slice(0, 2), key.slice(2, 4), key);

    it('when plain bytes are put, then the key is their SHA-256, the file holds them and get returns them', async () => {
      const bytes = Buffer.from(`evidence ${randomBytes(8).toString('hex')}`);
      const stored = await store.put(bytes, { contentType: 'text/plain' });
      assert.equal(stored.key, sha256(bytes));
      assert.equal(stored.sha256, stored.key);
      assert.equal(stored.encrypted, false);
      assert.deepEqual(await readFile(fileOf(stored.key)), bytes);
      assert.equal(await store.exists(stored.key), true);
      const got = await store.get(stored.key);
      assert.deepEqual(got.bytes, bytes);
      assert.equal(got.contentType, 'text/plain');
      // The same bytes again: the same object, nothing rewritten.
      assert.equal((await store.put(bytes, { contentType: 'text/plain' })).key, stored.key);
    });

    it('when an object is written, then no temporary file is left and the object file is read-only', async () => {
      const stored = await store.put(randomBytes(2048), { contentType: 'application/octet-stream', retainUntil: new Date('2031-01-01T00:00:00Z') });
      assert.deepEqual(await readdir(path.join(root, '.tmp')), []);
      assert.equal((await stat(fileOf(stored.key))).mode & 0o777, 0o400);
      const sidecar = JSON.parse(await readFile(`${fileOf(stored.key)}.json`, 'utf8'));
      assert.equal(sidecar.retainUntil, '2031-01-01T00:00:00.000Z');
    });

    it('when the same bytes are put five times at once, then one object results and every put succeeds', async () => {
      const bytes = randomBytes(64 * 1024);
      const keys = await Promise.all(Array.from({ length: 5 }, () => store.put(bytes, { contentType: 'application/octet-stream' }).then((s) => s.key)));
      assert.deepEqual(new Set(keys), new Set([sha256(bytes)]));
      assert.deepEqual(await readdir(path.join(root, '.tmp')), []);
      assert.deepEqual((await store.get(keys[0]!)).bytes, bytes);
    });

    it('when a stored file was altered, then get refuses it', async () => {
      const stored = await store.put(Buffer.from(`ledger export ${randomBytes(4).toString('hex')}`), { contentType: 'text/csv' });
      await chmod(fileOf(stored.key), 0o600);
      await writeFile(fileOf(stored.key), 'ledger export (edited)');
      await assert.rejects(store.get(stored.key), ObjectIntegrityError);
    });

    it('when a key is unknown or malformed, then get is a 404 or 400 problem and exists is false', async () => {
      const unknown = sha256(randomBytes(16));
      assert.equal(await store.exists(unknown), false);
      await assert.rejects(store.get(unknown), { code: 'object-not-found', status: 404 });
      await assert.rejects(store.get('../../etc/passwd'), { code: 'object-key-invalid', status: 400 });
    });

    it('when a personal document is put for a subject, then the file holds no plaintext and two hashes are recorded', async () => {
      const subject = `player-${randomBytes(4).toString('hex')}`;
      const document = Buffer.from(`%PDF-1.7\n${PASSPORT_TEXT}\n%%EOF`);
      const stored = await store.put(document, { contentType: 'application/pdf', encryptFor: subject });
      assert.equal(stored.encrypted, true);
      assert.equal(stored.sha256, sha256(document), 'the plaintext hash');
      const file = await readFile(fileOf(stored.key));
      assert.equal(stored.key, sha256(file), 'the key is the hash of the ciphertext object');
      assert.notEqual(stored.key, stored.sha256);
      assert.equal(file.includes(Buffer.from('LOVELACE')), false);
      assert.equal(file.includes(Buffer.from('%PDF')), false);
      assert.equal(file.includes(Buffer.from('application/pdf')), false, 'even the content type is encrypted');
      const got = await store.get(stored.key, { subjectId: subject });
      assert.deepEqual(got.bytes, document);
      assert.equal(got.contentType, 'application/pdf');
      assert.equal(got.sha256, stored.sha256);
      // Random content keys: the same document stored again is another object (no equality leaks).
      assert.notEqual((await store.put(document, { contentType: 'application/pdf', encryptFor: subject })).key, stored.key);
    });

    it('when an encrypted object is asked for under another subject, then it is not found', async () => {
      const stored = await store.put(Buffer.from('bank statement'), { contentType: 'text/plain', encryptFor: 'player-owner' });
      await assert.rejects(store.get(stored.key, { subjectId: 'player-other' }), { code: 'object-not-found' });
    });

    it('when the subject\'s data key is destroyed, then their documents can no longer be read', async () => {
      const subject = `player-${randomBytes(4).toString('hex')}`;
      const stored = await store.put(Buffer.from('driving licence scan'), { contentType: 'image/png', encryptFor: subject });
      await crypto.destroySubjectKey(subject);
      await assert.rejects(store.get(stored.key), { code: 'personal-data-erased', status: 410 });
    });

    it('when plain bytes begin with the encrypted-object marker, then put refuses them', async () => {
      await assert.rejects(store.put(Buffer.from('VRTYENC1 forged'), { contentType: 'text/plain' }), /marker/);
    });
  });

  describe('S3', () => {
    const bucket = 'verity-evidence';
    let s3: Awaited<ReturnType<typeof fakeS3>>;
    let store: ObjectStore;
    before(async () => {
      s3 = await fakeS3(bucket);
      const s3Config: Config = {
        ...config,
        objectStore: 's3',
        objectStoreS3Bucket: bucket,
        objectStoreS3Prefix: 'objects/',
        objectStoreS3Endpoint: s3.url,
        objectStoreS3Region: 'eu-west-2',
        objectStoreS3ForcePathStyle: true,
        objectStoreS3ObjectLockMode: 'COMPLIANCE',
      };
      store = await objectStoreFromConfig({ config: s3Config, crypto, log, s3: { credentials: { accessKeyId: 'test-key', secretAccessKey: 'test-secret' } } });
    });
    after(async () => {
      await store?.close();
      await s3?.close();
    });

    it('when an object is put, then it goes path-style under the prefix with its SHA-256 checksum and reads back verified', async () => {
      const bytes = Buffer.from(`manifest ${randomBytes(8).toString('hex')}`);
      const stored = await store.put(bytes, { contentType: 'application/json' });
      assert.equal(stored.key, sha256(bytes));
      const put = s3.requests.find((r) => r.method === 'PUT')!;
      assert.equal(put.path, `/${bucket}/objects/${stored.key}`);
      assert.equal(put.headers['x-amz-checksum-sha256'], createHash('sha256').update(bytes).digest('base64'));
      assert.equal(put.headers['x-amz-object-lock-mode'], undefined, 'no retention asked, none set');
      assert.equal(s3.objects.get(`objects/${stored.key}`)!.contentType, 'application/json');
      assert.equal(await store.exists(stored.key), true);
      const got = await store.get(stored.key);
      assert.deepEqual(got.bytes, bytes);
      assert.equal(got.contentType, 'application/json');
    });

    it('when the same bytes are put again, then HeadObject finds them and nothing is uploaded twice', async () => {
      const bytes = Buffer.from(`settlement ${randomBytes(8).toString('hex')}`);
      await store.put(bytes, { contentType: 'text/csv' });
      const puts = () => s3.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(sha256(bytes))).length;
      assert.equal(puts(), 1);
      await store.put(bytes, { contentType: 'text/csv' });
      assert.equal(puts(), 1);
    });

    it('when evidence is put with a retention date, then Object Lock COMPLIANCE retention is requested', async () => {
      const until = new Date('2031-06-30T00:00:00Z');
      const stored = await store.put(Buffer.from(`evidence package ${randomBytes(4).toString('hex')}`), { contentType: 'application/x-tar', retainUntil: until });
      const object = s3.objects.get(`objects/${stored.key}`)!;
      assert.equal(object.lockMode, 'COMPLIANCE');
      assert.equal(new Date(object.retainUntil!).toISOString(), until.toISOString());
    });

    it('when a personal document is put encrypted, then the bucket holds no plaintext and it decrypts for its subject', async () => {
      const subject = `player-${randomBytes(4).toString('hex')}`;
      const document = Buffer.from(`\x89PNG\r\n${PASSPORT_TEXT}`);
      const stored = await store.put(document, { contentType: 'image/png', encryptFor: subject });
      const object = s3.objects.get(`objects/${stored.key}`)!;
      assert.equal(object.body.includes(Buffer.from('LOVELACE')), false);
      assert.equal(object.contentType, 'application/vnd.verity.encrypted-object');
      assert.equal(sha256(object.body), stored.key);
      assert.deepEqual((await store.get(stored.key, { subjectId: subject })).bytes, document);
    });

    it('when the bucket returns other bytes than were stored, then get refuses them', async () => {
      const stored = await store.put(Buffer.from(`report ${randomBytes(4).toString('hex')}`), { contentType: 'text/plain' });
      const object = s3.objects.get(`objects/${stored.key}`)!;
      s3.objects.set(`objects/${stored.key}`, { body: Buffer.from('tampered'), contentType: object.contentType });
      await assert.rejects(store.get(stored.key), ObjectIntegrityError);
    });

    it('when an object is missing, then exists is false and get is a 404 problem', async () => {
      const unknown = sha256(randomBytes(8));
      assert.equal(await store.exists(unknown), false);
      await assert.rejects(store.get(unknown), { code: 'object-not-found', status: 404 });
    });
  });
});
