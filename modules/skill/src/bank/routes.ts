/**
 * Question bank routes (operators with skill-tests:manage and MFA; decisions and retirement also
 * need a fresh sign-in). Operators see the correct answers; entrants never reach these routes.
 */
import type { FastifyRequest } from 'fastify';
import { OperatorPermissions as P, idempotencyKeyHeaders, type HttpApp } from '@verity/kernel';
import { operatorActor, type PartContext } from '../contract.ts';
import { passRateBp } from '../domain/attempt.ts';
import type { QuestionDraft } from '../domain/question.ts';
import { decodeCursor, page } from '../paging.ts';
import {
  AlertPage, AlertsQuery, DecisionBody, ListQuestionsQuery, Problem, QuestionDraftBody, QuestionDto, QuestionPage, QuestionParams, RetireBody, TAG_BANK, VersionParams,
} from './contracts.ts';
import type { AlertRow, QuestionRow, VersionRow, VersionStats } from './repository.ts';
import type { BankService, QuestionWithVersions } from './service.ts';

const bearer = [{ bearer: [] }];
const opt = (k: string, v: Date | string | null | undefined) => (v === null || v === undefined ? {} : { [k]: v instanceof Date ? v.toISOString() : v });

export const statsView = (s: VersionStats) => ({
  answers: s.answers, passes: s.passes, passRateBp: passRateBp(s.answers, s.passes),
  firstTryAnswers: s.firstTryAnswers, firstTryPasses: s.firstTryPasses, firstTryPassRateBp: passRateBp(s.firstTryAnswers, s.firstTryPasses),
});

const versionView = (v: VersionRow, s: VersionStats | undefined) => ({
  versionId: v.id, version: v.version, state: v.state, text: v.text, options: v.options, correctOptionId: v.correctOptionId, category: v.category,
  difficulty: v.difficulty, authoredBy: v.authoredBy, authoredAt: v.authoredAt.toISOString(), ...opt('decidedBy', v.decidedBy), ...opt('decidedAt', v.decidedAt),
  ...opt('decisionReason', v.decisionReason), ...opt('suspendedAt', v.suspendedAt), ...opt('alertedAt', v.alertedAt),
  stats: statsView(s ?? { answers: 0, passes: 0, firstTryAnswers: 0, firstTryPasses: 0 }),
});

function statusOf(q: QuestionRow, active: VersionRow | undefined): 'active' | 'awaiting-approval' | 'suspended' | 'retired' {
  if (q.retiredAt) return 'retired';
  if (active?.state === 'suspended') return 'suspended';
  return active?.state === 'approved' ? 'active' : 'awaiting-approval';
}

export function questionView(q: QuestionRow, versions: VersionRow[], stats: Map<string, VersionStats>) {
  const active = versions.find((v) => v.id === q.activeVersionId);
  return {
    questionId: q.id, status: statusOf(q, active), ...opt('activeVersionId', q.activeVersionId), createdBy: q.createdBy, createdAt: q.createdAt.toISOString(),
    ...opt('retiredAt', q.retiredAt), ...opt('retiredBy', q.retiredBy), ...opt('retireReason', q.retireReason),
    versions: versions.map((v) => versionView(v, stats.get(v.id))),
  };
}

const fullView = (r: QuestionWithVersions) => questionView(r.question, r.versions, r.stats);

export const alertView = (a: AlertRow) => ({
  alertId: a.id, questionId: a.questionId, questionVersionId: a.versionId, answers: a.answers, passes: a.passes, passRateBp: a.passRateBp,
  maxPassRateBp: a.maxPassRateBp, minAnswers: a.minAnswers, suspended: a.suspended, raisedAt: a.raisedAt.toISOString(),
});

