/**
 * The cache port (ARCHITECTURE §3): hot counters, short-lived read models. In-process by default,
 * Redis when REDIS_URL is set. Nothing correct depends on it: a miss, an outage or a stale value
 * only costs a database read, so adapters turn their failures into misses instead of errors.
 * Values are JSON (no bigint, no Date: store their strings).
 */
export interface CacheSetOptions {
  /** How long the value lives (1 ms to 24 h). */
  ttlMs: number;
}

export interface Cache {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, options: CacheSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Adds `delta` to the integer stored under `key` and returns the new value, keeping its expiry;
   * undefined (and nothing stored) when the key is absent or not an integer. A counter therefore
   * only ever starts from a value read from the database, never from zero.
   */
  incrementIfPresent(key: string, delta: number): Promise<number | undefined>;
  /** The same cache with every key under `prefix:` (each module gets its own). */
  namespace(prefix: string): Cache;
}

export interface CacheRuntime extends Cache {
  /** `memory` or `redis`. */
  readonly kind: string;
  close(): Promise<void>;
}

/** Limits every adapter holds to (TigerStyle: a limit on everything). */
export const CACHE_KEY_MAX_CHARS = 512;
export const CACHE_VALUE_MAX_BYTES = 64 * 1024;
export const CACHE_TTL_MAX_MS = 24 * 3_600_000;

/** The value as stored (JSON text), or undefined when it breaks a limit (never cached, never thrown). */
export function encodeValue(key: string, value: unknown, ttlMs: number): string | undefined {
  if (key.length === 0 || key.length > CACHE_KEY_MAX_CHARS) throw new Error(`cache key must be 1..${CACHE_KEY_MAX_CHARS} characters`);
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > CACHE_TTL_MAX_MS) throw new Error(`cache ttlMs must be an integer in 1..${CACHE_TTL_MAX_MS}`);
  const text = JSON.stringify(value);
  if (text === undefined || Buffer.byteLength(text) > CACHE_VALUE_MAX_BYTES) return undefined;
  return text;
}

export function checkDelta(delta: number): void {
  if (!Number.isSafeInteger(delta)) throw new Error('cache increment must be a safe integer');
}
