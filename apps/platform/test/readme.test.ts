import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const README = path.join(ROOT, 'README.md');

/** Runs the README check as CI and engineers do; returns its exit code and output. */
async function check(readme = README, ...flags: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/check-readme-config.ts', '--readme', readme, ...flags], { cwd: ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('README', () => {
  it('when the configuration settings change, then the README table must be regenerated to match', async () => {
    const result = await check();
    assert.equal(result.code, 0, result.output);
  });

  it('when a variable is missing from the README table or a default differs, then the check fails and says which', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'verity-readme-'));
    try {
      // Start from a current table, so this test does not depend on the README being regenerated.
      const current = path.join(dir, 'current.md');
      await writeFile(current, await readFile(README, 'utf8'));
      assert.equal((await check(current, '--write')).code, 0);
      assert.equal((await check(current)).code, 0);
      const readme = await readFile(current, 'utf8');
      const dropped = path.join(dir, 'dropped.md');
      await writeFile(dropped, readme.split('\n').filter((line) => !line.startsWith('| `PORT` |')).join('\n'));
      const missing = await check(dropped);
      assert.equal(missing.code, 1);
      assert.match(missing.output, /missing in README: PORT/);

      const changed = path.join(dir, 'changed.md');
      await writeFile(changed, readme.replace('| `LOG_LEVEL` | info |', '| `LOG_LEVEL` | debug |'));
      const differs = await check(changed);
      assert.equal(differs.code, 1);
      assert.match(differs.output, /a default or description differs/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('when a new engineer follows the quick start, then both commands exist as written', async () => {
    const readme = await readFile(README, 'utf8');
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    assert.match(readme, /^npm ci && npm start$/m);
    assert.match(readme, /^npm test$/m);
    assert.equal(pkg.scripts.start, 'node apps/platform/src/cli.ts start');
    assert.equal(pkg.scripts.test, 'node scripts/test.ts');
  });
});
