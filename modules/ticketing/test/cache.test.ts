/**
 * The kernel cache port the hot counters use: the in-process LRU with expiry, and the Redis adapter
 * against a real redis-server (started here on a free port) — including what happens when Redis
 * goes away: reads miss, writes are dropped, nothing throws (the database answers instead).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createLogger, createMemoryCache, createRedisCache, type CacheRuntime } from '@verity/kernel';
import { freePort, waitFor } from '@verity/kernel/testing';

const REDIS_SERVER = '/usr/bin/redis-server';

async function behavesLikeACache(cache: CacheRuntime): Promise<void> {
  const c = cache.namespace('ticketing');
  assert.equal(await c.get('sold:x'), undefined);
  assert.equal(await c.incrementIfPresent('sold:x', 1), undefined, 'a counter never starts from zero');
  assert.equal(await c.get('sold:x'), undefined);
  await c.set('sold:x', 41, { ttlMs: 60_000 });
  assert.equal(await c.incrementIfPresent('sold:x', 1), 42);
  assert.equal(await c.incrementIfPresent('sold:x', -2), 40);
  assert.equal(await c.get('sold:x'), 40);
  await c.set('terms:y', { title: 'Car', tiers: [1, 2] }, { ttlMs: 60_000 });
  assert.deepEqual(await c.get('terms:y'), { title: 'Car', tiers: [1, 2] });
  assert.equal(await c.incrementIfPresent('terms:y', 1), undefined, 'not an integer: a miss');
  assert.equal(await cache.namespace('other').get('sold:x'), undefined, 'namespaces do not see each other');
  await c.delete('sold:x');
  assert.equal(await c.get('sold:x'), undefined);
  await c.set('short', 1, { ttlMs: 30 });
  await waitFor(async () => (await c.get('short')) === undefined, { what: 'the value to expire', timeoutMs: 2_000 });
  await assert.rejects(c.set('bad-ttl', 1, { ttlMs: 0 }));
}

describe('cache', () => {
  it('when the in-process cache is used, then values expire, counters only adjust what is there, and the least recently used go first', async () => {
    const cache = createMemoryCache({ maxEntries: 3 });
    await behavesLikeACache(cache);
    for (const k of ['a', 'b', 'c']) await cache.set(k, k, { ttlMs: 60_000 });
    await cache.get('a');
    await cache.set('d', 'd', { ttlMs: 60_000 });
    assert.equal(await cache.get('b'), undefined, 'b was least recently used');
    assert.equal(await cache.get('a'), 'a');
    await cache.close();
  });

  describe('redis', () => {
    let server: ChildProcess;
    let url: string;
    /** A client once connected (without an offline queue, commands before that miss, by design). */
    const connected = async () => {
      const cache = createRedisCache({ url, log: createLogger('silent') });
      await waitFor(async () => {
        await cache.set('ping', 1, { ttlMs: 1000 });
        return (await cache.get('ping')) === 1;
      }, { what: 'the connection to redis-server' });
      return cache;
    };
    before(async () => {
      const port = await freePort();
      url = `redis://127.0.0.1:${port}`;
      server = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await (await connected()).close();
    });
    after(() => void server?.kill());

    it('when REDIS_URL points at a Redis, then the adapter behaves like the in-process cache and is shared between processes', async () => {
      const [one, two] = [await connected(), await connected()];
      try {
        await behavesLikeACache(one);
        await one.namespace('ticketing').set('sold:shared', 10, { ttlMs: 60_000 });
        assert.equal(await two.namespace('ticketing').incrementIfPresent('sold:shared', 5), 15);
        assert.equal(await one.namespace('ticketing').get('sold:shared'), 15);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('when Redis stops answering, then reads miss and writes are dropped without an error', async () => {
      const cache = await connected();
      await cache.set('k', 1, { ttlMs: 60_000 });
      assert.equal(await cache.get('k'), 1);
      server.kill('SIGKILL');
      await waitFor(async () => (await cache.get('k')) === undefined, { what: 'reads to miss' });
      await cache.set('k', 2, { ttlMs: 60_000 });
      assert.equal(await cache.incrementIfPresent('k', 1), undefined);
      await cache.delete('k');
      await cache.close();
    });
  });
});
