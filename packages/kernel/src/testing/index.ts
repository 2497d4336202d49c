/**
 * Test support: a fresh database per test file on the suite's PostgreSQL, the platform started
 * in-process on a free port, an HTTP client, and condition waits with deadlines.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../config.ts';
import { createDb } from '../db/db.ts';
import type { ModuleDefinition } from '../module.ts';
import { startPlatform, type Platform } from '../platform.ts';
import { createLogger } from '../telemetry/logger.ts';

/** A port nothing listens on right now (for sandboxes and child processes in tests). */
export { freePort } from '../db/embedded.ts';

export function suitePgUrl(): string {
  const url = process.env.VERITY_TEST_PG_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('Run tests with `npm test` (it provides PostgreSQL), or set DATABASE_URL.');
  return url;
}

/** Creates an empty database on the suite's server; returns its URL. */
export async function createTestDatabase(prefix = process.env.VERITY_TEST_DB_PREFIX ?? 'verity_t'): Promise<{ url: string; name: string }> {
  const admin = new URL(suitePgUrl());
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const db = createDb({ connectionString: admin.toString(), max: 1 });
  try {
    await db.query(`create database ${name}`);
  } finally {
    await db.close();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

export function testKeyFile(databaseUrl: string): string {
  const dbName = new URL(databaseUrl).pathname.replace(/^\//, '') || 'postgres';
  return path.join(os.tmpdir(), 'verity-test-keys', `${dbName}.key`);
}

export async function testConfig(env: Record<string, string> = {}, overrides: Partial<Config> = {}): Promise<Config> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'verity-test-'));
  const databaseUrl = overrides.databaseUrl ?? (await createTestDatabase()).url;
  return loadConfig(
    {
      VERITY_ENV: 'test',
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      SEED_DEMO: 'false',
      // Fast hashing in tests; the benchmark measures the production parameters.
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      RATE_LIMIT_MAX: '100000',
      ...env,
    },
    // One master key per test database: platforms (and child processes) that share a database share
    // its data keys, while separate test files never share a key with each other or with `./.verity`.
    { dataDir, databaseUrl, ...(env.VERITY_KEY_FILE ? {} : { keyFile: testKeyFile(databaseUrl) }), ...overrides },
  );
}

export interface TestPlatform extends Platform {
  http: TestHttp;
}

export async function startTestPlatform(options: {
  modules: readonly ModuleDefinition<any>[];
  run?: string[];
  env?: Record<string, string>;
  config?: Partial<Config>;
}): Promise<TestPlatform> {
  const config = await testConfig(options.env, options.config);
  const platform = await startPlatform({ config, modules: options.modules, run: options.run, log: createLogger(config.logLevel) });
  return Object.assign(platform, { http: testHttp(platform.url) });
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestHttp {
  request<T = any>(method: string, path: string, options?: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> }): Promise<HttpResult<T>>;
  get<T = any>(path: string, token?: string): Promise<HttpResult<T>>;
  post<T = any>(path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<HttpResult<T>>;
}

export function testHttp(baseUrl: string): TestHttp {
  const request: TestHttp['request'] = async (method, p, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    } else if (body !== undefined) headers['content-type'] ??= 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(baseUrl + p, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as never };
  };
  return {
    request,
    get: (p, token) => request('GET', p, { token }),
    post: (p, body, token, headers) => request('POST', p, { body, token, headers }),
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => Promise<T> | T, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  let last: T | undefined;
  while (performance.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
  throw new Error(`Timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what ?? 'a condition'} (last value: ${String(last)})`);
}
export { fakeOidcIssuer, type FakeOidcIssuer } from './oidc.ts';
