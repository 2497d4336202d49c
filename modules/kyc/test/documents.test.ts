/**
 * Document upload over HTTP: the type from the bytes (magic), size limits, the SHA-256 recorded,
 * encryption at rest (the object file holds no plaintext), lists for the player and reviewers,
 * and a reviewer's audited read.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DOCUMENT_SECRET, EXE, JPEG, newPlayer, PDF, PNG, reviewer, startKycPlatform, uploadDocument, type KycPlatform,
} from './support/kyc.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MAX_BYTES = 4096;

describe('KYC documents', () => {
  let k: KycPlatform;
  before(async () => {
    k = await startKycPlatform({ env: { KYC_DOCUMENT_MAX_BYTES: String(MAX_BYTES), KYC_DOCUMENTS_PER_PLAYER_MAX: '4' } });
  });
  after(() => k?.platform.stop());

  const objectFile = (key: string) => path.join(k.platform.config.dataDir, 'objects', key.slice(0, 2), key.slice(2, 4), key);

  it('when a player uploads a PNG, then it is recorded with its SHA-256 and stored encrypted: the object file holds no plaintext', async () => {
    const player = await newPlayer(k.platform);
    const res = await uploadDocument(k.platform, player.accessToken, 'passport', PNG);
    assert.equal(res.status, 201);
    assert.equal(res.body.type, 'passport');
    assert.equal(res.body.contentType, 'image/png');
    assert.equal(res.body.sizeBytes, PNG.length);
    assert.equal(res.body.sha256, sha256(PNG));
    const row = await k.platform.db.one<{ object_key: string; sha256: string }>('select object_key, sha256 from kyc.documents where id = $1', [res.body.documentId]);
    const stored = await readFile(objectFile(row.object_key));
    assert.equal(sha256(stored), row.object_key, 'the object is addressed by the hash of its ciphertext');
    assert.notEqual(row.object_key, row.sha256);
    assert.equal(stored.includes(Buffer.from(DOCUMENT_SECRET)), false);
    assert.equal(stored.includes(PNG.subarray(0, 8)), false, 'not even the PNG signature');
  });

  it('when a PDF is sent with a misleading content type, then the bytes decide: it is a PDF', async () => {
    const player = await newPlayer(k.platform);
    const res = await uploadDocument(k.platform, player.accessToken, 'proof_of_address', PDF, 'image/png');
    assert.equal(res.status, 201);
    assert.equal(res.body.contentType, 'application/pdf');
    const jpeg = await uploadDocument(k.platform, player.accessToken, 'driving_licence', JPEG);
    assert.equal(jpeg.body.contentType, 'image/jpeg');
  });

  it('when a Windows program renamed .png is uploaded, then it is refused by its magic bytes with a 415 problem', async () => {
    const player = await newPlayer(k.platform);
    const res = await uploadDocument(k.platform, player.accessToken, 'passport', EXE, 'image/png');
    assert.equal(res.status, 415);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.body.code, 'document-type-unsupported');
    assert.match(res.body.detail, /application\/x-msdownload/);
    const text = await uploadDocument(k.platform, player.accessToken, 'passport', Buffer.from('just some text, not an image'));
    assert.equal(text.status, 415);
    assert.equal((await k.platform.db.query('select 1 from kyc.documents where player_id = $1', [player.playerId])).length, 0);
  });

  it('when a document is larger than the limit, then it is a 413 problem naming the limit', async () => {
    const player = await newPlayer(k.platform);
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_BYTES)]);
    const res = await uploadDocument(k.platform, player.accessToken, 'passport', big);
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'payload-too-large');
    assert.match(res.body.detail, new RegExp(`${MAX_BYTES} bytes`));
  });

  it('when the body is empty or the type is not one we ask for, then it is a 400 problem', async () => {
    const player = await newPlayer(k.platform);
    assert.equal((await uploadDocument(k.platform, player.accessToken, 'passport', Buffer.alloc(0))).status, 400);
    const wrongType = await uploadDocument(k.platform, player.accessToken, 'selfie', PNG);
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.code, 'validation-failed');
  });

  it('when a player reaches the document limit, then the next upload is a 409 problem', async () => {
    const player = await newPlayer(k.platform);
    for (let i = 0; i < 4; i++) assert.equal((await uploadDocument(k.platform, player.accessToken, 'proof_of_address', PDF)).status, 201);
    const res = await uploadDocument(k.platform, player.accessToken, 'proof_of_address', PDF);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'kyc-document-limit');
  });

  it('when a player lists documents, then they see their own only, without content', async () => {
    const a = await newPlayer(k.platform);
    const b = await newPlayer(k.platform);
    await uploadDocument(k.platform, a.accessToken, 'passport', PNG);
    await uploadDocument(k.platform, b.accessToken, 'national_id', JPEG);
    const list = await k.platform.http.get('/v1/kyc/documents', a.accessToken);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((d: { type: string }) => d.type), ['passport']);
    const status = await k.platform.http.get('/v1/kyc', a.accessToken);
    assert.equal(status.body.documents.length, 1);
  });

  it('when a reviewer reads a document, then they get the original bytes and the read is audited; a player may not', async () => {
    const player = await newPlayer(k.platform);
    const up = await uploadDocument(k.platform, player.accessToken, 'passport', PDF);
    const op = await reviewer(k.platform);
    const list = await k.platform.http.get(`/v1/kyc/players/${player.playerId}/documents`, op.accessToken);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((d: { documentId: string }) => d.documentId), [up.body.documentId]);

    const res = await fetch(`${k.platform.url}/v1/kyc/documents/${up.body.documentId}/content`, { headers: { authorization: `Bearer ${op.accessToken}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-document-sha256'), sha256(PDF));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), PDF);
    const audit = await k.platform.db.query<{ actor: string; subject: string; data: { documentId: string } }>("select actor, subject, data from kernel.audit_log where action = 'kyc.document-viewed' and subject = $1", [`player:${player.playerId}`]);
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor, `operator:${op.operatorId}`);
    assert.equal(audit[0]!.data.documentId, up.body.documentId);

    const asPlayer = await k.platform.http.get(`/v1/kyc/documents/${up.body.documentId}/content`, player.accessToken);
    assert.equal(asPlayer.status, 403);
    const others = await k.platform.http.get(`/v1/kyc/players/${player.playerId}/documents`, player.accessToken);
    assert.equal(others.status, 403);
  });
});
