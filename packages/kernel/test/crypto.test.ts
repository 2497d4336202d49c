import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KMSClient } from '@aws-sdk/client-kms';
import { createDb, createLogger, migrate, loadMigrations, type Config, type Db } from '@verity/kernel';
import { testConfig } from '@verity/kernel/testing';
import { createFieldCrypto, type FieldCryptoRuntime } from '../src/crypto/field-crypto.ts';
import { LruCache } from '../src/crypto/lru.ts';

const log = createLogger('silent');

async function freshDatabase(overrides: Partial<Config> = {}): Promise<{ config: Config; db: Db }> {
  const base = await testConfig();
  const config = { ...base, keyFile: path.join(base.dataDir, 'keys', 'master.key'), ...overrides };
  const db = createDb({ connectionString: config.databaseUrl!, max: 4 });
  await migrate(db, await loadMigrations([]));
  return { config, db };
}

/**
 * A stand-in for AWS KMS speaking its JSON 1.1 protocol (GenerateDataKey, Decrypt), holding its key
 * in memory and binding each wrap to its encryption context, as KMS does.
 */
async function fakeKms(): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const key = randomBytes(32);
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
      const body = JSON.parse(raw || '{}');
      calls.push(op);
      const aad = Buffer.from(JSON.stringify(body.EncryptionContext ?? {}));
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (op === 'GenerateDataKey') {
        const plaintext = randomBytes(32);
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
        const blob = Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]);
        return reply(200, { KeyId: body.KeyId, Plaintext: plaintext.toString('base64'), CiphertextBlob: blob.toString('base64') });
      }
      if (op === 'Decrypt') {
        try {
          const blob = Buffer.from(body.CiphertextBlob, 'base64');
          const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12)).setAAD(aad);
          d.setAuthTag(blob.subarray(blob.length - 16));
          const plaintext = Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
          return reply(200, { KeyId: body.KeyId, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
        } catch {
          return reply(400, { __type: 'InvalidCiphertextException', message: 'context mismatch' });
        }
      }
      return reply(400, { __type: 'UnsupportedOperationException', message: op });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise((r) => server.close(() => r())) };
}

