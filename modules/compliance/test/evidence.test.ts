/**
 * Evidence packages: exported for a case and for a player, stored, downloaded, and verified here the
 * way a regulator would — every file against the manifest's SHA-256, the manifest against its
 * Ed25519 signature and the published public key, the audit copies against the platform's log.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import type { TestOperator } from '@verity/identity/testing';
import { expectProblem, operator, startCorePlatform, verifiedPlayer, type CorePlatform } from './support/core.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(bytes);
  await done;
  return files;
}

/** What an independent verifier does with the archive and the published key; returns the manifest. */
function verifyPackage(files: Map<string, Buffer>, publicKeyPem: string): any {
  const manifestBytes = files.get('manifest.json')!;
  const signature = Buffer.from(files.get('manifest.sig')!.toString('utf8').trim(), 'base64');
  assert.equal(verify(null, manifestBytes, createPublicKey(publicKeyPem), signature), true, 'manifest signature verifies');
  const manifest = JSON.parse(manifestBytes.toString('utf8'));
  for (const f of manifest.files) {
    const bytes = files.get(f.path);
    assert.ok(bytes, `${f.path} is in the archive`);
    assert.equal(sha256(bytes), f.sha256, `${f.path} matches its hash`);
    assert.equal(bytes.length, f.size);
  }
  const listed = new Set(manifest.files.map((f: any) => f.path));
  for (const name of files.keys()) assert.ok(listed.has(name) || ['manifest.json', 'manifest.sig', 'public-key.pem'].includes(name), `${name} is listed`);
  return manifest;
}

