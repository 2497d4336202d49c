/**
 * Finance's view of reconciliation: the exceptions to work (list, resolve with a note, audited) and
 * a run on demand that returns its report.
 */
import type { FastifyRequest } from 'fastify';
import { OperatorPermissions, Strict, actorFromContext, type HttpApp } from '@verity/kernel';
import { Type } from 'typebox';
import type { PartContext } from '../contract.ts';
import { Problem } from '../payouts/schemas.ts';
import { LIMIT_DEFAULT, decodeCursor, page } from '../wallet/paging.ts';
import type { FinanceExceptions } from './exceptions.ts';
import { EXCEPTION_KINDS, type ExceptionKind, type ExceptionStatus, type FinanceExceptionRecord } from './repository.ts';
import type { Reconciliation, ReconciliationReport } from './run.ts';

const TAG = 'Finance';
const bearer = [{ bearer: [] }];

const Kind = Type.Enum(EXCEPTION_KINDS);
const FinanceException = Strict({
  exceptionId: Type.String({ format: 'uuid' }),
  kind: Kind,
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  currency: Type.Optional(Type.String()),
  details: Type.Object({}, { additionalProperties: true, description: 'What was found: amounts (minor units as strings), references, transfer ids' }),
  runId: Type.Optional(Type.String()),
  caseId: Type.Optional(Type.String()),
  detectedAt: Type.String({ format: 'date-time' }),
  resolvedAt: Type.Optional(Type.String({ format: 'date-time' })),
  resolvedBy: Type.Optional(Type.String()),
  resolutionNote: Type.Optional(Type.String()),
});
const ExceptionList = Strict({ items: Type.Array(FinanceException, { maxItems: 200 }), nextCursor: Type.Optional(Type.String()) });
const ListQuery = Strict({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
  kind: Type.Optional(Kind),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});
const ExceptionParams = Strict({ exceptionId: Type.String({ format: 'uuid', maxLength: 36 }) });
const ResolveBody = Strict({ note: Type.String({ minLength: 3, maxLength: 2000, description: 'What was found and done (audited)' }) });
const RunBody = Strict({ settlementDay: Type.Optional(Type.String({ format: 'date', maxLength: 10, description: 'UTC day of the settlement report (default: yesterday)' })) });
const Count = Type.Integer({ minimum: 0 });
const Report = Strict({
  runId: Type.String(),
  trigger: Type.Union([Type.Literal('scheduled'), Type.Literal('manual')]),
  settlementDay: Type.String(),
  status: Type.Union([Type.Literal('clean'), Type.Literal('discrepancies'), Type.Literal('failed')]),
  ledger: Strict({ unbalancedCurrencies: Count, balanceMismatches: Count }),
  settlement: Strict({ provider: Type.String(), lines: Count, movements: Count, matched: Count, missing: Count, extra: Count, amountMismatch: Count, error: Type.Optional(Type.String()) }),
  discrepancies: Type.Array(Strict({ kind: Type.String(), subject: Type.String(), exceptionId: Type.Optional(Type.String()) }), { maxItems: 100 }),
  discrepancyCount: Count,
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.String({ format: 'date-time' }),
});

const bigintsAsStrings = (value: Record<string, unknown>): Record<string, unknown> =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;

function exceptionView(e: FinanceExceptionRecord) {
  return {
    exceptionId: e.id,
    kind: e.kind,
    status: e.status,
    ...(e.currency ? { currency: e.currency } : {}),
    details: bigintsAsStrings(e.details),
    ...(e.runId ? { runId: e.runId } : {}),
    ...(e.caseId ? { caseId: e.caseId } : {}),
    detectedAt: e.detectedAt.toISOString(),
    ...(e.resolvedAt ? { resolvedAt: e.resolvedAt.toISOString() } : {}),
    ...(e.resolvedBy ? { resolvedBy: e.resolvedBy } : {}),
    ...(e.resolutionNote ? { resolutionNote: e.resolutionNote } : {}),
  };
}

const reportView = (r: ReconciliationReport) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt.toISOString() });

export function registerReconciliationRoutes(app: HttpApp, ctx: PartContext, exceptions: FinanceExceptions, reconciliation: Reconciliation): void {
  const reader = ctx.auth.require([OperatorPermissions.ledgerRead], { mfa: true, kinds: ['operator'] });
  const runner = ctx.auth.require([OperatorPermissions.reconciliationRun], { mfa: true, kinds: ['operator'] });

  app.get('/v1/finance/exceptions', {
    preHandler: reader,
    schema: { operationId: 'listFinanceExceptions', tags: [TAG], security: bearer, summary: 'Finance exceptions (reconciliation discrepancies, payout exceptions), newest first', querystring: ListQuery, response: { 200: ExceptionList, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { status?: ExceptionStatus; kind?: ExceptionKind; cursor?: string; limit?: number };
    const limit = q.limit ?? LIMIT_DEFAULT;
    const after = decodeCursor(q.cursor);
    const rows = await exceptions.list({ limit: limit + 1, ...(q.status ? { status: q.status } : {}), ...(q.kind ? { kind: q.kind } : {}), ...(after ? { after } : {}) });
    const p = page(rows, limit, (e) => ({ at: e.detectedAt, id: e.id }));
    return { items: p.items.map(exceptionView), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
  });

  app.post('/v1/finance/exceptions/:exceptionId/resolve', {
    preHandler: runner,
    schema: { operationId: 'resolveFinanceException', tags: [TAG], security: bearer, summary: 'Resolve a finance exception with a note (audited)', params: ExceptionParams, body: ResolveBody, response: { 200: FinanceException, '4xx': Problem } },
  }, async (req: FastifyRequest) => {
    const { exceptionId } = req.params as { exceptionId: string };
    return exceptionView(await exceptions.resolve(exceptionId, actorFromContext(), (req.body as { note: string }).note));
  });

  app.post('/v1/finance/reconciliations', {
    preHandler: runner,
    schema: { operationId: 'runReconciliation', tags: [TAG], security: bearer, summary: 'Run reconciliation now and return its report', body: RunBody, response: { 200: Report, '4xx': Problem } },
  }, async (req: FastifyRequest) => {
    const body = (req.body ?? {}) as { settlementDay?: string };
    const actor = actorFromContext();
    const report = await reconciliation.run({ trigger: 'manual', requestedBy: actor, ...(body.settlementDay ? { day: body.settlementDay } : {}) });
    await ctx.db.tx(() => ctx.audit.record({ actor, action: 'payments.reconciliation-run', subject: `reconciliation:${report.runId}`, data: { settlementDay: report.settlementDay, status: report.status, discrepancies: report.discrepancyCount } }));
    return reportView(report);
  });
}
