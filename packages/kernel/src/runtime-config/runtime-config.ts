/**
 * Runtime configuration (ADR 0013): keys declared in code (schema + default), values versioned in
 * `kernel.runtime_config` (append-only: history with who and why), read through an in-process
 * cache that a NOTIFY at commit invalidates in every process, with a short TTL as the backstop for
 * a missed notification. A change is validated against the key's schema, audited, and refused as a
 * 409 when it was based on a version that is no longer current.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormatsModule from 'ajv-formats';
import type { TSchema } from 'typebox';
import type { AuditLog } from '../audit/types.ts';
import type { Db } from '../db/db.ts';
import { PgError, pgCode } from '../db/db.ts';
import { DomainError, Problems, type FieldError } from '../errors.ts';
import { listen, type Listener } from '../db/listen.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RuntimeConfig, RuntimeConfigEntry, RuntimeConfigHandle, RuntimeConfigVersion, SetRuntimeConfigInput } from './types.ts';

/** NOTIFY channel of runtime-config changes (payload `<module>/<key>`). */
export const RUNTIME_CONFIG_CHANNEL = 'verity_runtime_config';
export const CONFIG_KEY = /^[a-z][a-z0-9.-]{0,62}$/;
export const CONFIG_MODULE = /^[a-z][a-z0-9_]{1,30}$/;
// Old and new value both go into the audit record (16 KiB at most).
const VALUE_MAX_BYTES = 4096;
/** The backstop for a missed notification: how stale a cached value may get at worst. */
export const RUNTIME_CONFIG_TTL_MS = 5_000;
const HISTORY_MAX = 100;

const ajvFormats = ((ajvFormatsModule as unknown as { default?: unknown }).default ?? ajvFormatsModule) as (a: Ajv) => void;

interface Definition {
  module: string;
  key: string;
  schema: TSchema;
  defaultValue: unknown;
  validate: ValidateFunction;
}

interface Cached {
  value: unknown;
  loadedAtMs: number;
}

interface Row {
  version: number;
  value: unknown;
  changed_by: string;
  reason: string;
  changed_at: Date;
  audit_id: string | null;
  [k: string]: unknown;
}

export interface RuntimeConfigStore {
  /** The view a module gets as `ctx.runtimeConfig`. */
  forModule(module: string): RuntimeConfig;
  /** Every declared key (of the modules of this process), by module then key. */
  definitions(): { module: string; key: string }[];
  /** Current value and metadata, read from the database (not the cache). */
  entry(module: string, key: string): Promise<RuntimeConfigEntry>;
  history(module: string, key: string, limit: number): Promise<RuntimeConfigVersion[]>;
  set(input: SetRuntimeConfigInput): Promise<RuntimeConfigEntry>;
  start(): void;
  stop(): Promise<void>;
}

export const configNotFound = (module: string, key: string) =>
  new DomainError('config-key-not-found', 404, 'Unknown configuration key', `No module in this process declares the key ${module}/${key}.`);

const versionConflict = (expected: number, current: number) =>
  new DomainError('config-version-conflict', 409, 'The configuration changed meanwhile', `The change was based on version ${expected}, but version ${current} is current. Read it again and retry.`, {
    currentVersion: current,
  });

function fieldErrors(errors: readonly ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? []).slice(0, 50).map((e) => {
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties' && params.additionalProperty) return { pointer: `/body/value${e.instancePath}/${String(params.additionalProperty)}`, detail: 'is not a known field' };
    if (e.keyword === 'required' && params.missingProperty) return { pointer: `/body/value${e.instancePath}/${String(params.missingProperty)}`, detail: 'is required' };
    return { pointer: `/body/value${e.instancePath}`, detail: e.message ?? 'is invalid' };
  });
}

