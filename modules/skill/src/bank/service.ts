/**
 * The question bank: write a question (version 1, pending), revise it (a new pending version),
 * approve or reject a version (another operator: four eyes), retire a question; answer statistics
 * per version and the pass-rate alert that says a question no longer deters enough entrants.
 */
import { randomInt } from 'node:crypto';
import { DomainError, Problems, uuidv7 } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { checkDecision, questionRetired, toContent, type QuestionDraft } from '../domain/question.ts';
import { passRateBp, passRateExceeded } from '../domain/attempt.ts';
import { SKILL_EVENTS, type QuestionPassRateAlertV1 } from '../events.ts';
import type { SkillSettings } from '../settings.ts';
import { STATS_SHARDS, type AlertRow, type BankRepository, type QuestionRow, type VersionRow, type VersionStats } from './repository.ts';

export const questionNotFound = () => Problems.notFound('question');

export interface QuestionWithVersions {
  question: QuestionRow;
  versions: VersionRow[];
  stats: Map<string, VersionStats>;
}

export function createBankService(ctx: PartContext, deps: { repo: BankRepository; settings: SkillSettings }) {
  const { db } = ctx;
  const { repo, settings } = deps;

  async function lockLive(questionId: string): Promise<QuestionRow> {
    const q = await repo.question(questionId, true);
    if (!q) throw questionNotFound();
    if (q.retiredAt) throw questionRetired();
    return q;
  }

  async function recordVersion(v: VersionRow, actor: string, action: 'created' | 'revised'): Promise<void> {
    await ctx.audit.record({
      actor, action: `skill.question-${action}`, subject: `question:${v.questionId}`,
      data: { questionId: v.questionId, versionId: v.id, version: v.version, category: v.category, difficulty: v.difficulty, options: v.options.length },
    });
  }

  async function create(draft: QuestionDraft, actor: string): Promise<QuestionWithVersions> {
    const content = toContent(draft);
    const questionId = uuidv7();
    await db.tx(async () => {
      await repo.insertQuestion(questionId, actor);
      const v = await repo.insertVersion({ id: uuidv7(), questionId, ...content, authoredBy: actor });
      await recordVersion(v, actor, 'created');
    });
    return get(questionId);
  }

  async function revise(questionId: string, draft: QuestionDraft, actor: string): Promise<QuestionWithVersions> {
    const content = toContent(draft);
    await db.tx(async () => {
      await lockLive(questionId);
      const v = await repo.insertVersion({ id: uuidv7(), questionId, ...content, authoredBy: actor });
      await repo.supersedePending(questionId, v.id);
      await recordVersion(v, actor, 'revised');
    });
    return get(questionId);
  }

  async function decide(questionId: string, versionId: string, input: { decision: 'approve' | 'reject'; reason?: string }, actor: string): Promise<QuestionWithVersions> {
    if (input.decision === 'reject' && !input.reason) throw Problems.validation([{ pointer: '/body/reason', detail: 'is required to reject a version' }]);
    await db.tx(async () => {
      await lockLive(questionId);
      const v = await repo.version(versionId, true);
      if (!v || v.questionId !== questionId) throw Problems.notFound('question version');
      checkDecision(v, actor);
      const at = await ctx.clock.now();
      await repo.decide(versionId, input.decision === 'approve' ? 'approved' : 'rejected', actor, input.reason ?? null, at);
      if (input.decision === 'approve') await repo.activate(questionId, versionId);
      await ctx.audit.record({
        actor, action: input.decision === 'approve' ? 'skill.question-approved' : 'skill.question-rejected', subject: `question:${questionId}`,
        ...(input.reason ? { reason: input.reason } : {}), data: { questionId, versionId, version: v.version, authoredBy: v.authoredBy },
      });
    });
    return get(questionId);
  }

  async function retire(questionId: string, reason: string, actor: string): Promise<QuestionWithVersions> {
    await db.tx(async () => {
      await lockLive(questionId);
      await repo.retire(questionId, actor, reason, await ctx.clock.now());
      await ctx.audit.record({ actor, action: 'skill.question-retired', subject: `question:${questionId}`, reason, data: { questionId } });
    });
    return get(questionId);
  }

  async function get(questionId: string): Promise<QuestionWithVersions> {
    const question = await repo.question(questionId);
    if (!question) throw questionNotFound();
    const versions = await repo.versionsOf(questionId);
    return { question, versions, stats: await repo.stats(versions.map((v) => v.id)) };
  }

  /**
   * Counts one answer to a version (inside the answering transaction) and raises the pass-rate
   * alert the first time the rule is exceeded: an alert row, an audit record, an event, and the
   * version suspended when the rule says so.
   */
  async function recordAnswer(version: VersionRow, passed: boolean, firstTry: boolean): Promise<void> {
    const totals = await repo.countAnswer(version.id, randomInt(STATS_SHARDS), passed, firstTry);
    const rule = await settings.passRateAlert.get();
    if (!passRateExceeded(totals, rule)) return;
    const at = await ctx.clock.now();
    if (!(await repo.markAlerted(version.id, at))) return;
    if (rule.suspendQuestion) await repo.suspend(version.id, at);
    const alert = await repo.insertAlert({
      id: uuidv7(), questionId: version.questionId, versionId: version.id, answers: totals.answers, passes: totals.passes,
      passRateBp: passRateBp(totals.answers, totals.passes), maxPassRateBp: rule.maxPassRateBp, minAnswers: rule.minAnswers, suspended: rule.suspendQuestion,
    }, at);
    const data: QuestionPassRateAlertV1 = {
      alertId: alert.id, questionId: alert.questionId, questionVersionId: alert.versionId, answers: alert.answers, passes: alert.passes,
      passRateBp: alert.passRateBp, maxPassRateBp: alert.maxPassRateBp, suspended: alert.suspended,
    };
    await ctx.audit.record({ actor: 'system', action: 'skill.question-pass-rate-alert', subject: `question:${version.questionId}`, data: { ...data } });
    await ctx.events.publish({ type: SKILL_EVENTS.questionPassRateAlert, subject: version.questionId, data });
    ctx.log.warn({ questionId: version.questionId, versionId: version.id, passRateBp: alert.passRateBp }, 'skill question pass rate above threshold');
  }

  async function alerts(afterId: string | undefined, limit: number): Promise<AlertRow[]> {
    return repo.alerts(afterId, limit);
  }

  return { create, revise, decide, retire, get, list: repo.list, usableVersions: repo.usableVersions, version: repo.version, stats: repo.stats, recordAnswer, alerts };
}

export type BankService = ReturnType<typeof createBankService>;

export const noUsableQuestion = () =>
  new DomainError('skill-test-unavailable', 409, 'No question available', 'This competition\'s skill test has no approved question available right now. Try again later.');
