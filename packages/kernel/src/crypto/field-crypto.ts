// PLACEHOLDER (helper "identity" replaces): envelope encryption with a local key file or KMS.
import { createHmac } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { FieldCrypto } from './types.ts';
export async function createFieldCrypto(_opts: { db: Db; config: Config; log: Logger }): Promise<FieldCrypto> {
  return {
    encrypt: async (_s, p) => Buffer.from(p).toString('base64'),
    decrypt: async (_s, c) => Buffer.from(c, 'base64').toString(),
    keyedHash: (purpose, v) => createHmac('sha256', purpose).update(v).digest('hex'),
    destroySubjectKey: async () => {},
  };
}
