/**
 * The audit log (ADR 0004): one append-only table, each record hash-linked to the one before it.
 * Appends are linearised with a transaction-level advisory lock, so the chain never forks however
 * many processes write; `unique (prev_hash)` in the table turns any writer that skipped the lock
 * into an error instead of a fork. A trigger refuses UPDATE, DELETE and TRUNCATE.
 *
 * The hash covers the canonical JSON of the whole record including `prevHash`, so editing any
 * field of any record, or removing or reordering records, breaks `verifyAuditChain`.
 */
import { createHash } from 'node:crypto';
import type { Principal } from '../auth/types.ts';
import type { Db } from '../db/db.ts';
import { requestContext } from '../http/context.ts';
import { uuidv7 } from '../ids.ts';
import { canonicalJson } from './canonical-json.ts';
import type { AuditEntry, AuditLog, AuditRecord } from './types.ts';

/** Advisory lock key of the chain head ("audt"). */
const AUDIT_CHAIN_LOCK = 0x61756474;
export const GENESIS_HASH = '0'.repeat(64);
const ACTION = /^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9.-]{0,120}$/;
const TEXT_MAX_CHARS = 500;
const DATA_MAX_BYTES = 16 * 1024;

/** `operator:<id>`, `player:<id>`, `service:<module>` (service subjects already carry their kind). */
export function actorOf(principal: Principal): string {
  return principal.subject.includes(':') ? principal.subject : `${principal.kind}:${principal.subject}`;
}

/** The actor of the current request, or `anonymous`. */
export function actorFromContext(): string {
  const principal = requestContext.get()?.principal;
  return principal ? actorOf(principal) : 'anonymous';
}

type Hashed = Omit<AuditRecord, 'hash'>;

/** SHA-256 over the canonical JSON of every field but `hash`, as hex. */
export function auditHash(record: Hashed): string {
  const canonical = canonicalJson({
    sequence: record.sequence.toString(),
    id: record.id,
    module: record.module,
    actor: record.actor,
    action: record.action,
    subject: record.subject ?? null,
    reason: record.reason ?? null,
    data: record.data ?? {},
    traceId: record.traceId,
    recordedAt: record.recordedAt.toISOString(),
    prevHash: record.prevHash,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

function validate(entry: AuditEntry): Record<string, unknown> {
  if (!entry.actor || entry.actor.length > TEXT_MAX_CHARS) throw new TypeError('audit: actor is required (at most 500 characters)');
  if (!ACTION.test(entry.action)) throw new TypeError(`audit: action "${entry.action}" must read <module>.<verb-noun>`);
  for (const field of ['subject', 'reason'] as const) {
    const v = entry[field];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.length > TEXT_MAX_CHARS)) throw new TypeError(`audit: ${field} must be a string of at most 500 characters`);
  }
  // What is stored is what is hashed: bigint and Date become strings before either happens.
  const data = JSON.parse(canonicalJson(entry.data ?? {})) as unknown;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TypeError('audit: data must be an object');
  if (Buffer.byteLength(JSON.stringify(data)) > DATA_MAX_BYTES) throw new TypeError(`audit: data over ${DATA_MAX_BYTES} bytes`);
  return data as Record<string, unknown>;
}

export function createAuditLog(db: Db, module: string): AuditLog {
  return {
    async record(entry) {
      const data = validate(entry);
      // Joins the caller's transaction when there is one: the record commits with the change it describes.
      return db.tx(async () => {
        await db.query('select pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
        const head = await db.maybeOne<{ hash: string }>('select hash from kernel.audit_log order by sequence desc limit 1');
        const next = await db.one<{ sequence: bigint; now: Date }>(
          `select nextval(pg_get_serial_sequence('kernel.audit_log', 'sequence')) as sequence,
                  date_trunc('milliseconds', clock_timestamp()) as now`,
        );
        const unhashed: Hashed = {
          sequence: next.sequence,
          id: uuidv7(),
          module,
          actor: entry.actor,
          action: entry.action,
          subject: entry.subject ?? undefined,
          reason: entry.reason ?? undefined,
          data,
          traceId: requestContext.traceId() ?? null,
          recordedAt: next.now,
          prevHash: head?.hash ?? GENESIS_HASH,
        };
        const record: AuditRecord = { ...unhashed, hash: auditHash(unhashed) };
        await db.query(
          `insert into kernel.audit_log (sequence, id, module, actor, action, subject, reason, data, trace_id, recorded_at, prev_hash, hash)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [record.sequence, record.id, module, record.actor, record.action, record.subject ?? null, record.reason ?? null,
            JSON.stringify(data), record.traceId, record.recordedAt, record.prevHash, record.hash],
        );
        return record;
      });
    },
  };
}

export interface ChainVerification {
  ok: boolean;
  /** Records checked (up to and including the first bad one). */
  count: number;
  firstBadSequence?: bigint;
}

const VERIFY_BATCH = 1000;

/** Re-hashes the whole chain in order; the first record that does not link or hash is reported. */
export async function verifyAuditChain(db: Db): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let after = -1n;
  let count = 0;
  for (;;) {
    const rows = await db.query<{
      sequence: bigint; id: string; module: string; actor: string; action: string; subject: string | null; reason: string | null;
      data: Record<string, unknown>; trace_id: string | null; recorded_at: Date; prev_hash: string; hash: string;
    }>('select * from kernel.audit_log where sequence > $1 order by sequence limit $2', [after, VERIFY_BATCH]);
    for (const r of rows) {
      count++;
      const expected = auditHash({
        sequence: r.sequence, id: r.id, module: r.module, actor: r.actor, action: r.action,
        subject: r.subject ?? undefined, reason: r.reason ?? undefined, data: r.data,
        traceId: r.trace_id, recordedAt: r.recorded_at, prevHash: r.prev_hash,
      });
      if (r.prev_hash !== prevHash || r.hash !== expected) return { ok: false, count, firstBadSequence: r.sequence };
      prevHash = r.hash;
      after = r.sequence;
    }
    if (rows.length < VERIFY_BATCH) return { ok: true, count };
  }
}
