/**
 * Cases: opening (deduplicated), assignment, notes, evidence, and the reads (one case with its whole
 * history; filtered, cursor-paginated lists). Decisions are in decisions.ts, timers in sla.ts.
 */
import { DomainError, Problems, uuidv7 } from '@verity/kernel';
import type { CaseType, OpenCaseInput, PartContext } from '../contract.ts';
import { CASE_TYPES, playerOfCase, slaFor, transition, type CaseState } from './domain.ts';
import { actorOrSystem } from './holds.ts';
import { historyView, textSubject, type History, type HistoryView } from './history.ts';
import type { CaseFilter, CaseRecord, CasesRepository, EvidenceRow } from './repository.ts';
import { scheduleSla } from './sla.ts';

export interface CaseSettings {
  /** Per case type, SLA in seconds instead of the code's table (COMPLIANCE_CASE_SLA_SECONDS). */
  slaOverridesS: Readonly<Record<string, number>>;
  reopenWindowDays: number;
  evidenceMaxBytes: number;
}

const SUBJECT = /^[a-z][a-z-]{0,30}:[A-Za-z0-9._:-]{1,160}$/;
const DATA_MAX_BYTES = 16 * 1024;
const TEXT_MAX = 4000;
// No path separators and no control characters (C0 and DEL).
const FILENAME = /^[^\\/\p{Cc}]{1,200}$/u;

function invalid(field: string, detail: string): DomainError {
  return Problems.validation([{ pointer: `/body/${field}`, detail }]);
}

function validateOpen(input: OpenCaseInput): void {
  if (!CASE_TYPES.includes(input.type)) throw invalid('type', `must be one of ${CASE_TYPES.join(', ')}`);
  if (typeof input.subject !== 'string' || !SUBJECT.test(input.subject)) throw invalid('subject', 'must read <kind>:<id>, e.g. player:<id>');
  if (typeof input.summary !== 'string' || input.summary.length < 1 || input.summary.length > 500) throw invalid('summary', 'must be 1..500 characters');
  if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) throw invalid('data', 'must be an object');
  if (Buffer.byteLength(JSON.stringify(input.data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) > DATA_MAX_BYTES) throw invalid('data', `must be at most ${DATA_MAX_BYTES} bytes`);
  if (input.dedupeKey !== undefined && (typeof input.dedupeKey !== 'string' || input.dedupeKey.length < 1 || input.dedupeKey.length > 200)) throw invalid('dedupeKey', 'must be 1..200 characters');
}

export const caseNotFound = () => Problems.notFound('case');

export interface EvidenceView {
  evidenceId: string;
  filename?: string;
  filenameErased?: true;
  contentType: string;
  sizeBytes: string;
  sha256: string;
  addedBy: string;
  addedAt: string;
}

