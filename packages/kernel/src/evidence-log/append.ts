/**
 * An append is one INSERT into kernel.log_pending on the caller's connection: it commits or rolls
 * back with the caller's change, touches no row another writer touches, and sends no NOTIFY (a
 * NOTIFY in a transaction takes a database-wide lock at commit, which would serialise every caller:
 * ADR 0012). The integrator finds committed rows by polling and by being kicked.
 */
import { leafHash } from '@verity/evidence';
import { canonicalJson } from '../audit/canonical-json.ts';
import type { Db } from '../db/db.ts';
import { uuidv7 } from '../ids.ts';
import { createLogRepository, type PendingInsert } from './repository.ts';
import type { AppendReceipt, LeafVisibility, LogRecord } from './types.ts';

export const LEAF_DATA_MAX_BYTES = 64 * 1024;
/** `draws.manifest.v1`, `verity/draw/manifest/v1`: a label, not part of the logged bytes. */
const RECORD_TYPE = /^[a-z0-9][a-z0-9._/-]{2,127}$/;

/** The bytes a record is logged as: given bytes, or the canonical JSON of an object. */
export function leafBytes(data: Uint8Array | object): Uint8Array {
  const bytes = data instanceof Uint8Array ? data : Buffer.from(canonicalJson(data), 'utf8');
  if (bytes.length === 0) throw new TypeError('evidence log: a record needs at least one byte');
  if (bytes.length > LEAF_DATA_MAX_BYTES) throw new TypeError(`evidence log: a record is at most ${LEAF_DATA_MAX_BYTES} bytes (got ${bytes.length})`);
  return bytes;
}

export function assertRecordType(type: string): void {
  if (typeof type !== 'string' || !RECORD_TYPE.test(type)) {
    throw new TypeError(`evidence log: record type "${type}" must be 3..128 characters of [a-z0-9._/-] (e.g. draws.manifest.v1)`);
  }
}

export function pendingRow(input: { kind: 'audit' | 'record'; module: string; type: string; data: Uint8Array; visibility: LeafVisibility }): PendingInsert {
  return { id: uuidv7(), leafHash: leafHash(input.data), ...input };
}

export const receiptOf = (p: PendingInsert): AppendReceipt => ({ pendingId: p.id, leafHash: Buffer.from(p.leafHash).toString('hex') });

/** `append` of a module's EvidenceLog. `onAppended` kicks this process's integrator. */
export function createAppender(db: Db, module: string, onAppended: () => void) {
  const repo = createLogRepository(db);
  return async (record: LogRecord): Promise<AppendReceipt> => {
    assertRecordType(record.type);
    const visibility = record.visibility ?? 'public';
    if (visibility !== 'public' && visibility !== 'restricted') throw new TypeError('evidence log: visibility is public or restricted');
    const row = pendingRow({ kind: 'record', module, type: record.type, data: leafBytes(record.data), visibility });
    await repo.insertPending(row);
    onAppended();
    return receiptOf(row);
  };
}
