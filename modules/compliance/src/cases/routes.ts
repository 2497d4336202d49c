/**
 * Case routes for the compliance team (operators with MFA): list, read with the whole history, open
 * by hand, assign, notes, evidence, decide (step-up), reopen (step-up), and a player's holds.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, OperatorPermissions as P, type HttpApp } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import {
  AssignBody, CaseParams, CasePage, CaseWithHistory, DecideBody, EvidenceBody, EvidenceParams, HoldList, HoldsQuery, ListCasesQuery, NoteBody,
  OpenCaseBody, Problem, ReopenBody, TAG_CASES, type ListCasesQuery as ListQuery,
} from './contracts.ts';
import type { Decisions, DecideInput } from './decisions.ts';
import { DECISIONS, isOverdue } from './domain.ts';
import type { CaseRecord, CasesRepository, HoldRow } from './repository.ts';
import type { CaseService } from './service.ts';

const bearer = [{ bearer: [] }];
const LIMIT_DEFAULT = 25;

export function caseView(c: CaseRecord, now: Date) {
  const opt = <T>(k: string, v: T | null | undefined) => (v === null || v === undefined ? {} : { [k]: v instanceof Date ? v.toISOString() : v });
  return {
    caseId: c.id, type: c.type, state: c.state, subject: c.subject, ...opt('playerId', c.playerId), summary: c.summary, data: c.data,
    ...opt('assignee', c.assignee), openedBy: c.openedBy, ...opt('outcome', c.outcome), ...opt('decidedBy', c.decidedBy),
    ...opt('secondApprover', c.secondApprover), ...opt('decidedAt', c.decidedAt), ...opt('proposedOutcome', c.proposedOutcome), ...opt('proposedBy', c.proposedBy),
    allowedOutcomes: Object.entries(DECISIONS[c.type]).map(([outcome, r]) => ({ outcome, fourEyes: r.fourEyes, description: r.description })),
    dueAt: c.dueAt.toISOString(), overdue: isOverdue(c, now), ...opt('remindedAt', c.remindedAt), ...opt('escalatedAt', c.escalatedAt),
    reopenCount: c.reopenCount, ...opt('closedAt', c.closedAt), createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString(),
  };
}

export const holdView = (h: HoldRow) => ({
  holdId: h.id, playerId: h.playerId, kind: h.kind, ...(h.caseId ? { caseId: h.caseId } : {}), reason: h.reason, placedBy: h.placedBy,
  placedAt: h.placedAt.toISOString(), ...(h.liftedBy ? { liftedBy: h.liftedBy } : {}), ...(h.liftedAt ? { liftedAt: h.liftedAt.toISOString() } : {}),
});

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new DomainError('validation-failed', 400, 'Your request parameters did not validate', 'The cursor is not one this API returned.', {}, [{ pointer: '/querystring/cursor', detail: 'is not a cursor this API returned' }]);
  }
  return id;
}

export interface CaseRouteDeps {
  ctx: PartContext;
  cases: CaseService;
  decisions: Decisions;
  repo: CasesRepository;
}

export function registerCaseRoutes(app: HttpApp, deps: CaseRouteDeps): void {
  readRoutes(app, deps);
  workRoutes(app, deps);
  decisionRoutes(app, deps);
}

const operatorOf = (deps: CaseRouteDeps, req: FastifyRequest) => {
  const p = deps.ctx.auth.principal(req);
  return { operatorId: p.subject, actor: `operator:${p.subject}` };
};

function readRoutes(app: HttpApp, deps: CaseRouteDeps): void {
  const { ctx, cases, repo } = deps;
  const read = ctx.auth.require([P.casesRead], { mfa: true, kinds: ['operator'] });

  app.get('/v1/cases', {
    preHandler: read,
    schema: { operationId: 'listCases', tags: [TAG_CASES], security: bearer, summary: 'Cases, newest first, by type, state, assignee, player or overdue', querystring: ListCasesQuery, response: { 200: CasePage, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as ListQuery;
    const limit = q.limit ?? LIMIT_DEFAULT;
    const assignee = q.assignee === 'me' ? operatorOf(deps, req).operatorId : q.assignee;
    const afterId = decodeCursor(q.cursor);
    const rows = await cases.list({
      ...(q.type ? { type: q.type } : {}), ...(q.state ? { state: q.state } : {}), ...(assignee ? { assignee } : {}), ...(q.playerId ? { playerId: q.playerId } : {}),
      ...(q.overdue ? { overdue: true } : {}), ...(afterId ? { afterId } : {}), limit: limit + 1,
    });
    const now = await ctx.clock.now();
    const items = rows.slice(0, limit);
    return { items: items.map((c) => caseView(c, now)), ...(rows.length > limit ? { nextCursor: encodeCursor(items[items.length - 1]!.id) } : {}) };
  });

  app.get('/v1/cases/:caseId', {
    preHandler: read,
    schema: { operationId: 'getCase', tags: [TAG_CASES], security: bearer, summary: 'One case with its full history (every action, with its audit record) and evidence', params: CaseParams, response: { 200: CaseWithHistory, '4xx': Problem } },
  }, async (req) => {
    const found = await cases.get((req.params as { caseId: string }).caseId);
    return { case: caseView(found.record, await ctx.clock.now()), history: found.history, evidence: found.evidence };
  });

  app.get('/v1/cases/:caseId/evidence/:evidenceId', {
    preHandler: read,
    schema: { operationId: 'getCaseEvidence', tags: [TAG_CASES], security: bearer, summary: 'Download one evidence file (checked against its SHA-256; audited)', params: EvidenceParams, response: { '4xx': Problem } },
  }, async (req, reply) => {
    const { caseId, evidenceId } = req.params as { caseId: string; evidenceId: string };
    const file = await cases.downloadEvidence(caseId, evidenceId, operatorOf(deps, req).actor);
    const ascii = file.filename.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
    reply.type(file.contentType).header('content-disposition', `attachment; filename="${ascii}"`);
    return reply.send(file.bytes as never);
  });

  app.get('/v1/holds', {
    preHandler: read,
    schema: { operationId: 'listHolds', tags: [TAG_CASES], security: bearer, summary: 'Holds on a player (active, or all with includeLifted)', querystring: HoldsQuery, response: { 200: HoldList, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { playerId: string; includeLifted?: boolean };
    return { items: (await repo.holdsOf(q.playerId, q.includeLifted ?? false, 200)).map(holdView) };
  });
}

function workRoutes(app: HttpApp, deps: CaseRouteDeps): void {
  const { ctx, cases } = deps;
  const work = ctx.auth.require([P.casesWork], { mfa: true, kinds: ['operator'] });
  const caseIdOf = (req: FastifyRequest) => (req.params as { caseId: string }).caseId;
  const reply201 = async (reply: FastifyReply, caseId: string) => {
    const found = await cases.get(caseId);
    return reply.code(201).send({ case: caseView(found.record, await ctx.clock.now()), history: found.history, evidence: found.evidence });
  };

  app.post('/v1/cases', {
    preHandler: work,
    schema: { operationId: 'createCase', tags: [TAG_CASES], security: bearer, summary: 'Open a case by hand (a complaint, an override request…)', body: OpenCaseBody, response: { 200: CaseWithHistory, 201: CaseWithHistory, '4xx': Problem } },
  }, async (req, reply) => {
    const body = req.body as { type: 'complaint'; subject: string; summary: string; data?: Record<string, unknown> };
    const { caseId } = await cases.open({ type: body.type, subject: body.subject, summary: body.summary, data: body.data ?? {} });
    return reply201(reply, caseId);
  });

  app.post('/v1/cases/:caseId/assignment', {
    preHandler: work,
    schema: { operationId: 'assignCase', tags: [TAG_CASES], security: bearer, summary: 'Assign the case to an operator (`me` for yourself) or unassign it (null)', params: CaseParams, body: AssignBody, response: { 200: CaseWithHistory, '4xx': Problem } },
  }, async (req) => {
    const op = operatorOf(deps, req);
    const raw = (req.body as { assignee: string | null }).assignee;
    const assignee = raw === 'me' ? op.operatorId : raw;
    if (assignee !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(assignee)) {
      throw new DomainError('validation-failed', 400, 'Your request parameters did not validate', 'assignee is an operator id, `me` or null.', {}, [{ pointer: '/body/assignee', detail: 'must be an operator id, `me` or null' }]);
    }
    await cases.assign(caseIdOf(req), assignee, op.actor);
    const found = await cases.get(caseIdOf(req));
    return { case: caseView(found.record, await ctx.clock.now()), history: found.history, evidence: found.evidence };
  });

  app.post('/v1/cases/:caseId/notes', {
    preHandler: work,
    schema: { operationId: 'addCaseNote', tags: [TAG_CASES], security: bearer, summary: 'Add a note (kept encrypted with the player’s personal data)', params: CaseParams, body: NoteBody, response: { 201: CaseWithHistory, '4xx': Problem } },
  }, async (req, reply) => {
    await cases.addNote(caseIdOf(req), (req.body as { text: string }).text, operatorOf(deps, req).actor);
    return reply201(reply, caseIdOf(req));
  });

  app.post('/v1/cases/:caseId/evidence', {
    preHandler: work,
    bodyLimit: Math.ceil(ctx.config.complianceEvidenceMaxBytes * 4 / 3) + 64 * 1024,
    schema: { operationId: 'addCaseEvidence', tags: [TAG_CASES], security: bearer, summary: 'Attach an evidence file (base64); its SHA-256 and size are recorded, the bytes go to the object store', params: CaseParams, body: EvidenceBody, response: { 201: CaseWithHistory, '4xx': Problem } },
  }, async (req, reply) => {
    const body = req.body as { filename: string; contentType: string; contentBase64: string };
    await cases.addEvidence(caseIdOf(req), { filename: body.filename, contentType: body.contentType, bytes: Buffer.from(body.contentBase64, 'base64') }, operatorOf(deps, req).actor);
    return reply201(reply, caseIdOf(req));
  });
}

function decisionRoutes(app: HttpApp, deps: CaseRouteDeps): void {
  const { ctx, cases, decisions } = deps;
  const decide = ctx.auth.require([P.casesDecide], { mfa: true, stepUp: true, kinds: ['operator'] });
  const full = async (caseId: string) => {
    const found = await cases.get(caseId);
    return { case: caseView(found.record, await ctx.clock.now()), history: found.history, evidence: found.evidence };
  };

  app.post('/v1/cases/:caseId/decisions', {
    preHandler: decide,
    schema: {
      operationId: 'decideCase', tags: [TAG_CASES], security: bearer,
      summary: 'Decide the case with a reason; four-eyes outcomes wait for a second operator’s approval',
      params: CaseParams, body: DecideBody, response: { 200: CaseWithHistory, '4xx': Problem },
    },
  }, async (req) => {
    const caseId = (req.params as { caseId: string }).caseId;
    await decisions.decide(caseId, req.body as DecideInput, operatorOf(deps, req));
    return full(caseId);
  });

  app.post('/v1/cases/:caseId/reopen', {
    preHandler: decide,
    schema: { operationId: 'reopenCase', tags: [TAG_CASES], security: bearer, summary: 'Reopen a closed case (within the reopen window), with a reason', params: CaseParams, body: ReopenBody, response: { 200: CaseWithHistory, '4xx': Problem } },
  }, async (req) => {
    const caseId = (req.params as { caseId: string }).caseId;
    await decisions.reopen(caseId, (req.body as { reason: string }).reason, operatorOf(deps, req));
    return full(caseId);
  });
}
