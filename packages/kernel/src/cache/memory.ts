/** The in-process cache: an LRU with per-entry expiry, bounded in entries. */
import { checkDelta, encodeValue, type Cache, type CacheRuntime } from './types.ts';

export const MEMORY_CACHE_MAX_ENTRIES = 50_000;
const INTEGER = /^-?[0-9]{1,16}$/;

interface Entry {
  text: string;
  expiresAtMs: number;
}

export function createMemoryCache(options: { maxEntries?: number; now?: () => number } = {}): CacheRuntime {
  const maxEntries = options.maxEntries ?? MEMORY_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  // Map iteration order is insertion order: re-inserting on read marks an entry recent.
  const entries = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const hit = entries.get(key);
    if (!hit) return undefined;
    entries.delete(key);
    if (hit.expiresAtMs <= now()) return undefined;
    entries.set(key, hit);
    return hit;
  };

  const store = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const root: Cache = {
    async get<T>(key: string) {
      const hit = live(key);
      return hit ? (JSON.parse(hit.text) as T) : undefined;
    },
    async set(key, value, { ttlMs }) {
      const text = encodeValue(key, value, ttlMs);
      if (text === undefined) entries.delete(key);
      else store(key, { text, expiresAtMs: now() + ttlMs });
    },
    async delete(key) {
      entries.delete(key);
    },
    async incrementIfPresent(key, delta) {
      checkDelta(delta);
      const hit = live(key);
      if (!hit || !INTEGER.test(hit.text)) return undefined;
      const next = Number(hit.text) + delta;
      hit.text = String(next);
      return next;
    },
    namespace: (prefix) => namespaced(root, prefix),
  };
  return { kind: 'memory', ...root, namespace: (prefix) => namespaced(root, prefix), close: async () => entries.clear() };
}

/** Prefixes every key; nested namespaces join with `:`. */
export function namespaced(inner: Cache, prefix: string): Cache {
  if (!/^[a-z0-9_.-]{1,64}$/i.test(prefix)) throw new Error('cache namespace must be 1..64 of [A-Za-z0-9_.-]');
  const k = (key: string) => `${prefix}:${key}`;
  const self: Cache = {
    get: (key) => inner.get(k(key)),
    set: (key, value, options) => inner.set(k(key), value, options),
    delete: (key) => inner.delete(k(key)),
    incrementIfPresent: (key, delta) => inner.incrementIfPresent(k(key), delta),
    namespace: (sub) => namespaced(self, sub),
  };
  return self;
}
