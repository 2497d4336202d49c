/**
 * The Redis cache (REDIS_URL): shared by every process, so counters shown by one are adjusted by
 * the sales of all. Every command has a short timeout and no offline queue: when Redis is slow or
 * down, reads miss and writes are dropped (logged at most once a minute) — the database answers.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import { namespaced } from './memory.ts';
import { checkDelta, encodeValue, type Cache, type CacheRuntime } from './types.ts';

const COMMAND_TIMEOUT_MS = 250;
const WARN_INTERVAL_MS = 60_000;
/** INCRBY only when the key exists: a counter must start from the database, never from zero. */
const INCREMENT_IF_PRESENT = `if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) else return false end`;

export function createRedisCache(options: { url: string; log: Logger; keyPrefix?: string }): CacheRuntime {
  const client = new Redis(options.url, {
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    keyPrefix: options.keyPrefix ?? 'verity:',
    // Reconnect forever with a capped backoff: the cache comes back on its own after an outage.
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  let lastWarnMs = 0;
  const failed = (err: unknown, op: string) => {
    const nowMs = Date.now();
    if (nowMs - lastWarnMs < WARN_INTERVAL_MS) return undefined;
    lastWarnMs = nowMs;
    options.log.warn({ err, op }, 'redis cache unavailable; reading from the database instead');
    return undefined;
  };
  client.on('error', (err) => failed(err, 'connection'));

  const root: Cache = {
    async get<T>(key: string) {
      try {
        const text = await client.get(key);
        return text === null ? undefined : (JSON.parse(text) as T);
      } catch (err) {
        return failed(err, 'get');
      }
    },
    async set(key, value, { ttlMs }) {
      const text = encodeValue(key, value, ttlMs);
      try {
        if (text === undefined) await client.del(key);
        else await client.set(key, text, 'PX', ttlMs);
      } catch (err) {
        failed(err, 'set');
      }
    },
    async delete(key) {
      try {
        await client.del(key);
      } catch (err) {
        failed(err, 'delete');
      }
    },
    async incrementIfPresent(key, delta) {
      checkDelta(delta);
      try {
        const next = await client.eval(INCREMENT_IF_PRESENT, 1, key, String(delta));
        return typeof next === 'number' ? next : undefined;
      } catch (err) {
        // A value that is not an integer (ERR value is not an integer) is a miss too.
        return failed(err, 'increment');
      }
    },
    namespace: (prefix) => namespaced(root, prefix),
  };
  return {
    kind: 'redis',
    ...root,
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
