/**
 * Every action on a case leaves two records in the same transaction: a row of the case's own
 * history (what GET /v1/cases/{id} shows) and an audit record (a leaf of the platform's evidence log),
 * which the history row keeps a copy of. Free text (notes, reasons, file names) may name people: it
 * is encrypted under the player's data key in the history, and the audit record carries only its
 * SHA-256, so erasure can make the text unreadable without breaking the log.
 */
import { createHash } from 'node:crypto';
import { isDomainError, type AuditEntry, type AuditRecord } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import type { CaseRecord, CasesRepository, HistoryRow } from './repository.ts';

/** The data key free text of a case is encrypted under: the player's, or one for cases without a player. */
export const textSubject = (c: Pick<CaseRecord, 'playerId'>): string => c.playerId ?? 'compliance.case-text';

export const sha256Text = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export interface HistoryEntry {
  actor: string;
  /** `opened`, `assigned`, `note-added`, `decided`… (the audit action is `compliance.case-<action>`). */
  action: string;
  from?: string | null;
  to?: string | null;
  detail?: Record<string, unknown>;
  /** Free text kept encrypted in the history; the audit record gets its hash only. */
  text?: string;
}

/** The audit record as the history keeps it (JSON: the sequence as a string). */
export function auditCopy(a: AuditRecord): Record<string, unknown> {
  return {
    sequence: a.sequence.toString(), id: a.id, module: a.module, actor: a.actor, action: a.action, subject: a.subject ?? null,
    reason: a.reason ?? null, data: a.data ?? {}, traceId: a.traceId, recordedAt: a.recordedAt.toISOString(), leafHash: a.leafHash,
  };
}

/**
 * Audit records about a player (`subject: player:<id>`), with a copy kept in compliance for evidence
 * packages. Same transaction as the caller's.
 */
export function createAuditTrail(ctx: PartContext, repo: CasesRepository) {
  return {
    async record(entry: AuditEntry & { subject: string }): Promise<AuditRecord> {
      return ctx.db.tx(async () => {
        const a = await ctx.audit.record(entry);
        await repo.insertAuditCopy({ auditId: a.id, subject: entry.subject, sequence: a.sequence, record: auditCopy(a) });
        return a;
      });
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;

export function createHistory(ctx: PartContext, repo: CasesRepository) {
  return {
    /** Appends one history row with its audit record; joins the caller's transaction. */
    async record(c: CaseRecord, e: HistoryEntry, at: Date): Promise<void> {
      const textHash = e.text !== undefined ? sha256Text(e.text) : undefined;
      const audit = await ctx.audit.record({
        actor: e.actor,
        action: `compliance.case-${e.action}`,
        subject: `case:${c.id}`,
        data: {
          type: c.type, ...(c.playerId ? { playerId: c.playerId } : {}), ...(e.from !== undefined ? { from: e.from } : {}),
          ...(e.to !== undefined ? { to: e.to } : {}), ...(e.detail ?? {}), ...(textHash ? { textSha256: textHash } : {}),
        },
      });
      const textEnc = e.text !== undefined ? await ctx.crypto.encrypt(textSubject(c), e.text) : null;
      await repo.insertHistory({
        caseId: c.id, at, actor: e.actor, action: e.action, fromState: e.from ?? null, toState: e.to ?? null,
        detail: { ...(e.detail ?? {}), ...(textHash ? { textSha256: textHash } : {}) }, textEnc, audit: auditCopy(audit),
      });
    },

    /** Decrypts free text for display; `erased` once the player's data key was destroyed. */
    async text(c: Pick<CaseRecord, 'playerId'>, enc: string | null): Promise<{ text?: string; textErased?: true }> {
      if (enc === null) return {};
      try {
        return { text: await ctx.crypto.decrypt(textSubject(c), enc) };
      } catch (err) {
        if (isDomainError(err) && err.code === 'personal-data-erased') return { textErased: true };
        throw err;
      }
    },
  };
}

export type History = ReturnType<typeof createHistory>;

export interface HistoryView {
  seq: string;
  at: string;
  actor: string;
  action: string;
  fromState?: string;
  toState?: string;
  detail: Record<string, unknown>;
  text?: string;
  textErased?: true;
  auditId?: string;
  auditHash?: string;
}

/** The evidence-log leaf hash of the copy (or, for records from before the log, the chain hash). */
function auditHashOf(audit: Record<string, unknown> | null | undefined): { auditHash?: string } {
  const hash = audit?.leafHash ?? audit?.hash;
  return typeof hash === 'string' ? { auditHash: hash } : {};
}

export async function historyView(history: History, c: CaseRecord, rows: readonly HistoryRow[]): Promise<HistoryView[]> {
  const out: HistoryView[] = [];
  for (const h of rows) {
    out.push({
      seq: h.seq.toString(), at: h.at.toISOString(), actor: h.actor, action: h.action,
      ...(h.fromState ? { fromState: h.fromState } : {}), ...(h.toState ? { toState: h.toState } : {}),
      detail: h.detail, ...(await history.text(c, h.textEnc)),
      ...(typeof h.audit?.id === 'string' ? { auditId: h.audit.id } : {}), ...auditHashOf(h.audit),
    });
  }
  return out;
}
