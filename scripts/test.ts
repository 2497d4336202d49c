/**
 * `npm test`: the whole suite on a real PostgreSQL. With DATABASE_URL set, on that server; else on a
 * throwaway embedded PostgreSQL. Each test file creates its own database (kernel/testing).
 * Extra arguments are passed to `node --test` (e.g. a file to run alone).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../packages/kernel/src/db/embedded.ts';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const patterns = files.length ? files : ['packages/*/test/**/*.test.ts', 'modules/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'];

let adminUrl = process.env.DATABASE_URL;
let stopEmbedded = async () => {};
if (!adminUrl) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'verity-test-pg-'));
  const server = await startEmbeddedPostgres({ dataDir: dir, settings: { max_connections: '500' } });
  adminUrl = server.adminUrl;
  stopEmbedded = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  console.log(`# embedded PostgreSQL for tests in ${dir}`);
} else {
  console.log(`# tests on DATABASE_URL (${new URL(adminUrl).host})`);
}

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...flags, ...patterns],
  { stdio: 'inherit', env: { ...process.env, VERITY_TEST_PG_URL: adminUrl, VERITY_ENV: 'test' } },
);
const code: number = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await stopEmbedded();
process.exit(code);
