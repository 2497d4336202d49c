/** Bounded in-memory caches (unwrapped data keys, verified tokens): a limit on everything. */

/** A small LRU with expiry: Map iteration order is insertion order, so re-inserting marks "recent". */
export class LruCache<V> {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #map = new Map<string, { value: V; expiresAtMs: number }>();
  constructor(max: number, ttlMs: number) {
    if (max < 1) throw new Error('LRU size must be at least 1');
    this.#max = max;
    this.#ttlMs = ttlMs;
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    this.#map.delete(key);
    if (hit.expiresAtMs <= Date.now()) return undefined;
    this.#map.set(key, hit);
    return hit.value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expiresAtMs: Date.now() + this.#ttlMs });
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}