export function registerBankRoutes(app: HttpApp, deps: { ctx: PartContext; bank: BankService }): void {
  const { ctx, bank } = deps;
  const manage = ctx.auth.require([P.skillTestsManage], { mfa: true, kinds: ['operator'] });
  const decide = ctx.auth.require([P.skillTestsManage], { mfa: true, stepUp: true, kinds: ['operator'] });
  const actor = (req: FastifyRequest) => operatorActor(ctx.auth.principal(req).subject);
  const params = (req: FastifyRequest) => req.params as { questionId: string; versionId: string };

  app.post('/v1/skill/questions', {
    preHandler: manage,
    schema: {
      operationId: 'createSkillQuestion', tags: [TAG_BANK], security: bearer, summary: 'Write a multiple-choice question (version 1, pending until another operator approves it)',
      headers: idempotencyKeyHeaders(), body: QuestionDraftBody, response: { 201: QuestionDto, '4xx': Problem },
    },
  }, ctx.idempotency.wrap(async (req: FastifyRequest, reply) => reply.code(201).send(fullView(await bank.create(req.body as QuestionDraft, actor(req))) as never)));

  app.post('/v1/skill/questions/:questionId/versions', {
    preHandler: manage,
    schema: {
      operationId: 'reviseSkillQuestion', tags: [TAG_BANK], security: bearer,
      summary: 'Edit a question: a new version, pending approval again (the approved one stays in use until then)',
      params: QuestionParams, body: QuestionDraftBody, response: { 201: QuestionDto, '4xx': Problem },
    },
  }, async (req, reply) => reply.code(201).send(fullView(await bank.revise(params(req).questionId, req.body as QuestionDraft, actor(req))) as never));

  app.post('/v1/skill/questions/:questionId/versions/:versionId/decision', {
    preHandler: decide,
    schema: {
      operationId: 'decideSkillQuestionVersion', tags: [TAG_BANK], security: bearer,
      summary: 'Approve or reject a pending version; never the version\'s own author (four eyes)',
      params: VersionParams, body: DecisionBody, response: { 200: QuestionDto, '4xx': Problem },
    },
  }, async (req) => fullView(await bank.decide(params(req).questionId, params(req).versionId, req.body as { decision: 'approve' | 'reject'; reason?: string }, actor(req))));

  app.post('/v1/skill/questions/:questionId/retirement', {
    preHandler: decide,
    schema: { operationId: 'retireSkillQuestion', tags: [TAG_BANK], security: bearer, summary: 'Retire a question: it is no longer drawn for anyone', params: QuestionParams, body: RetireBody, response: { 200: QuestionDto, '4xx': Problem } },
  }, async (req) => fullView(await bank.retire(params(req).questionId, (req.body as { reason: string }).reason, actor(req))));

  app.get('/v1/skill/questions/:questionId', {
    preHandler: manage,
    schema: { operationId: 'getSkillQuestion', tags: [TAG_BANK], security: bearer, summary: 'A question with every version and its answer statistics', params: QuestionParams, response: { 200: QuestionDto, '4xx': Problem } },
  }, async (req) => fullView(await bank.get(params(req).questionId)));

  app.get('/v1/skill/questions', {
    preHandler: manage,
    schema: {
      operationId: 'listSkillQuestions', tags: [TAG_BANK], security: bearer, summary: 'Questions, newest first, with their latest and active versions and pass rates',
      querystring: ListQuestionsQuery, response: { 200: QuestionPage, '4xx': Problem },
    },
  }, async (req) => {
    const q = req.query as { category?: string; status?: 'active' | 'pending' | 'retired'; cursor?: string; limit?: number };
    const limit = q.limit ?? 25;
    const afterId = decodeCursor(q.cursor);
    const rows = await bank.list({ ...(q.category ? { category: q.category } : {}), ...(q.status ? { status: q.status } : {}), ...(afterId ? { afterId } : {}), limit: limit + 1 });
    const versions = rows.flatMap((r) => (r.active && r.active.id !== r.latest.id ? [r.latest, r.active] : [r.latest]));
    const stats = await bank.stats(versions.map((v) => v.id));
    return page(rows, limit, (r) => r.question.id, (r) => questionView(r.question, r.active && r.active.id !== r.latest.id ? [r.latest, r.active] : [r.latest], stats));
  });

  app.get('/v1/skill/alerts', {
    preHandler: manage,
    schema: {
      operationId: 'listSkillPassRateAlerts', tags: [TAG_BANK], security: bearer,
      summary: 'Questions whose pass rate rose above the configured threshold (they no longer deter enough entrants), newest first',
      querystring: AlertsQuery, response: { 200: AlertPage, '4xx': Problem },
    },
  }, async (req) => {
    const q = req.query as { cursor?: string; limit?: number };
    const limit = q.limit ?? 25;
    return page(await bank.alerts(decodeCursor(q.cursor), limit + 1), limit, (a) => a.id, alertView);
  });
}