describe('field crypto (envelope encryption)', () => {
  let config: Config;
  let db: Db;
  let crypto: FieldCryptoRuntime;
  const opened: FieldCryptoRuntime[] = [];
  const open = async (o: Partial<Parameters<typeof createFieldCrypto>[0]> = {}) => {
    const c = await createFieldCrypto({ db, config, log, ...o });
    opened.push(c);
    return c;
  };

  before(async () => {
    ({ config, db } = await freshDatabase());
    crypto = await open();
  });
  after(async () => {
    for (const c of opened) await c.close();
    await db?.close();
  });

  it('when the platform starts for the first time, then a 0600 master key file is created and reused afterwards', async () => {
    assert.equal((await stat(config.keyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(config.keyFile))).mode & 0o777, 0o700);
    const sealed = await crypto.encrypt('player-1', 'Ada Lovelace');
    const again = await open();
    assert.equal(again.masterKeyId, crypto.masterKeyId);
    assert.equal(await again.decrypt('player-1', sealed), 'Ada Lovelace');
  });

  it('when a field is encrypted, then it round-trips, is never the same twice, and the database holds only a wrapped key', async () => {
    const a = await crypto.encrypt('player-2', '1990-04-12');
    const b = await crypto.encrypt('player-2', '1990-04-12');
    assert.notEqual(a, b, 'a fresh IV every time');
    assert.match(a, /^v1\.[A-Za-z0-9_-]+$/);
    assert.equal(await crypto.decrypt('player-2', a), '1990-04-12');
    const row = await db.one<{ wrapped_key: Buffer; master_key_id: string }>("select wrapped_key, master_key_id from kernel.data_keys where subject_id = 'player-2'");
    assert.equal(row.wrapped_key.length, 12 + 16 + 32, 'iv + tag + 256-bit key, sealed');
    assert.equal(row.master_key_id, crypto.masterKeyId);
  });

  it('when a ciphertext is altered or copied onto another subject, then it does not decrypt', async () => {
    const sealed = await crypto.encrypt('player-3', 'secret');
    await crypto.encrypt('player-4', 'other');
    await assert.rejects(crypto.decrypt('player-4', sealed), 'bound to its subject');
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    await assert.rejects(crypto.decrypt('player-3', `v1.${bytes.toString('base64url')}`), 'tampering is detected');
    await assert.rejects(crypto.decrypt('player-3', 'plain text'), /v1\./);
  });

  it("when a subject's key is destroyed, then its data can be neither read nor written, here or in another process", async () => {
    const other = await open();
    const sealed = await crypto.encrypt('player-5', 'Ada');
    assert.equal(await other.decrypt('player-5', sealed), 'Ada');
    await crypto.destroySubjectKey('player-5');
    await assert.rejects(crypto.decrypt('player-5', sealed), { code: 'personal-data-erased', status: 410 });
    await assert.rejects(crypto.encrypt('player-5', 'again'), { code: 'personal-data-erased' }, 'no fresh key for an erased subject');
    const third = await open();
    await assert.rejects(third.decrypt('player-5', sealed), { code: 'personal-data-erased' });
    const row = await db.one<{ wrapped_key: Buffer | null; destroyed_at: Date | null }>("select wrapped_key, destroyed_at from kernel.data_keys where subject_id = 'player-5'");
    assert.equal(row.wrapped_key, null);
    assert.ok(row.destroyed_at);
    await assert.rejects(crypto.destroySubjectKey('kernel:keyed-hash-root'), /reserved/);
  });

  it('when many first writes for one subject race, then they all use one data key', async () => {
    const sealed = await Promise.all(Array.from({ length: 8 }, (_, i) => crypto.encrypt('player-6', `v${i}`)));
    const fresh = await open();
    assert.deepEqual(await Promise.all(sealed.map((s) => fresh.decrypt('player-6', s))), sealed.map((_, i) => `v${i}`));
    assert.equal((await db.one<{ n: bigint }>("select count(*) as n from kernel.data_keys where subject_id = 'player-6'")).n, 1n);
  });

  it('when keyed hashes are computed, then they are stable across processes, separate by purpose, and reveal nothing plain', async () => {
    const other = await open();
    const h = crypto.keyedHash('identity.email', 'ada@example.test');
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(other.keyedHash('identity.email', 'ada@example.test'), h);
    assert.notEqual(crypto.keyedHash('kyc.document-number', 'ada@example.test'), h);
    assert.notEqual(crypto.keyedHash('identity.email', 'ada@example.tesu'), h);
    assert.throws(() => crypto.keyedHash('Bad Purpose!', 'x'));
  });

  it('when another master key file is used with the same database, then the start fails clearly instead of losing data', async () => {
    const wrongKey = path.join(config.dataDir, 'other', 'master.key');
    await assert.rejects(createFieldCrypto({ db, config: { ...config, keyFile: wrongKey }, log }), /master key "local:[0-9a-f]+", which this process does not have/);
  });

  it('when many subjects are used, then the in-memory key cache stays within its bound and evicts the least recent', () => {
    const lru = new LruCache<number>(2, 60_000);
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.get('a'), 1, 'a is now the most recent');
    lru.set('c', 3);
    assert.equal(lru.size, 2);
    assert.equal(lru.get('b'), undefined, 'b was the least recent');
    assert.equal(lru.get('a'), 1);
    const expired = new LruCache<number>(2, -1);
    expired.set('x', 1);
    assert.equal(expired.get('x'), undefined, 'entries expire');
  });
});

describe('field crypto with AWS KMS', () => {
  it('when KMS_KEY_ID is set, then data keys come from KMS, are bound to their subject, and no key file is needed', async () => {
    const kms = await fakeKms();
    const { config, db } = await freshDatabase({ kmsKeyId: 'alias/verity-test' });
    const client = new KMSClient({ region: 'eu-west-2', endpoint: kms.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const crypto = await createFieldCrypto({ db, config, log, kms: client });
    try {
      assert.equal(crypto.masterKeyId, 'kms:alias/verity-test');
      const sealed = await crypto.encrypt('player-k', 'Grace Hopper');
      const other = await createFieldCrypto({ db, config, log, kms: client });
      assert.equal(await other.decrypt('player-k', sealed), 'Grace Hopper');
      await other.close();
      assert.ok(kms.calls.includes('GenerateDataKey') && kms.calls.includes('Decrypt'));
      await assert.rejects(stat(config.keyFile), { code: 'ENOENT' });
      // A wrapped key copied onto another subject is refused by KMS (encryption context).
      await db.query("insert into kernel.data_keys (subject_id, master_key_id, wrapped_key) select 'player-stolen', master_key_id, wrapped_key from kernel.data_keys where subject_id = 'player-k'");
      const third = await createFieldCrypto({ db, config, log, kms: client });
      await assert.rejects(third.decrypt('player-stolen', sealed));
      await third.close();
    } finally {
      await crypto.close();
      await db.close();
      await kms.close();
    }
  });
});
