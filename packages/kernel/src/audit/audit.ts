/**
 * The audit log (ADR 0004, ADR 0012). Each record is a leaf of the evidence log: its canonical JSON
 * is appended to kernel.log_pending in the caller's transaction, with a queryable copy in
 * kernel.audit_records, so the record commits or rolls back with the change it describes and no
 * writer waits for another (the integrator gives it an index after the commit). Signed checkpoints,
 * witnesses and anchors then make any later edit or removal detectable.
 *
 * Records written before the log existed stay in the closed hash chain kernel.audit_chain
 * (verifyAuditChain); the view kernel.audit_log shows both.
 *
 * Personal data never goes into a record in clear (the log is never erased): name people by id
 * (`player:<id>`) and put identifying values in as keyed hashes (ctx.crypto.keyedHash). `record`
 * refuses the obvious cases: a field named like personal data (email, dateOfBirth, iban…) holding
 * anything but a boolean, null or a 64-hex hash.
 */
import { createHash } from 'node:crypto';
import { leafHash } from '@verity/evidence';
import type { Principal } from '../auth/types.ts';
import type { Db } from '../db/db.ts';
import { INSERT_PENDING_SQL, pendingParams } from '../evidence-log/repository.ts';
import { pendingRow } from '../evidence-log/append.ts';
import { requestContext } from '../http/context.ts';
import { uuidv7 } from '../ids.ts';
import { canonicalJson } from './canonical-json.ts';
import type { AuditEntry, AuditLog, AuditRecord } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);
/** The `type` member of every audit leaf: what a verifier reading the log's bytes sees first. */
export const AUDIT_RECORD_TYPE = 'kernel.audit.v1';
const ACTION = /^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9.-]{0,120}$/;
const TEXT_MAX_CHARS = 500;
const DATA_MAX_BYTES = 16 * 1024;

/** Field names (case and `_`/`-` ignored) whose values are personal data. */
const PERSONAL_FIELDS = new Set([
  'email', 'emailaddress', 'phone', 'phonenumber', 'mobile', 'mobilenumber', 'dateofbirth', 'dob', 'birthdate', 'firstname', 'lastname',
  'fullname', 'legalname', 'givenname', 'familyname', 'surname', 'documentnumber', 'passportnumber', 'nationalid', 'nationalinsurancenumber',
  'ssn', 'iban', 'accountnumber', 'cardnumber', 'pan', 'password', 'postcode', 'ipaddress',
]);
const HASH_VALUE = /^[0-9a-f]{64}$/;

/** `operator:<id>`, `player:<id>`, `service:<module>` (service subjects already carry their kind). */
export function actorOf(principal: Principal): string {
  return principal.subject.includes(':') ? principal.subject : `${principal.kind}:${principal.subject}`;
}

/** The actor of the current request, or `anonymous`. */
export function actorFromContext(): string {
  const principal = requestContext.get()?.principal;
  return principal ? actorOf(principal) : 'anonymous';
}

/** The first field path holding personal data in clear, if any. */
function personalField(value: unknown, at: string, depth: number): string | undefined {
  if (value === null || typeof value !== 'object' || depth > 16) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const path = `${at}.${k}`;
    const flagged = PERSONAL_FIELDS.has(k.toLowerCase().replace(/[_-]/g, ''));
    if (flagged && v !== null && typeof v !== 'boolean' && !(typeof v === 'string' && HASH_VALUE.test(v))) return path;
    const inner = personalField(v, path, depth + 1);
    if (inner) return inner;
  }
  return undefined;
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
  const personal = personalField(data, 'data', 0);
  if (personal) throw new TypeError(`audit: ${personal} looks like personal data; log a keyed hash (ctx.crypto.keyedHash) or an id instead`);
  return data as Record<string, unknown>;
}

/** The audit record as logged: the canonical JSON of these members is the leaf's bytes. */
export function auditLeafBytes(r: Omit<AuditRecord, 'leafHash'>): Buffer {
  return Buffer.from(canonicalJson({
    type: AUDIT_RECORD_TYPE,
    sequence: r.sequence.toString(),
    id: r.id,
    module: r.module,
    actor: r.actor,
    action: r.action,
    subject: r.subject ?? null,
    reason: r.reason ?? null,
    data: r.data ?? {},
    traceId: r.traceId,
    recordedAt: r.recordedAt.toISOString(),
  }), 'utf8');
}

