/**
 * What a player or an auditor does with a drawn draw, as test helpers: download the evidence bundle
 * over HTTP and verify it with the standalone verifier (library and CLI), check that any changed byte
 * breaks it, and check one's own entry inclusion proof.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { runVerifyCli, verifyBundleJson, verifyEntryInclusion } from '@verity/evidence';
import type { DrawsPlatform } from './platform.ts';

/** Runs the verifier's command line on bytes (as `verity verify <file>` does on a file). */
export async function cli(argv: string[], files: Record<string, Uint8Array>): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runVerifyCli(argv, {
    readFile: async (name) => files[name] ?? Promise.reject(new Error(`no file ${name}`)),
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
  });
  return { code, out };
}

/** The bundle as downloaded verifies, by the library and the CLI; any changed byte breaks it. */
export async function bundleChecks(dp: DrawsPlatform, competitionId: string): Promise<Uint8Array> {
  const res = await fetch(`${dp.platform.url}/v1/competitions/${competitionId}/draw/evidence`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const digest = createHash('sha256').update(bytes).digest('base64');
  assert.equal(res.headers.get('digest'), `sha-256=${digest}`);
  assert.equal(verifyBundleJson(bytes).ok, true);
  const verified = await cli(['bundle.json'], { 'bundle.json': bytes });
  assert.equal(verified.code, 0, verified.out);
  assert.match(verified.out, /NON-PRODUCTION/);
  const stride = Math.max(1, Math.floor(bytes.length / 400));
  let tried = 0;
  for (let i = 0; i < bytes.length; i += stride) {
    const changed = bytes.slice();
    changed[i] = changed[i]! ^ 0x01;
    assert.equal(verifyBundleJson(changed).ok, false, `byte ${i} (${String.fromCharCode(bytes[i]!)}) changed and the bundle still verifies`);
    tried++;
  }
  assert.ok(tried >= 300);
  const last = bytes.slice();
  last[bytes.length - 2] = last[bytes.length - 2]! ^ 0x01;
  assert.equal((await cli(['b.json'], { 'b.json': last })).code, 1);
  return bytes;
}

/** The ticket's owner gets its inclusion proof, which verifies offline; nobody else gets it. */
export async function entryProofChecks(dp: DrawsPlatform, c: { competitionId: string; entries: { entryId: string; playerId?: string }[] }, buyer: { playerId: string; accessToken: string }): Promise<void> {
  const draw = (await dp.draws.getDraw({ competitionId: c.competitionId }))!;
  const mine = c.entries.find((e) => e.playerId === buyer.playerId)!;
  const res = await dp.platform.http.get(`/v1/draws/${draw.drawId}/entries/${mine.entryId}/proof`, buyer.accessToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const p = res.body;
  assert.equal(p.leaf.entryId, mine.entryId);
  assert.equal(p.root, draw.entriesRoot);
  assert.equal(verifyEntryInclusion({ leaf: p.leaf, index: p.index, count: p.count, proof: p.proof, root: p.root }), true);
  // The holder is the player's: SHA-256("verity/holder/v1" ‖ 0x00 ‖ salt ‖ player id).
  const holder = createHash('sha256').update('verity/holder/v1').update(Buffer.from([0])).update(Buffer.from(p.holderSalt, 'hex')).update(buyer.playerId).digest('hex');
  assert.equal(holder, p.leaf.holder);
  const bundle = new Uint8Array(await (await fetch(`${dp.platform.url}/v1/competitions/${c.competitionId}/draw/evidence`)).arrayBuffer());
  const checked = await cli(['entry', 'proof.json', '--bundle', 'bundle.json'], { 'proof.json': Buffer.from(JSON.stringify(p)), 'bundle.json': bundle });
  assert.equal(checked.code, 0, checked.out);
  const other = c.entries.find((e) => e.playerId !== buyer.playerId && e.playerId)!;
  const refused = await dp.platform.http.get(`/v1/draws/${draw.drawId}/entries/${other.entryId}/proof`, buyer.accessToken);
  assert.equal(refused.status, 404);
  assert.equal(refused.body.code, 'ticket-not-found');
  assert.equal((await dp.platform.http.get(`/v1/draws/${randomUUID()}/entries/${mine.entryId}/proof`, buyer.accessToken)).body.code, 'draw-not-found');
  assert.equal((await dp.platform.http.get(`/v1/draws/${draw.drawId}/entries/${mine.entryId}/proof`)).status, 401);
}