export function createCaseService(ctx: PartContext, deps: { repo: CasesRepository; history: History; settings: CaseSettings }) {
  const { db } = ctx;
  const { repo, history, settings } = deps;
  const now = () => ctx.clock.now();

  async function locked(caseId: string): Promise<CaseRecord> {
    const c = await repo.lock(caseId);
    if (!c) throw caseNotFound();
    return c;
  }

  async function open(input: OpenCaseInput): Promise<{ caseId: string; created: boolean }> {
    validateOpen(input);
    const actor = actorOrSystem();
    return db.tx(async () => {
      const at = await now();
      const sla = slaFor(input.type, at, settings.slaOverridesS);
      const data = JSON.parse(JSON.stringify(input.data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
      const { record, created } = await repo.insertOrExisting({
        id: uuidv7(), type: input.type, subject: input.subject, playerId: playerOfCase(input.subject, data) ?? null, summary: input.summary,
        data, dedupeKey: input.dedupeKey ?? null, openedBy: actor, dueAt: sla.dueAt, reminderAt: sla.reminderAt, now: at,
      });
      if (!created) return { caseId: record.id, created: false };
      await history.record(record, { actor, action: 'opened', to: 'open', detail: { subject: record.subject, dueAt: record.dueAt.toISOString(), ...(record.dedupeKey ? { dedupeKey: record.dedupeKey } : {}) } }, at);
      await ctx.events.publish({
        type: 'compliance.case-opened.v1', subject: record.id,
        data: { caseId: record.id, type: record.type, subject: record.subject, playerId: record.playerId, dueAt: record.dueAt.toISOString() },
      });
      await scheduleSla(ctx, record);
      return { caseId: record.id, created: true };
    });
  }

  async function assign(caseId: string, assignee: string | null, actor: string): Promise<CaseRecord> {
    return db.tx(async () => {
      const c = await locked(caseId);
      // Closed cases refuse; unassigning leaves the state as it is.
      const assigned = transition(c.state, 'assign');
      const to: CaseState = assignee === null ? c.state : assigned;
      if (c.assignee === assignee && to === c.state) return c;
      const at = await now();
      const updated = await repo.update(caseId, { assignee, state: to }, at);
      await history.record(updated, { actor, action: assignee === null ? 'unassigned' : 'assigned', from: c.state, to, detail: { assignee, previousAssignee: c.assignee } }, at);
      await ctx.events.publish({ type: 'compliance.case-assigned.v1', subject: caseId, data: { caseId, type: c.type, assignee } });
      return updated;
    });
  }

  async function addNote(caseId: string, text: string, actor: string): Promise<void> {
    if (typeof text !== 'string' || text.trim().length === 0 || text.length > TEXT_MAX) throw invalid('text', `must be 1..${TEXT_MAX} characters`);
    await db.tx(async () => {
      const c = await locked(caseId);
      transition(c.state, 'note');
      await history.record(c, { actor, action: 'note-added', text }, await now());
    });
  }

  async function addEvidence(caseId: string, file: { filename: string; contentType: string; bytes: Buffer }, actor: string): Promise<EvidenceRow> {
    if (!FILENAME.test(file.filename)) throw invalid('filename', 'must be 1..200 characters without slashes or control characters');
    if (file.bytes.length === 0 || file.bytes.length > settings.evidenceMaxBytes) {
      throw new DomainError('evidence-too-large', 413, 'Evidence file too large', `An evidence file is 1..${settings.evidenceMaxBytes} bytes.`, { maxBytes: settings.evidenceMaxBytes });
    }
    const c = await repo.get(caseId);
    if (!c) throw caseNotFound();
    // The bytes go to the object store first (content-addressed: a rolled-back case change leaves
    // at most an unreferenced object, never a reference to nothing).
    const stored = await ctx.objects.put(file.bytes, { contentType: file.contentType, ...(c.playerId ? { encryptFor: c.playerId } : {}) });
    return db.tx(async () => {
      const current = await locked(caseId);
      transition(current.state, 'evidence');
      const at = await now();
      const row = await repo.insertEvidence({
        id: uuidv7(), caseId, filenameEnc: await ctx.crypto.encrypt(textSubject(c), file.filename), contentType: file.contentType,
        sizeBytes: BigInt(stored.size), sha256: stored.sha256, objectKey: stored.key, encrypted: stored.encrypted, addedBy: actor, addedAt: at,
      });
      await history.record(current, {
        actor, action: 'evidence-added', text: file.filename,
        detail: { evidenceId: row.id, sha256: stored.sha256, sizeBytes: stored.size, contentType: file.contentType },
      }, at);
      return row;
    });
  }

  async function evidenceFilename(c: CaseRecord, e: EvidenceRow): Promise<{ filename?: string; filenameErased?: true }> {
    const t = await history.text(c, e.filenameEnc);
    return t.textErased ? { filenameErased: true } : { filename: t.text! };
  }

  async function evidenceView(c: CaseRecord, e: EvidenceRow): Promise<EvidenceView> {
    return {
      evidenceId: e.id, ...(await evidenceFilename(c, e)), contentType: e.contentType, sizeBytes: e.sizeBytes.toString(), sha256: e.sha256,
      addedBy: e.addedBy, addedAt: e.addedAt.toISOString(),
    };
  }

  /** The bytes of one attachment, checked against the SHA-256 recorded when it was added. */
  async function downloadEvidence(caseId: string, evidenceId: string, actor: string): Promise<{ bytes: Buffer; contentType: string; filename: string }> {
    const c = await repo.get(caseId);
    const e = c ? await repo.evidence(caseId, evidenceId) : undefined;
    if (!c || !e) throw Problems.notFound('evidence');
    // After erasure the player's key is gone: the store answers 410 personal-data-erased.
    const { bytes, sha256 } = await ctx.objects.get(e.objectKey);
    if (sha256 !== e.sha256) throw new Error(`evidence ${evidenceId} does not match the SHA-256 recorded when it was added`);
    await ctx.audit.record({ actor, action: 'compliance.case-evidence-downloaded', subject: `case:${caseId}`, data: { evidenceId, sha256: e.sha256 } });
    const name = await evidenceFilename(c, e);
    return { bytes, contentType: e.contentType, filename: name.filename ?? `${e.sha256}.bin` };
  }

  async function get(caseId: string): Promise<{ record: CaseRecord; history: HistoryView[]; evidence: EvidenceView[] }> {
    const found = await repo.withHistory(caseId);
    if (!found) throw caseNotFound();
    const evidence: EvidenceView[] = [];
    for (const e of found.evidence) evidence.push(await evidenceView(found.record, e));
    return { record: found.record, history: await historyView(history, found.record, found.history), evidence };
  }

  async function list(filter: Omit<CaseFilter, 'overdueAt'> & { overdue?: boolean }): Promise<CaseRecord[]> {
    const { overdue, ...rest } = filter;
    return repo.list({ ...rest, ...(overdue ? { overdueAt: await now() } : {}) });
  }

  return { open, assign, addNote, addEvidence, downloadEvidence, get, list, locked };
}

export type CaseService = ReturnType<typeof createCaseService>;
export const isCaseType = (t: string): t is CaseType => (CASE_TYPES as readonly string[]).includes(t);
