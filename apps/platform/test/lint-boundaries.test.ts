/**
 * The module boundary rule (ARCHITECTURE §2) is only worth something if it fires. These tests lint
 * code as if it were a file of this repository, with the repository's own ESLint configuration.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CONFIG = path.join(ROOT, 'eslint.config.js');

async function boundaryMessages(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  assert.ok(result, 'the file was linted');
  return result.messages.filter((m) => m.ruleId === 'verity/boundaries' || m.fatal).map((m) => m.message);
}

describe('lint: module boundaries in this repository', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const inModule = path.join(ROOT, 'modules/identity/src/__lint_fixture__.ts');
  const inKernel = path.join(ROOT, 'packages/kernel/src/__lint_fixture__.ts');

  it("when a module reaches into another workspace's files, then lint fails", async () => {
    const messages = await boundaryMessages(eslint, inModule, "import { createDb } from '@verity/kernel/src/db/db.ts';\nexport const x = createDb;\n");
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /reaches into @verity\/kernel/);
  });

  it('when a relative import leaves the module folder, then lint fails', async () => {
    const messages = await boundaryMessages(eslint, inModule, "export { DomainError } from '../../../packages/kernel/src/errors.ts';\n");
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /leaves @verity\/identity/);
  });

  it('when code depends against the direction packages → modules → apps, then lint fails', async () => {
    const fromKernel = await boundaryMessages(eslint, inKernel, "export const load = () => import('@verity/identity');\n");
    assert.match(fromKernel[0] ?? '', /packages\/\* must not depend on modules\/\*/);
    const fromModule = await boundaryMessages(eslint, inModule, "import { allModules } from '@verity/platform';\nexport const x = allModules;\n");
    assert.match(fromModule[0] ?? '', /modules\/\* must not depend on apps\/\*/);
  });

  it('when runtime code imports test support, then lint fails, and tests may', async () => {
    const code = "import { waitFor } from '@verity/kernel/testing';\nexport const w = waitFor;\n";
    assert.match((await boundaryMessages(eslint, inModule, code))[0] ?? '', /test support/);
    assert.deepEqual(await boundaryMessages(eslint, path.join(ROOT, 'modules/identity/test/__lint_fixture__.test.ts'), code), []);
  });

  it('when a module imports the kernel entry and its own files, then lint is quiet', async () => {
    const code = "import { DomainError } from '@verity/kernel';\nimport { identityModule } from './index.ts';\nimport argon2 from '@node-rs/argon2';\nimport path from 'node:path';\nexport const x = [DomainError, identityModule, argon2, path];\n";
    assert.deepEqual(await boundaryMessages(eslint, inModule, code), []);
  });
});

describe('lint: workspace dependency graph', () => {
  let root: string;
  let eslint: ESLint;
  const workspace = async (dir: string, name: string, deps: string[]) => {
    await mkdir(path.join(root, dir, 'src'), { recursive: true });
    const dependencies = Object.fromEntries(deps.map((d) => [d, '*']));
    await writeFile(path.join(root, dir, 'package.json'), JSON.stringify({ name, type: 'module', dependencies }));
  };

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'verity-lint-'));
    await workspace('packages/kernel', '@verity/kernel', []);
    await workspace('modules/tickets', '@verity/tickets', ['@verity/kernel', '@verity/wallet']);
    await workspace('modules/wallet', '@verity/wallet', ['@verity/kernel', '@verity/tickets']);
    await workspace('modules/draws', '@verity/draws', ['@verity/kernel']);
    eslint = new ESLint({ cwd: root, overrideConfigFile: CONFIG });
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('when two modules depend on each other, then lint names the cycle', async () => {
    const messages = await boundaryMessages(eslint, path.join(root, 'modules/tickets/src/index.ts'), "import { wallet } from '@verity/wallet';\nexport const x = wallet;\n");
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /import cycle between workspaces: @verity\/(tickets|wallet) → .* → @verity\/(tickets|wallet)/);
  });

  it('when runtime code imports a workspace it did not declare, then lint fails', async () => {
    const messages = await boundaryMessages(eslint, path.join(root, 'modules/draws/src/index.ts'), "import { tickets } from '@verity/tickets';\nexport const x = tickets;\n");
    assert.match(messages[0] ?? '', /without declaring it in its package.json dependencies/);
  });
});
