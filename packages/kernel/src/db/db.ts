/**
 * The database handle every module uses. Repositories call `query`; a use case that must be atomic
 * wraps its story in `db.tx(...)`, and every query inside it (in any module of this process) joins
 * that transaction through AsyncLocalStorage, so a state change and its outbox event commit together.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import pg from 'pg';

const { Pool, types } = pg;

/** int8 → bigint (money is bigint minor units), numeric → string (never a float). */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === types.builtins.INT8) return (v: string) => BigInt(v);
    if (oid === 1016 /* int8[] */) {
      const parseArr = types.getTypeParser(1016 as never, 'text') as (v: string) => unknown[];
      return (v: string) => parseArr(v).map((x) => (x === null ? null : BigInt(x as string)));
    }
    return types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export type Row = Record<string, unknown>;

export interface Queryable {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface TxOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
}

export interface Db extends Queryable {
  /** First row or undefined. */
  maybeOne<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Exactly one row, else throws. */
  one<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T>;
  /** Runs `fn` in a transaction; nested calls join the outer one. */
  tx<T>(fn: () => Promise<T>, options?: TxOptions): Promise<T>;
  /** True inside `tx`. */
  inTransaction(): boolean;
  /**
   * Runs `fn` once the current transaction has committed (dropped if it rolls back); outside a
   * transaction, at once. For wake-ups that must not see uncommitted rows; never for correctness.
   */
  afterCommit(fn: () => void): void;
  /** The client of the current transaction, for libraries that need one (the queue engine). */
  currentClient(): pg.PoolClient | undefined;
  /** The database's clock: the single source of "now" for domain decisions. */
  now(): Promise<Date>;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

export interface DbOptions {
  connectionString: string;
  max?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
  /**
   * Parameterised statements are prepared by name on each connection (parsed and planned once per
   * connection instead of once per call; ADR 0018). Off for poolers that cannot keep them (PgBouncer
   * in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
}

/** Distinct statement texts one process prepares by name; any beyond run unnamed (server memory is bounded). */
const PREPARED_TEXTS_MAX = 2_000;
/** PostgreSQL's answer when a prepared `select *` meets a table whose columns changed (a migration). */
const CACHED_PLAN_RESULT_CHANGED = 'cached plan must not change result type';

export function createDb(options: DbOptions): Db {
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    types: typeParsers,
    application_name: options.applicationName ?? 'verity',
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const als = new AsyncLocalStorage<pg.PoolClient>();
  const committed = new WeakMap<pg.PoolClient, (() => void)[]>();

  const prepared = options.preparedStatements ?? true;
  const names = new Map<string, string>();
  let generation = 0;
  /** The statement's name: a digest of its text (so every process and connection agrees), or none. */
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < PREPARED_TEXTS_MAX) {
      name = `v${generation}_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };

  const run = async <T extends Row>(text: string, params?: readonly unknown[]): Promise<T[]> => {
    const client = als.getStore();
    // Statements without parameters (BEGIN, COMMIT, migrations' scripts) keep the simple protocol.
    const name = prepared && params !== undefined && params.length > 0 ? nameOf(text) : undefined;
    const query = name ? { name, text, values: params as unknown[] } : { text, values: params as unknown[] };
    try {
      const result = client ? await client.query<T>(query) : await pool.query<T>(query);
      return result.rows;
    } catch (err) {
      // A migration changed a table under a prepared `select *`: prepare it afresh under a new name
      // from now on (this call fails; its caller's retry, or the next request, succeeds).
      if (name && err instanceof Error && err.message.includes(CACHED_PLAN_RESULT_CHANGED)) {
        generation++;
        names.delete(text);
      }
      throw err;
    }
  };

  return {
    pool,
    query: run,
    async maybeOne(text, params) {
      return (await run(text, params))[0] as never;
    },
    async one(text, params) {
      const rows = await run(text, params);
      if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
      return rows[0] as never;
    },
    inTransaction: () => als.getStore() !== undefined,
    afterCommit(fn) {
      const client = als.getStore();
      if (!client) return fn();
      const list = committed.get(client);
      if (list) list.push(fn);
      else committed.set(client, [fn]);
    },
    currentClient: () => als.getStore(),
    async now() {
      const row = (await run<{ now: Date }>('select clock_timestamp() as now'))[0]!;
      return row.now;
    },
    async tx(fn, opts = {}) {
      if (als.getStore()) return fn();
      const client = await pool.connect();
      let broken = false;
      try {
        const mode = [opts.isolation ? `isolation level ${opts.isolation}` : '', opts.readOnly ? 'read only' : ''].filter(Boolean).join(' ');
        await client.query(`begin ${mode}`);
        const result = await als.run(client, fn);
        await client.query('commit');
        const after = committed.get(client);
        committed.delete(client);
        for (const f of after ?? []) {
          try {
            f();
          } catch {
            // A wake-up failing must not turn a committed transaction into an error.
          }
        }
        return result;
      } catch (err) {
        committed.delete(client);
        try {
          await client.query('rollback');
        } catch {
          broken = true;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** PostgreSQL SQLSTATEs the services turn into domain outcomes. */
export const PgError = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  raiseException: 'P0001',
} as const;

export function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