export function createRuntimeConfigStore(o: { db: Db; log: Logger; audit: AuditLog; ttlMs?: number }): RuntimeConfigStore {
  const { db, log } = o;
  const ttlMs = o.ttlMs ?? RUNTIME_CONFIG_TTL_MS;
  // No coercion and no defaults filled in: a stored value is exactly what was validated.
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false, removeAdditional: false });
  ajvFormats(ajv);
  const defs = new Map<string, Definition>();
  const cache = new Map<string, Cached>();
  // Bumped by every invalidation: a load that began before one does not fill the cache.
  const generation = new Map<string, number>();
  const loading = new Map<string, Promise<unknown>>();
  let listener: Listener | undefined;

  const idOf = (module: string, key: string) => `${module}/${key}`;
  const invalidate = (id: string) => {
    cache.delete(id);
    generation.set(id, (generation.get(id) ?? 0) + 1);
  };
  const invalidateAll = () => {
    for (const id of defs.keys()) invalidate(id);
  };

  function definition(module: string, key: string): Definition {
    const def = defs.get(idOf(module, key));
    if (!def) throw configNotFound(module, key);
    return def;
  }

  async function latest(module: string, key: string, viaPool: boolean): Promise<Row | undefined> {
    const sql = `select version, value, changed_by, reason, changed_at, audit_id from kernel.runtime_config
                  where module = $1 and key = $2 order by version desc limit 1`;
    // Cache fills use the pool directly: never a caller's transaction, whose fate they would share.
    if (viaPool) return (await db.pool.query<Row>(sql, [module, key])).rows[0];
    return db.maybeOne<Row>(sql, [module, key]);
  }

  /** The stored value when it still fits the schema in code, else the default (a deploy narrowed it). */
  function effective(def: Definition, row: Row | undefined): unknown {
    if (!row) return def.defaultValue;
    if (def.validate(row.value)) return row.value;
    log.warn({ module: def.module, key: def.key, version: row.version }, 'stored runtime config value no longer fits its schema; the default applies');
    return def.defaultValue;
  }

  async function load(def: Definition): Promise<unknown> {
    const id = idOf(def.module, def.key);
    const pending = loading.get(id);
    if (pending) return pending;
    const gen = generation.get(id) ?? 0;
    const p = latest(def.module, def.key, true)
      .then((row) => {
        const value = effective(def, row);
        if ((generation.get(id) ?? 0) === gen) cache.set(id, { value, loadedAtMs: performance.now() });
        return value;
      })
      .finally(() => loading.delete(id));
    loading.set(id, p);
    return p;
  }

  async function get(module: string, key: string): Promise<unknown> {
    const def = definition(module, key);
    const hit = cache.get(idOf(module, key));
    if (hit && performance.now() - hit.loadedAtMs < ttlMs) return structuredClone(hit.value);
    return structuredClone(await load(def));
  }

  function define(module: string, key: string, schema: TSchema, defaultValue: unknown): Definition {
    if (!CONFIG_KEY.test(key)) throw new Error(`runtime config key "${key}" must match ${CONFIG_KEY}`);
    const id = idOf(module, key);
    if (defs.has(id)) throw new Error(`runtime config key ${id} is declared twice`);
    const validate = ajv.compile(schema as object);
    if (!validate(defaultValue)) throw new Error(`runtime config ${id}: the default does not fit the schema (${ajv.errorsText(validate.errors)})`);
    const def: Definition = { module, key, schema, defaultValue: structuredClone(defaultValue), validate };
    defs.set(id, def);
    return def;
  }

  function entryOf(def: Definition, row: Row | undefined): RuntimeConfigEntry {
    const description = (def.schema as { description?: unknown }).description;
    return {
      module: def.module, key: def.key, ...(typeof description === 'string' ? { description } : {}), schema: def.schema,
      defaultValue: def.defaultValue, value: effective(def, row), version: row?.version ?? 0,
      ...(row ? { changedBy: row.changed_by, reason: row.reason, changedAt: row.changed_at, ...(row.audit_id ? { auditId: row.audit_id } : {}) } : {}),
    };
  }

  async function set(input: SetRuntimeConfigInput): Promise<RuntimeConfigEntry> {
    const def = definition(input.module, input.key);
    if (!def.validate(input.value)) throw Problems.validation(fieldErrors(def.validate.errors), `The value does not fit the schema of ${input.module}/${input.key}.`);
    if (Buffer.byteLength(JSON.stringify(input.value)) > VALUE_MAX_BYTES) throw Problems.validation([{ pointer: '/body/value', detail: `must be at most ${VALUE_MAX_BYTES} bytes of JSON` }]);
    try {
      return await db.tx(async () => {
        const current = await latest(input.module, input.key, false);
        const currentVersion = current?.version ?? 0;
        if (input.expectedVersion !== currentVersion) throw versionConflict(input.expectedVersion, currentVersion);
        const version = currentVersion + 1;
        const audit = await o.audit.record({
          actor: input.actor, action: 'kernel.runtime-config-changed', subject: `config:${input.module}/${input.key}`, reason: input.reason.slice(0, 500),
          data: { module: input.module, key: input.key, version, previousVersion: currentVersion, value: input.value, previousValue: effective(def, current) },
        });
        const row = await db.one<Row>(
          `insert into kernel.runtime_config (module, key, version, value, changed_by, reason, audit_id) values ($1, $2, $3, $4, $5, $6, $7)
           returning version, value, changed_by, reason, changed_at, audit_id`,
          [input.module, input.key, version, JSON.stringify(input.value), input.actor, input.reason, audit.id],
        );
        // Delivered at commit to every listening process (this one included).
        await db.query('select pg_notify($1, $2)', [RUNTIME_CONFIG_CHANNEL, idOf(input.module, input.key)]);
        return entryOf(def, row);
      });
    } catch (err) {
      // Two changes based on the same version: the primary key lets one through.
      if (pgCode(err) === PgError.uniqueViolation) throw versionConflict(input.expectedVersion, input.expectedVersion + 1);
      throw err;
    } finally {
      invalidate(idOf(input.module, input.key));
    }
  }

  return {
    forModule(module) {
      return {
        define(key, schema, defaultValue) {
          define(module, key, schema, defaultValue);
          return { module, key, get: () => get(module, key) as never } as RuntimeConfigHandle<never>;
        },
        get: (key) => get(module, key) as never,
      };
    },
    definitions: () => [...defs.values()].map((d) => ({ module: d.module, key: d.key })).sort((a, b) => a.module.localeCompare(b.module) || a.key.localeCompare(b.key)),
    async entry(module, key) {
      return entryOf(definition(module, key), await latest(module, key, false));
    },
    async history(module, key, limit) {
      definition(module, key);
      const rows = await db.query<Row>(
        `select version, value, changed_by, reason, changed_at, audit_id from kernel.runtime_config where module = $1 and key = $2 order by version desc limit $3`,
        [module, key, Math.min(Math.max(limit, 1), HISTORY_MAX)],
      );
      return rows.map((r) => ({ version: r.version, value: r.value, changedBy: r.changed_by, reason: r.reason, changedAt: r.changed_at, ...(r.audit_id ? { auditId: r.audit_id } : {}) }));
    },
    set,
    start() {
      const connectionString = db.pool.options.connectionString;
      if (!connectionString) {
        log.warn('runtime config: no connection string for LISTEN; values refresh by TTL only');
        return;
      }
      listener = listen({ connectionString, channel: RUNTIME_CONFIG_CHANNEL, applicationName: 'verity-runtime-config', log, onNotify: (id) => id && invalidate(id), onGap: invalidateAll });
    },
    async stop() {
      await listener?.stop();
    },
  };
}