describe('evidence packages', () => {
  let cp: CorePlatform;
  let manager: TestOperator;
  let publicKeyPem: string;
  before(async () => {
    cp = await startCorePlatform();
    manager = await operator(cp.platform);
    const key = await cp.platform.http.get('/v1/evidence-packages/public-key');
    assert.equal(key.status, 200);
    assert.equal(key.body.algorithm, 'Ed25519');
    publicKeyPem = key.body.publicKeyPem;
  });
  after(() => cp?.platform.stop());

  const http = () => cp.platform.http;
  async function exportAndDownload(subject: string): Promise<{ meta: any; files: Map<string, Buffer> }> {
    const res = await http().post('/v1/evidence-packages', { subject }, manager.accessToken);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const download = await fetch(`${cp.platform.url}${res.body.downloadUrl}`, { headers: { authorization: `Bearer ${manager.accessToken}` } });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/x-tar');
    const bytes = Buffer.from(await download.arrayBuffer());
    assert.equal(sha256(bytes), res.body.sha256);
    return { meta: res.body, files: await untar(bytes) };
  }

  it('when a case package is exported, then every file verifies against the signed manifest, with the history, audit records and evidence', async () => {
    const player = await verifiedPlayer(cp);
    const opened = await http().post('/v1/cases', { type: 'complaint', subject: `player:${player.playerId}`, summary: 'Disputed entry' }, manager.accessToken);
    const caseId = opened.body.case.caseId;
    await http().post(`/v1/cases/${caseId}/notes`, { text: 'Player says the skill answer was marked wrong.' }, manager.accessToken);
    const screenshot = Buffer.from('PNG-ish bytes of the answer screen');
    await http().post(`/v1/cases/${caseId}/evidence`, { filename: 'answer screen.png', contentType: 'image/png', contentBase64: screenshot.toString('base64') }, manager.accessToken);
    await http().post(`/v1/cases/${caseId}/decisions`, { outcome: 'upheld', reason: 'Answer key had a typo' }, manager.accessToken);

    const { meta, files } = await exportAndDownload(`case:${caseId}`);
    const manifest = verifyPackage(files, publicKeyPem);
    assert.equal(manifest.format, 'verity-evidence-package/1');
    assert.equal(manifest.subject, `case:${caseId}`);
    assert.equal(manifest.signature.keyId, meta.keyId);
    assert.equal(sha256(files.get('manifest.json')!), meta.manifestSha256);
    const history = JSON.parse(files.get(`case/${caseId}/history.json`)!.toString());
    assert.deepEqual(history.map((h: any) => h.action), ['opened', 'note-added', 'evidence-added', 'decided']);
    assert.equal(history[1].text, 'Player says the skill answer was marked wrong.');
    const evidenceFile = [...files.keys()].find((k) => k.startsWith(`case/${caseId}/evidence/`))!;
    assert.match(evidenceFile, /answer_screen\.png$/);
    assert.deepEqual(files.get(evidenceFile), screenshot);
    const audit = JSON.parse(files.get(`case/${caseId}/audit.json`)!.toString());
    const logged = await cp.platform.db.query<{ leaf_hash: string }>('select leaf_hash from kernel.audit_log where id = any($1::uuid[]) order by sequence', [audit.map((a: any) => a.id)]);
    assert.deepEqual(logged.map((l) => l.leaf_hash), audit.map((a: any) => a.leafHash), 'the audit copies are the records in the platform log');

    // Change one byte and the verifier notices.
    const tampered = new Map(files);
    tampered.set(evidenceFile, Buffer.concat([screenshot, Buffer.from('!')]));
    assert.throws(() => verifyPackage(tampered, publicKeyPem), /matches its hash/);
  });

  it('when a player package is exported, then it holds their safer-gambling records, holds, audit records and every case', async () => {
    const player = await verifiedPlayer(cp);
    await http().post('/v1/safer-gambling/time-out', { hours: 48 }, player.accessToken);
    await http().request('PUT', '/v1/safer-gambling/spend-limits', { body: { weekly: '2500' }, token: player.accessToken });
    const { caseId } = await cp.compliance.openCase({ type: 'aml-alert', subject: `player:${player.playerId}`, summary: 'Linked deposits ≥ EUR 2,000', data: { rule: 'cdd-threshold' } });
    await http().post(`/v1/cases/${caseId}/decisions`, { outcome: 'investigation-opened', reason: 'CDD required' }, manager.accessToken);

    const { files } = await exportAndDownload(`player:${player.playerId}`);
    const manifest = verifyPackage(files, publicKeyPem);
    const paths = manifest.files.map((f: any) => f.path);
    for (const p of ['player/player.json', 'player/time-outs.json', 'player/spend-limit-changes.json', 'player/holds.json', 'player/audit.json', `cases/${caseId}/case.json`, `cases/${caseId}/history.json`]) {
      assert.ok(paths.includes(p), `${p} in the package`);
    }
    assert.equal(JSON.parse(files.get('player/player.json')!.toString()).verificationStatus, 'approved');
    assert.equal(JSON.parse(files.get('player/holds.json')!.toString())[0].kind, 'investigation');
    const actions = JSON.parse(files.get('player/audit.json')!.toString()).map((a: any) => a.action);
    assert.deepEqual(actions, ['compliance.register-status-changed', 'compliance.time-out-started', 'compliance.spend-limits-changed', 'compliance.hold-placed']);
  });

  it('when the caller lacks evidence:export, or the subject is malformed or unknown, then the export is refused', async () => {
    const analyst = await operator(cp.platform, ['compliance-analyst']);
    expectProblem(await http().post('/v1/evidence-packages', { subject: 'player:abc' }, analyst.accessToken), 403, 'forbidden');
    expectProblem(await http().post('/v1/evidence-packages', { subject: 'wallet:abc' }, manager.accessToken), 400, 'validation-failed');
    expectProblem(await http().post('/v1/evidence-packages', { subject: 'case:01900000-0000-7000-8000-000000000000' }, manager.accessToken), 404, 'not-found');
    expectProblem(await http().get('/v1/evidence-packages/01900000-0000-7000-8000-000000000000', manager.accessToken), 404, 'not-found');
  });
});
