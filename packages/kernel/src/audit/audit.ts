// PLACEHOLDER (helper "kernel-ops" replaces): hash-linked append-only audit log.
import type { Db } from '../db/db.ts';
import type { AuditLog } from './types.ts';
export function createAuditLog(_db: Db, _module: string): AuditLog {
  return { async record(entry) { return { ...entry, sequence: 0n, id: '', module: _module, traceId: null, recordedAt: new Date(), prevHash: '', hash: '' }; } };
}
