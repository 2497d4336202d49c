/**
 * Finance exceptions: every discrepancy reconciliation finds and every payout that went wrong
 * becomes one row finance must resolve, one event (for the console and alerting) and one error
 * log line. The same open discrepancy is raised once, however often a run sees it again.
 */
import { DomainError, Problems, uuidv7, type Logger } from '@verity/kernel';
import type { ComplianceGate, PartContext } from '../contract.ts';
import { type ExceptionKind, type ExceptionStatus, type FinanceExceptionRecord, type ReconciliationRepository } from './repository.ts';

export const DISCREPANCY_EVENT = 'payments.reconciliation-discrepancy.v1';
export const PAYOUT_EXCEPTION_EVENT = 'payments.payout-exception.v1';
export const EXCEPTION_RESOLVED_EVENT = 'payments.finance-exception-resolved.v1';

/** Exceptions about one payout: each also opens a compliance case when that module runs. */
export const PAYOUT_EXCEPTION_KINDS: readonly ExceptionKind[] = ['payout-failed', 'payout-unknown', 'payout-returned', 'payout-hold-lost', 'payout-event-mismatch'];
const CASE_RETRY_BATCH = 20;

export interface RaiseInput {
  kind: ExceptionKind;
  /** What it is about (an account, a reference, a withdrawal id): with `kind`, its identity. */
  subject: string;
  currency?: string;
  details: Record<string, unknown>;
  runId?: string;
}

export interface FinanceExceptions {
  /** Inside the caller's transaction; undefined when the same discrepancy is open already. */
  raise(input: RaiseInput): Promise<FinanceExceptionRecord | undefined>;
  /** After commit: opens the compliance case of a payout exception (no-op without the module). */
  openCase(e: FinanceExceptionRecord): Promise<void>;
  /** Retries cases that could not be opened (the compliance module was down or deployed later). */
  openMissingCases(): Promise<void>;
  list(q: { status?: ExceptionStatus; kind?: ExceptionKind; after?: { at: Date; id: string }; limit: number }): Promise<FinanceExceptionRecord[]>;
  resolve(id: string, actor: string, note: string): Promise<FinanceExceptionRecord>;
}

/** `gate`: where payout exceptions open compliance cases (none: reconciliation's own, which open none). */
export function createFinanceExceptions(ctx: PartContext, repo: ReconciliationRepository, gate?: ComplianceGate): FinanceExceptions {
  const log: Logger = ctx.log.child({ component: 'finance-exceptions' });

  const openCase = async (e: FinanceExceptionRecord): Promise<void> => {
    if (!PAYOUT_EXCEPTION_KINDS.includes(e.kind) || e.caseId || !gate?.openCase) return;
    try {
      const caseId = await gate.openCase({ type: 'payout-exception', subject: e.fingerprint, summary: `Payout exception: ${e.kind}`, data: { exceptionId: e.id, kind: e.kind, ...e.details } });
      if (caseId) await repo.setCaseId(e.id, caseId);
    } catch (err) {
      log.warn({ err, exceptionId: e.id }, 'compliance case not opened yet; the payout sweeper retries');
    }
  };

  return {
    async raise(input) {
      const id = uuidv7();
      const fingerprint = `${input.kind}:${input.subject}`.slice(0, 300);
      return ctx.db.tx(async () => {
        const e = await repo.insertException({ id, kind: input.kind, fingerprint, details: input.details, ...(input.currency ? { currency: input.currency } : {}), ...(input.runId ? { runId: input.runId } : {}) });
        if (!e) return undefined;
        const payout = PAYOUT_EXCEPTION_KINDS.includes(input.kind);
        await ctx.events.publish({
          type: payout ? PAYOUT_EXCEPTION_EVENT : DISCREPANCY_EVENT,
          subject: e.id,
          data: { exceptionId: e.id, kind: e.kind, currency: e.currency, runId: e.runId, detectedAt: e.detectedAt },
        });
        // The alert: an error line carries the kind and ids; the details (amounts, references) stay in the row.
        log.error({ exceptionId: e.id, kind: e.kind, subject: input.subject, currency: e.currency, runId: e.runId }, `finance exception raised: ${e.kind}`);
        return e;
      });
    },

    openCase,

    async openMissingCases() {
      if (!gate?.openCase) return;
      for (const e of await repo.exceptionsWithoutCase(PAYOUT_EXCEPTION_KINDS, CASE_RETRY_BATCH)) await openCase(e);
    },

    list: (q) => repo.listExceptions(q),

    async resolve(id, actor, note) {
      return ctx.db.tx(async () => {
        const resolved = await repo.resolveException(id, actor, note);
        if (!resolved) {
          const existing = await repo.getException(id);
          if (!existing) throw Problems.notFound('finance exception');
          throw new DomainError('finance-exception-resolved', 409, 'Already resolved', `This exception was resolved at ${existing.resolvedAt?.toISOString()}.`);
        }
        await ctx.audit.record({ actor, action: 'payments.finance-exception-resolved', subject: `finance-exception:${id}`, reason: note, data: { kind: resolved.kind } });
        await ctx.events.publish({ type: EXCEPTION_RESOLVED_EVENT, subject: id, data: { exceptionId: id, kind: resolved.kind, resolvedAt: resolved.resolvedAt } });
        return resolved;
      });
    },
  };
}
