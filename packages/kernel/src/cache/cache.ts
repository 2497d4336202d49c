/** Picks the cache adapter from the configuration: Redis when REDIS_URL is set, else in-process. */
import type { Logger } from '../telemetry/logger.ts';
import { createMemoryCache } from './memory.ts';
import { createRedisCache } from './redis.ts';
import type { CacheRuntime } from './types.ts';

export function cacheFromConfig(options: { redisUrl?: string | undefined; log: Logger }): CacheRuntime {
  if (options.redisUrl) return createRedisCache({ url: options.redisUrl, log: options.log.child({ component: 'cache' }) });
  return createMemoryCache();
}
