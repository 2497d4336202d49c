import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  answer, approvedQuestion, configureMultipleChoice, expectStatus, player, setSkillConfig, startAttempt, startSkillPlatform, type SkillPlatform,
} from './support/skill.ts';

describe('skill question pass rates', () => {
  let s: SkillPlatform;
  before(async () => {
    s = await startSkillPlatform();
  });
  after(() => s?.p.stop());

  async function answerOnce(competitionId: string, correct: boolean) {
    const entrant = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    const row = await s.p.db.one<{ correct_option_id: string }>('select v.correct_option_id from skill.attempts a join skill.question_versions v on v.id = a.question_version_id where a.id = $1', [started.attemptId]);
    const optionId = correct ? row.correct_option_id : row.correct_option_id === 'a' ? 'b' : 'a';
    return expectStatus(await answer(s, entrant.accessToken, started.attemptId, { optionId }), 200, 'answer');
  }

  it('when a question\'s pass rate over enough answers rises above the threshold, then one alert is raised, audited, announced, and the question suspended', async () => {
    await setSkillConfig(s, 'pass-rate-alert', { minAnswers: 4, maxPassRateBp: 7000, suspendQuestion: true });
    const q = await approvedQuestion(s);
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { questionIds: [q.questionId] });

    // 2 of 3 pass: under the minimum number of answers, whatever the rate.
    for (const correct of [true, false, true]) await answerOnce(competitionId, correct);
    assert.equal((await s.p.http.get('/v1/skill/alerts', s.author.accessToken)).body.items.filter((a: { questionId: string }) => a.questionId === q.questionId).length, 0);
    // 3 of 4 = 75 % > 70 %: the alert.
    await answerOnce(competitionId, true);

    const alerts = expectStatus(await s.p.http.get('/v1/skill/alerts', s.author.accessToken), 200, 'alerts').items.filter((a: { questionId: string }) => a.questionId === q.questionId);
    assert.equal(alerts.length, 1);
    assert.deepEqual({ ...alerts[0], alertId: undefined, raisedAt: undefined }, {
      alertId: undefined, raisedAt: undefined, questionId: q.questionId, questionVersionId: q.versionId, answers: 4, passes: 3, passRateBp: 7500, maxPassRateBp: 7000, minAnswers: 4, suspended: true,
    });
    const event = await s.p.db.one<{ data: Record<string, unknown> }>("select data from skill.outbox where type = 'skill.question-pass-rate-alert.v1' and subject = $1", [q.questionId]);
    assert.equal(event.data.alertId, alerts[0].alertId);
    const audit = await s.p.db.query('select 1 from kernel.audit_log where action = $1 and subject = $2', ['skill.question-pass-rate-alert', `question:${q.questionId}`]);
    assert.equal(audit.length, 1);

    const question = expectStatus(await s.p.http.get(`/v1/skill/questions/${q.questionId}`, s.author.accessToken), 200, 'get');
    assert.equal(question.status, 'suspended');
    assert.deepEqual(question.versions[0].stats, { answers: 4, passes: 3, passRateBp: 7500, firstTryAnswers: 4, firstTryPasses: 3, firstTryPassRateBp: 7500 });
    const readiness = await s.skill.getTestForCompetition({ competitionId });
    assert.equal(readiness.ready, false);
    const metrics = (await s.p.http.get('/metrics')).body as string;
    assert.match(metrics, /^skill_question_pass_rate_alerts 1$/m);
    assert.match(metrics, /^skill_questions_suspended 1$/m);
  });

  it('when the rate stays above the threshold, then no second alert is raised for the same version', async () => {
    await setSkillConfig(s, 'pass-rate-alert', { minAnswers: 2, maxPassRateBp: 5000, suspendQuestion: false });
    const q = await approvedQuestion(s);
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { questionIds: [q.questionId] });
    for (let i = 0; i < 4; i++) await answerOnce(competitionId, true);
    const alerts = (await s.p.http.get('/v1/skill/alerts?limit=100', s.author.accessToken)).body.items.filter((a: { questionId: string }) => a.questionId === q.questionId);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].answers, 2);
    assert.equal(alerts[0].suspended, false);
    assert.equal((await s.skill.getTestForCompetition({ competitionId })).ready, true);
  });
});
