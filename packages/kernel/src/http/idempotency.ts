// PLACEHOLDER (helper "kernel-ops" replaces): Idempotency-Key handling.
import type { Db } from '../db/db.ts';
import type { Idempotency } from '../module.ts';
import type { Logger } from '../telemetry/logger.ts';
export function createIdempotency(_opts: { db: Db; log: Logger }): Idempotency {
  return { wrap: (h) => h };
}
