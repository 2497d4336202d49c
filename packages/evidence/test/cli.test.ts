/**
 * verity-verify through runVerifyCli with in-memory files (what `verity verify` calls), and once as a
 * real process on a bundle written to disk: reports, --json, pinned keys, a player's entry proof,
 * and the exit codes 0 / 1 / 2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ed25519Signer, entryInclusionProof, runVerifyCli, type VerifyCliIo } from '../src/index.ts';
import { buildDrawFixture, detBytes } from './support/draw-fixture.ts';

function memoryIo(files: Record<string, string>): VerifyCliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    readFile: async (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: no such file, open '${p}'`);
      return new TextEncoder().encode(files[p]);
    },
    stdout: (t: string) => (io.out += t),
    stderr: (t: string) => (io.err += t),
  };
  return io;
}

const f = buildDrawFixture({ seed: 'cli', witnesses: ['witness.example/w1'] });
const bundleJson = JSON.stringify(f.bundle);

describe('verity-verify', () => {
  test('when the bundle verifies, then it prints a readable report and exits 0', async () => {
    const io = memoryIo({ 'b.json': bundleJson });
    assert.equal(await runVerifyCli(['b.json'], io), 0);
    assert.match(io.out, /VERIFIED: all 23 checks passed/);
    assert.match(io.out, /Winners:\n {2}tier 1: ticket #\d+/);
    assert.equal(io.err, '');
  });

  test('when --json is given, then the report is JSON', async () => {
    const io = memoryIo({ 'b.json': bundleJson });
    assert.equal(await runVerifyCli(['--json', 'b.json'], io), 0);
    const report = JSON.parse(io.out);
    assert.equal(report.ok, true);
    assert.equal(report.checks.length, 23);
  });

  test('when a byte of the bundle is changed or the log key pinned is another, then it exits 1 and names the failure', async () => {
    const at = bundleJson.indexOf('"operatorSecret":"') + 20;
    const tampered = `${bundleJson.slice(0, at)}${bundleJson[at] === '0' ? '1' : '0'}${bundleJson.slice(at + 1)}`;
    const io = memoryIo({ 'b.json': tampered });
    assert.equal(await runVerifyCli(['b.json'], io), 1);
    assert.match(io.out, /\[FAIL\] result in log/);
    assert.match(io.out, /FAILED: \d+ of 23 checks failed/);
    const other = ed25519Signer('log.verity.test/evidence', detBytes('someone else')).vkey;
    const pinned = memoryIo({ 'b.json': bundleJson });
    assert.equal(await runVerifyCli(['b.json', '--trusted-log-key', other], pinned), 1);
    assert.equal(await runVerifyCli(['b.json', '--trusted-log-key', f.logVkey], memoryIo({ 'b.json': bundleJson })), 0);
  });

  test('when a player checks their entry proof against the bundle, then it exits 0; against another draw, 1', async () => {
    const entry = f.bundle.close.entries[4]!;
    const proof = JSON.stringify(entryInclusionProof(f.bundle.close.entries, entry.entryId));
    const io = memoryIo({ 'p.json': proof, 'b.json': bundleJson, 'other.json': JSON.stringify(buildDrawFixture({ seed: 'other' }).bundle) });
    assert.equal(await runVerifyCli(['entry', 'p.json'], io), 0);
    assert.match(io.out, new RegExp(`ticket #${entry.number}`));
    assert.equal(await runVerifyCli(['entry', 'p.json', '--bundle', 'b.json'], io), 0);
    assert.equal(await runVerifyCli(['entry', 'p.json', '--bundle', 'other.json'], io), 1);
    assert.equal(await runVerifyCli(['entry', 'b.json'], io), 1);
  });

  test('when the arguments are wrong or the file is missing, then it prints the usage and exits 2', async () => {
    for (const argv of [[], ['--bogus', 'b.json'], ['a.json', 'b.json'], ['missing.json'], ['--trusted-log-key'], ['--help']]) {
      const io = memoryIo({ 'a.json': '{}', 'b.json': bundleJson });
      assert.equal(await runVerifyCli(argv, io), 2, JSON.stringify(argv));
      assert.match(io.err, /usage: verity-verify/);
      assert.equal(io.out, '');
    }
  });

  test('when run as a program on a bundle file, then the process exit code is the verdict', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'verity-verify-'));
    try {
      const file = path.join(dir, 'bundle.json');
      await writeFile(file, bundleJson);
      const cli = new URL('../src/cli.ts', import.meta.url).pathname;
      const run = promisify(execFile);
      const ok = await run(process.execPath, [cli, file]);
      assert.match(ok.stdout, /VERIFIED/);
      await writeFile(file, bundleJson.replace('"count":20', '"count":21'));
      await assert.rejects(run(process.execPath, [cli, file]), (e: any) => e.code === 1 && /FAILED/.test(e.stdout));
      await assert.rejects(run(process.execPath, [cli]), (e: any) => e.code === 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
