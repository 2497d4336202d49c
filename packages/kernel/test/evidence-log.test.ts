/**
 * The evidence log through the kernel API and HTTP, on real PostgreSQL: sequencing under concurrent
 * transactions, proofs from the database checked with @verity/evidence's verifiers against signed
 * checkpoints, witness cosignatures, anchors, audit records, and problem+json on bad input.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cosign, formatCheckpoint, fromBase64, fromHex, leafHash, openNote, parseCheckpoint, signNote, ed25519Signer, verifierFromVkey, verifyConsistency,
  verifyCosignature, verifyInclusion, Witness, WitnessRefusal,
} from '@verity/evidence';
import { createDb, createLogger, type Db, type EvidenceLog } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createFieldCrypto } from '../src/crypto/field-crypto.ts';
import { createAppender } from '../src/evidence-log/append.ts';
import { LOG_KEY_SUBJECT } from '../src/evidence-log/signing-key.ts';

/** An OIDC issuer (JWKS server + RS256 tokens) standing in for Cognito, for operator tokens. */
async function localIssuer() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    operatorToken(roles: string[]) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ token_use: 'access', auth_time: now, amr: ['pwd', 'otp'], 'cognito:groups': roles })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(url).setSubject(`op-${roles.join('-')}`).setIssuedAt(now).setExpirationTime(now + 300)
        .sign(privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** An HTTP anchor endpoint that fails its first `failures` deliveries. */
async function anchorServer(failures: number) {
  const received: { body: { origin: string; size: number; rootHash: string; note: string }; key: string | undefined }[] = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (++calls <= failures) return res.writeHead(503).end('down');
      received.push({ body: JSON.parse(raw), key: req.headers['idempotency-key'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`receipt-${received.length}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/anchor`, received, calls: () => calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A witness's Ed25519 seed. */
const witnessSeed = () => new Uint8Array(randomBytes(32));

describe('evidence log', () => {
  let p: TestPlatform;
  let issuer: Awaited<ReturnType<typeof localIssuer>>;
  let anchor: Awaited<ReturnType<typeof anchorServer>>;
  let anchorDir: string;
  let clients: Db;
  let draws: EvidenceLog;
  let adminToken: string;
  let auditorToken: string;

  before(async () => {
    issuer = await localIssuer();
    anchor = await anchorServer(1);
    anchorDir = await mkdtemp(path.join(os.tmpdir(), 'verity-anchors-'));
    p = await startTestPlatform({
      modules: [],
      config: {
        oidcIssuers: [{ issuer: issuer.url, jwksUri: `${issuer.url}/.well-known/jwks.json`, rolesClaim: 'cognito:groups' }],
        logOrigin: 'test.verity.local/log',
        logAnchorDir: anchorDir,
        logAnchorUrls: [anchor.url],
        logAnchorIntervalMs: 0,
      },
    });
    // Many real connections, as many callers' transactions would hold.
    clients = createDb({ connectionString: p.config.databaseUrl!, max: 32 });
    draws = p.evidenceLog.forModule('draws');
    adminToken = await issuer.operatorToken(['admin']);
    auditorToken = await issuer.operatorToken(['compliance-manager']);
  });
  after(async () => {
    await clients?.close();
    await p?.stop();
    await issuer?.close();
    await anchor?.close();
  });

  const vkey = () => p.evidenceLog.publicKey();

  it('when 32 clients append from their own transactions at once, then the committed records get contiguous indexes and the rolled-back ones never appear', async () => {
    const append = createAppender(clients, 'draws', () => {});
    const committed: string[] = [];
    const rolledBack: string[] = [];
    await Promise.all(Array.from({ length: 32 }, async (_, lane) => {
      for (let i = 0; i < 8; i++) {
        const record = { type: 'draws.test-record.v1', data: { lane, i, nonce: randomBytes(8).toString('hex') } };
        if (i % 4 === 3) {
          await clients.tx(async () => {
            rolledBack.push((await append(record)).leafHash);
            throw new Error('the draw step failed');
          }).catch(() => {});
        } else {
          await clients.tx(async () => {
            await clients.query('select pg_sleep(0.001)');
            committed.push((await append(record)).leafHash);
          });
        }
      }
    }));
    const cp = await draws.checkpoint({ atLeast: committed.length });
    const leaves = await p.db.query<{ idx: bigint; leaf_hash: Buffer }>('select idx, leaf_hash from kernel.log_leaves order by idx');
    assert.deepEqual(leaves.map((l) => Number(l.idx)), leaves.map((_, i) => i), 'indexes 0..n-1 without a gap');
    const logged = new Set(leaves.map((l) => l.leaf_hash.toString('hex')));
    for (const h of committed) assert.ok(logged.has(h), `committed ${h} is in the log`);
    for (const h of rolledBack) assert.ok(!logged.has(h), `rolled-back ${h} is not`);
    assert.ok(cp.size >= committed.length);
    assert.equal((await p.db.query('select 1 from kernel.log_pending')).length, 0);
  });

  it('when a module appends and waits, then it learns its index and the entry is the bytes it logged', async () => {
    const receipt = await draws.append({ type: 'draws.manifest.v1', data: { drawId: 'd-1', rules: 'one winner', amountMinor: 250n } });
    const { index } = await draws.integrated(receipt.pendingId, { timeoutMs: 5_000 });
    assert.deepEqual(await draws.integrated(receipt.leafHash), { index });
    const e = await draws.entry(index);
    assert.equal(Buffer.from(e.data).toString(), '{"amountMinor":"250","drawId":"d-1","rules":"one winner"}');
    assert.equal(e.leafHash, receipt.leafHash);
    assert.deepEqual({ kind: e.kind, module: e.module, type: e.type, visibility: e.visibility }, { kind: 'record', module: 'draws', type: 'draws.manifest.v1', visibility: 'public' });
    await assert.rejects(draws.append({ type: 'Bad Type', data: {} }), /record type/);
    await assert.rejects(draws.append({ type: 'draws.big.v1', data: new Uint8Array(70_000) }), /at most 65536 bytes/);
    await assert.rejects(p.db.tx(() => draws.integrated(receipt.pendingId)), /after the transaction/);
  });

  it('when proofs are taken from the database, then they verify with the evidence verifiers against the signed checkpoint', async () => {
    const cp = await draws.checkpoint();
    const opened = openNote(cp.note, [verifierFromVkey(await vkey())]);
    const checkpoint = parseCheckpoint(opened.text);
    assert.equal(checkpoint.origin, 'test.verity.local/log');
    assert.equal(checkpoint.size, cp.size);
    assert.equal(Buffer.from(checkpoint.rootHash).toString('hex'), cp.rootHash);
    for (const index of [0, 1, Math.floor(cp.size / 2), cp.size - 1]) {
      const proof = await draws.inclusionProof(index, cp.size);
      const entry = await draws.entry(index);
      assert.ok(verifyInclusion(leafHash(entry.data), index, cp.size, proof.proof.map((h) => fromHex(h)), checkpoint.rootHash), `leaf ${index}`);
      assert.equal(proof.checkpoint, cp.note);
    }
    // Over HTTP, by leaf hash, against the latest checkpoint; the note as text/plain.
    const last = await draws.entry(cp.size - 1);
    const res = await p.http.get(`/v1/log/proofs/inclusion?leafHash=${last.leafHash}`);
    assert.equal(res.status, 200);
    const note = await p.http.request('GET', '/v1/log/checkpoint', { headers: { accept: 'text/plain' } });
    assert.equal(note.status, 200);
    assert.match(note.headers.get('content-type') ?? '', /^text\/plain/);
    const latest = parseCheckpoint(openNote(note.body, [verifierFromVkey((await p.http.get('/v1/log/key')).body.vkey)]).text);
    assert.equal(res.body.size, latest.size);
    assert.ok(verifyInclusion(fromHex(last.leafHash), res.body.index, latest.size, res.body.proof.map((h: string) => fromHex(h)), latest.rootHash));
  });

  it('when the log grows between two checkpoints, then the consistency proof between them verifies and a forged root does not', async () => {
    const first = await draws.checkpoint();
    for (let i = 0; i < 5; i++) await draws.append({ type: 'draws.test-record.v1', data: { after: i } });
    const second = await draws.checkpoint({ atLeast: first.size + 5 });
    const res = await p.http.get(`/v1/log/proofs/consistency?from=${first.size}&to=${second.size}`);
    assert.equal(res.status, 200);
    const verifier = verifierFromVkey(await vkey());
    const root1 = parseCheckpoint(openNote(res.body.fromCheckpoint, [verifier]).text).rootHash;
    const root2 = parseCheckpoint(openNote(res.body.toCheckpoint, [verifier]).text).rootHash;
    const proof = res.body.proof.map((h: string) => fromHex(h));
    assert.ok(verifyConsistency(first.size, second.size, root1, root2, proof));
    assert.ok(!verifyConsistency(first.size, second.size, root1, leafHash(Buffer.from('forged')), proof));
    const api = await draws.consistencyProof(first.size, second.size);
    assert.deepEqual(api.proof, res.body.proof);
  });

  it('when a witness follows the log, then its cosignatures are verified, stored and served, and it refuses a fork', async () => {
    const seed = witnessSeed();
    const clock = { t: Math.floor(Date.now() / 1000) };
    const witness = new Witness({ name: 'witness.example', privateKey: seed, logs: [{ origin: 'test.verity.local/log', vkeys: [await vkey()] }], clock: () => clock.t });
    const registered = await p.http.post('/v1/log/witnesses', { vkey: witness.vkey }, adminToken);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal((await p.http.post('/v1/log/witnesses', { vkey: witness.vkey }, adminToken)).body.code, 'log-witness-exists');

    const cp1 = await draws.checkpoint();
    const line1 = witness.cosign(cp1.note, []);
    const stored = await p.http.post('/v1/log/cosignatures', { size: cp1.size, cosignature: line1 });
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.equal((await p.http.post('/v1/log/cosignatures', { size: cp1.size, cosignature: line1 })).status, 200, 'the same line again changes nothing');
    const served = await p.http.get(`/v1/log/checkpoint?size=${cp1.size}`);
    assert.deepEqual(served.body.cosignatures.map((c: { witness: string }) => c.witness), ['witness.example']);
    assert.ok(verifyCosignature(served.body.note, witness.vkey).ok);
    assert.deepEqual(openNote(served.body.note, [verifierFromVkey(await vkey())]).verifiedBy, ['test.verity.local/log']);

    // The log grows; the witness checks consistency from what it cosigned before.
    await draws.append({ type: 'draws.test-record.v1', data: { witnessed: true } });
    const cp2 = await draws.checkpoint({ atLeast: cp1.size + 1 });
    const proof = (await draws.consistencyProof(cp1.size, cp2.size)).proof.map((h) => fromHex(h));
    clock.t += 10;
    const line2 = witness.cosign(cp2.note, proof);
    assert.equal((await p.http.post('/v1/log/cosignatures', { size: cp2.size, cosignature: line2 })).status, 201);

    // The log's key holder shows a different tree of the same size: the witness refuses to cosign it…
    const crypto = await createFieldCrypto({ db: p.db, config: p.config, log: createLogger('silent') });
    const enc = (await p.db.one<{ private_key_enc: string }>('select private_key_enc from kernel.log_keys')).private_key_enc;
    const logSigner = ed25519Signer('test.verity.local/log', Buffer.from(await crypto.decrypt(LOG_KEY_SUBJECT, enc), 'base64'));
    await crypto.close();
    const forkText = formatCheckpoint({ origin: 'test.verity.local/log', size: cp2.size, rootHash: leafHash(Buffer.from('another history')) });
    const forkNote = signNote(forkText, [logSigner]);
    assert.throws(() => witness.cosign(forkNote, proof), (err: unknown) => err instanceof WitnessRefusal && err.code === 'fork');
    // …and a cosignature over the fork (from a witness that did sign it) is refused by the log.
    const rogue = cosign(forkText, { name: 'witness.example', privateKey: seed }, clock.t);
    const refused = await p.http.post('/v1/log/cosignatures', { size: cp2.size, cosignature: rogue });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'log-cosignature-invalid');
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
  });

  it('when a witness is registered, then an audit record of it lands in the log as a restricted leaf only auditors can read', async () => {
    const other = new Witness({ name: 'witness2.example', privateKey: witnessSeed(), logs: [], clock: () => 0 });
    assert.equal((await p.http.post('/v1/log/witnesses', { vkey: other.vkey }, adminToken)).status, 201);
    const record = await p.db.one<{ leaf_hash: string; actor: string }>("select leaf_hash, actor from kernel.audit_log where action = 'kernel.log-witness-registered' and subject = 'log-witness:witness2.example'");
    assert.equal(record.actor, 'operator:op-admin');
    const { index } = await draws.integrated(record.leaf_hash, { timeoutMs: 5_000 });
    const entry = await draws.entry(index);
    assert.deepEqual({ kind: entry.kind, module: entry.module, visibility: entry.visibility }, { kind: 'audit', module: 'kernel', visibility: 'restricted' });
    assert.equal(JSON.parse(Buffer.from(entry.data).toString()).action, 'kernel.log-witness-registered');

    assert.equal((await p.http.get(`/v1/log/entries/${index}`)).status, 401);
    const drawManager = await issuer.operatorToken(['draw-manager']);
    assert.equal((await p.http.get(`/v1/log/entries/${index}`, drawManager)).status, 403);
    const read = await p.http.get(`/v1/log/entries/${index}`, auditorToken);
    assert.equal(read.status, 200);
    assert.equal(Buffer.from(leafHash(Buffer.from(read.body.data, 'base64'))).toString('hex'), read.body.leafHash);
    // A public record needs no token.
    assert.equal((await p.http.get('/v1/log/entries/0')).status, 200);
  });

  it('when checkpoints are signed, then the file anchor and the HTTP anchor (after its failure is retried) hold them, while the log carries on', async () => {
    await draws.append({ type: 'draws.test-record.v1', data: { anchored: true } });
    const cp = await draws.checkpoint({ atLeast: 1 });
    // The endpoint answered 503 to its first delivery; the queue retries with backoff.
    const delivered = await waitFor(() => anchor.received.find((r) => r.body.size >= cp.size), { timeoutMs: 20_000, what: 'the HTTP anchor delivery' });
    assert.equal(delivered.key, `test.verity.local/log/${delivered.body.size}`);
    assert.ok(anchor.calls() > anchor.received.length, 'a failed delivery came first');
    const row = await p.db.one<{ status: string; receipt: string; attempts: number }>('select status, receipt, attempts from kernel.log_anchors where checkpoint_size = $1 and anchor = $2', [delivered.body.size, `http:${anchor.url}`]);
    assert.equal(row.status, 'anchored');
    // The delivery that failed was retried by the queue until the endpoint took it.
    const retried = await waitFor(async () => (await p.db.query<{ attempts: number }>(
      "select attempts from kernel.log_anchors where anchor = $1 and status = 'anchored' and attempts > 1", [`http:${anchor.url}`],
    )).length, { timeoutMs: 20_000, what: 'the retried anchor delivery' });
    assert.equal(retried, 1);
    assert.equal((await p.db.query("select 1 from kernel.log_anchors where status <> 'anchored'")).length, 0);
    const files = await waitFor(async () => (await readdir(anchorDir)).filter((f) => f.endsWith('.checkpoint')), { what: 'anchored files' });
    const onDisk = await readFile(path.join(anchorDir, files.sort().at(-1)!), 'utf8');
    assert.ok(openNote(onDisk, [verifierFromVkey(await vkey())]));
  });

  it('when requests are malformed or ask for trees that do not exist, then the answers are problem+json with stable types', async () => {
    const size = (await draws.checkpoint()).size;
    const cases: [string, number, string][] = [
      [`/v1/log/proofs/inclusion?index=0&size=${size + 1000}`, 400, 'log-size-beyond-tree'],
      [`/v1/log/proofs/inclusion?index=${size}&size=${size}`, 400, 'log-index-beyond-size'],
      ['/v1/log/proofs/inclusion?index=-1', 400, 'validation-failed'],
      [`/v1/log/proofs/inclusion?index=0&leafHash=${'a'.repeat(64)}`, 400, 'validation-failed'],
      ['/v1/log/proofs/inclusion', 400, 'validation-failed'],
      [`/v1/log/proofs/inclusion?leafHash=${'a'.repeat(64)}`, 404, 'log-entry-not-found'],
      ['/v1/log/proofs/inclusion?leafHash=XYZ', 400, 'validation-failed'],
      [`/v1/log/proofs/consistency?from=${size}&to=1`, 400, 'log-range-invalid'],
      [`/v1/log/proofs/consistency?from=0&to=${size + 5}`, 400, 'log-size-beyond-tree'],
      ['/v1/log/proofs/consistency', 400, 'validation-failed'],
      [`/v1/log/entries/${size + 1000}`, 404, 'log-entry-not-found'],
      ['/v1/log/entries/abc', 400, 'validation-failed'],
      [`/v1/log/checkpoint?size=${size + 1000}`, 404, 'log-checkpoint-not-found'],
    ];
    for (const [url, status, code] of cases) {
      const res = await p.http.get(url);
      assert.equal(res.status, status, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, code, url);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, url);
    }
    const posts: [string, unknown, string | undefined, number, string][] = [
      ['/v1/log/cosignatures', { size, cosignature: 'not a signature line' }, undefined, 422, 'log-cosignature-invalid'],
      ['/v1/log/cosignatures', { size: size + 1000, cosignature: '— witness.example AAAA' }, undefined, 404, 'log-checkpoint-not-found'],
      ['/v1/log/cosignatures', { size, cosignature: '— nobody.example AAAAAAAA' }, undefined, 422, 'log-witness-unknown'],
      ['/v1/log/cosignatures', { size, cosignature: '— witness.example AAAAAAAA', extra: 1 }, undefined, 400, 'validation-failed'],
      ['/v1/log/witnesses', { vkey: 'x+00000000+AA==' }, undefined, 401, 'unauthenticated'],
      ['/v1/log/witnesses', { vkey: 'x+00000000+AA==' }, 'admin', 400, 'log-witness-key-invalid'],
      ['/v1/log/witnesses', { vkey: await vkey() }, 'admin', 400, 'log-witness-key-invalid'],
      ['/v1/log/witnesses', { vkey: 'x+00000000+AA==' }, 'auditor', 403, 'forbidden'],
    ];
    for (const [url, body, who, status, code] of posts) {
      const res = await p.http.post(url, body, who === 'admin' ? adminToken : who === 'auditor' ? auditorToken : undefined);
      assert.equal(res.status, status, `${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, code);
    }
  });

  it('when the key and the witness list are asked for, then they are public and the vkey verifies the checkpoints', async () => {
    const key = await p.http.get('/v1/log/key');
    assert.deepEqual({ origin: key.body.origin, algorithm: key.body.algorithm }, { origin: 'test.verity.local/log', algorithm: 'Ed25519' });
    const cp = await p.http.get('/v1/log/checkpoint');
    assert.ok(openNote(cp.body.note, [verifierFromVkey(key.body.vkey)]));
    assert.equal(Buffer.from(fromBase64(cp.body.note.split('\n')[2])).toString('hex'), cp.body.rootHash);
    const page = await p.http.get('/v1/log/witnesses?limit=1');
    assert.equal(page.body.items.length, 1);
    const rest = await p.http.get(`/v1/log/witnesses?after=${page.body.nextCursor}`);
    assert.equal(rest.status, 200);
    assert.ok(rest.body.items.length >= 1 && rest.body.items.every((w: { name: string }) => w.name > page.body.items[0].name));
    const openapi = (await p.http.get('/openapi.json')).body;
    const ids = Object.values(openapi.paths).flatMap((ops: any) => Object.values(ops).map((o: any) => o.operationId));
    for (const id of ['getLogCheckpoint', 'getLogInclusionProof', 'getLogConsistencyProof', 'getLogEntry', 'getLogKey', 'registerLogWitness', 'listLogWitnesses', 'submitLogCosignature']) {
      assert.ok(ids.includes(id), id);
    }
  });

  it('when the whole log is verified, then leaves, nodes and every checkpoint agree', async () => {
    const result = await p.evidenceLog.verify();
    assert.equal(result.ok, true, JSON.stringify(result.failure));
    const size = (await p.db.one<{ n: bigint }>('select count(*) as n from kernel.log_leaves')).n;
    assert.equal(result.size, Number(size));
    assert.ok(result.size > 200 && result.checkpoints >= 5, JSON.stringify(result));
    // n leaves have n − popcount(n) complete subtrees above level 0.
    assert.equal(result.nodes, result.size - [...result.size.toString(2)].filter((b) => b === '1').length);
  });
});
