/**
 * `npm test`: the whole suite on a real PostgreSQL. With DATABASE_URL set, on that server; else on a
 * throwaway embedded PostgreSQL. Each test file creates its own database (kernel/testing).
 * Extra arguments are passed to `node --test` (e.g. a file to run alone).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb } from '../packages/kernel/src/db/db.ts';
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

// Every database this run creates is named with this prefix, so the run can drop them afterwards.
const dbPrefix = `verity_t_${Date.now().toString(36)}`;
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...flags, ...patterns],
  { stdio: 'inherit', env: { ...process.env, VERITY_TEST_PG_URL: adminUrl, VERITY_TEST_DB_PREFIX: dbPrefix, VERITY_ENV: 'test' } },
);
const code: number = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await dropTestDatabases(adminUrl, dbPrefix).catch((err) => console.error(`# could not drop test databases: ${(err as Error).message}`));
await stopEmbedded();
process.exit(code);

async function dropTestDatabases(url: string, prefix: string): Promise<void> {
  const db = createDb({ connectionString: url, max: 1 });
  try {
    const rows = await db.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${prefix}%`]);
    for (const { datname } of rows) await db.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await db.close();
  }
}