/** `onAppended` (the platform passes the evidence log's kick) hurries the integrator along. */
export function createAuditLog(db: Db, module: string, onAppended: () => void = () => {}): AuditLog {
  return {
    async record(entry) {
      const data = validate(entry);
      const next = await db.one<{ sequence: bigint; now: Date }>(
        `select nextval(pg_get_serial_sequence('kernel.audit_records', 'sequence')) as sequence,
                date_trunc('milliseconds', clock_timestamp()) as now`,
      );
      const unhashed: Omit<AuditRecord, 'leafHash'> = {
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
      };
      const pending = pendingRow({ kind: 'audit', module, type: entry.action, data: auditLeafBytes(unhashed), visibility: 'restricted' });
      const record: AuditRecord = { ...unhashed, leafHash: Buffer.from(pending.leafHash).toString('hex') };
      // One statement: the log row and its queryable copy commit together (with the caller's change
      // when there is a transaction).
      const params = pendingParams(pending);
      await db.query(
        `with logged as (${INSERT_PENDING_SQL} returning leaf_hash)
         insert into kernel.audit_records (sequence, id, module, actor, action, subject, reason, data, trace_id, recorded_at, leaf_hash)
         select $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, leaf_hash from logged`,
        [...params, record.sequence, record.id, module, record.actor, record.action, record.subject ?? null, record.reason ?? null,
          JSON.stringify(data), record.traceId, record.recordedAt],
      );
      onAppended();
      return record;
    },
  };
}

export interface AuditRecordsVerification {
  ok: boolean;
  count: number;
  /** The first record whose copy no longer hashes to a leaf of the log (or its pending row). */
  firstBadSequence?: bigint;
}

const VERIFY_BATCH = 1000;

/**
 * Re-derives each queryable audit record's leaf from its columns and checks that exactly that leaf
 * is in the log (or still pending): an edited copy is named. The log itself is checked by verifyLog.
 */
export async function verifyAuditRecords(db: Db): Promise<AuditRecordsVerification> {
  let after = -1n;
  let count = 0;
  for (;;) {
    const rows = await db.query<{
      sequence: bigint; id: string; module: string; actor: string; action: string; subject: string | null; reason: string | null;
      data: Record<string, unknown>; trace_id: string | null; recorded_at: Date; leaf_hash: Buffer; logged: boolean;
    }>(
      `select r.*, exists (select 1 from kernel.log_leaves l where l.leaf_hash = r.leaf_hash)
                or exists (select 1 from kernel.log_pending p where p.leaf_hash = r.leaf_hash) as logged
         from kernel.audit_records r where r.sequence > $1 order by r.sequence limit $2`,
      [after, VERIFY_BATCH],
    );
    for (const r of rows) {
      count++;
      const bytes = auditLeafBytes({
        sequence: r.sequence, id: r.id, module: r.module, actor: r.actor, action: r.action, subject: r.subject ?? undefined,
        reason: r.reason ?? undefined, data: r.data, traceId: r.trace_id, recordedAt: r.recorded_at,
      });
      if (!r.logged || !Buffer.from(leafHash(bytes)).equals(r.leaf_hash)) return { ok: false, count, firstBadSequence: r.sequence };
      after = r.sequence;
    }
    if (rows.length < VERIFY_BATCH) return { ok: true, count };
  }
}

// --- the closed hash chain of issue 2 (kernel.audit_chain) ----------------------------------------

/** A record of the closed chain (before the evidence log). */
export interface ChainRecord extends Omit<AuditRecord, 'leafHash'> {
  prevHash: string;
}

/** SHA-256 over the canonical JSON of every field of a chain record but its hash, as hex. */
export function auditHash(record: ChainRecord): string {
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

export interface ChainVerification {
  ok: boolean;
  /** Records checked (up to and including the first bad one). */
  count: number;
  firstBadSequence?: bigint;
}

/** Re-hashes the closed chain in order; the first record that does not link or hash is reported. */
export async function verifyAuditChain(db: Db): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let after = -1n;
  let count = 0;
  for (;;) {
    const rows = await db.query<{
      sequence: bigint; id: string; module: string; actor: string; action: string; subject: string | null; reason: string | null;
      data: Record<string, unknown>; trace_id: string | null; recorded_at: Date; prev_hash: string; hash: string;
    }>('select * from kernel.audit_chain where sequence > $1 order by sequence limit $2', [after, VERIFY_BATCH]);
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
