/**
 * Two reads the purchase path and the public lists make thousands of times a second, kept off the
 * database: the competition's terms (an in-process copy for a short TTL; the issuing transaction
 * re-checks state and closing time on the rows it locks) and the tickets-sold counter (the kernel
 * cache: refreshed from the database on its TTL, adjusted by each sale in between, never used to
 * decide capacity).
 */
import type { Cache } from '@verity/kernel';
import type { Competition } from '../contract.ts';
import type { CompetitionsRepository } from './repository.ts';

/** A bound on the in-process copies (a process serves far fewer live competitions). */
const TERMS_ENTRIES_MAX = 1_000;

export interface CompetitionCache {
  get(id: string): Promise<Competition | undefined>;
  /** After a change this process made: the next read goes to the database. */
  forget(id: string): void;
}

export function createCompetitionCache(repo: CompetitionsRepository, ttlMs: number): CompetitionCache {
  const entries = new Map<string, { value: Promise<Competition | undefined>; expiresAtMs: number }>();
  return {
    get(id) {
      if (ttlMs === 0) return repo.get(id);
      const nowMs = performance.now();
      const hit = entries.get(id);
      if (hit && hit.expiresAtMs > nowMs) return hit.value;
      // Concurrent misses share one read; a failed read is not kept.
      const value = repo.get(id);
      value.catch(() => entries.delete(id));
      entries.set(id, { value, expiresAtMs: nowMs + ttlMs });
      if (entries.size > TERMS_ENTRIES_MAX) entries.delete(entries.keys().next().value!);
      return value;
    },
    forget: (id) => void entries.delete(id),
  };
}

export interface SoldCounters {
  /** Numbers taken (paid and postal), from the cache or the database. */
  sold(id: string): Promise<number>;
  /** A sale (positive) or a void (negative) this process just committed. */
  add(id: string, delta: number): Promise<void>;
}

export function createSoldCounters(cache: Cache, repo: CompetitionsRepository, ttlMs: number): SoldCounters {
  const key = (id: string) => `sold:${id}`;
  return {
    async sold(id) {
      const cached = await cache.get<number>(key(id));
      if (typeof cached === 'number') return cached;
      const fresh = await repo.soldCount(id);
      await cache.set(key(id), fresh, { ttlMs });
      return fresh;
    },
    async add(id, delta) {
      await cache.incrementIfPresent(key(id), delta);
    },
  };
}
