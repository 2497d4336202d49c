import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  approvedQuestion, configureMultipleChoice, expectProblem, expectStatus, player, publishCompetition, setSkillConfig, startAttempt, startSkillPlatform, type SkillPlatform,
} from './support/skill.ts';

describe('skill tests of competitions', () => {
  let s: SkillPlatform;
  before(async () => {
    s = await startSkillPlatform();
  });
  after(() => s?.p.stop());

  it('when no test is configured, then the competition is reported not ready, with the reason', async () => {
    const r = await s.skill.getTestForCompetition({ competitionId: randomUUID() });
    assert.deepEqual(r, { configured: false, ready: false, problems: ['No skill test is configured for this competition.'] });
  });

  it('when a multiple-choice test is configured from approved questions, then it is ready and its summary reads the current rules', async () => {
    const a = await approvedQuestion(s);
    const b = await approvedQuestion(s);
    const competitionId = randomUUID();
    const test = await configureMultipleChoice(s, competitionId, { questionIds: [a.questionId, b.questionId], postalQuestionId: a.questionId });
    assert.equal(test.readiness.ready, true);
    assert.equal(test.postalQuestionVersionId, a.versionId);
    const r = await s.skill.getTestForCompetition({ competitionId });
    assert.equal(r.ready, true);
    assert.equal(r.kind, 'multiple-choice');
    assert.equal(r.testId, test.testId);
    assert.match(r.summary!, /from 2 approved questions, within 45 seconds/);
    await setSkillConfig(s, 'multiple-choice.time-limit-s', 30);
    assert.match((await s.skill.getTestForCompetition({ competitionId })).summary!, /within 30 seconds/);
    await setSkillConfig(s, 'multiple-choice.time-limit-s', 45);
  });

  it('when every question of a test is retired, then the test is no longer ready and entrants are told no question is available', async () => {
    const q = await approvedQuestion(s);
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { questionIds: [q.questionId] });
    expectStatus(await s.p.http.post(`/v1/skill/questions/${q.questionId}/retirement`, { reason: 'Out of date' }, s.approver.accessToken), 200, 'retire');
    const r = await s.skill.getTestForCompetition({ competitionId });
    assert.equal(r.ready, false);
    assert.deepEqual(r.problems, ['None of the test\'s questions has an approved version in use.']);
    expectProblem(await startAttempt(s, (await player(s)).accessToken, competitionId), 409, 'skill-test-unavailable');
  });

  it('when a postal answer is graded, then the published postal question decides, by option text or label', async () => {
    const postal = await approvedQuestion(s, { text: 'Which river runs through London?', options: ['Seine', 'Thames', 'Danube'], correctOption: 1 });
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { questionIds: [postal.questionId], postalQuestionId: postal.questionId });
    assert.deepEqual(await s.skill.gradePostalAnswer({ competitionId, answer: ' thames ' }), { correct: true, questionVersionId: postal.versionId });
    assert.deepEqual(await s.skill.gradePostalAnswer({ competitionId, answer: 'B' }), { correct: true, questionVersionId: postal.versionId });
    assert.deepEqual(await s.skill.gradePostalAnswer({ competitionId, answer: 'Seine' }), { correct: false, questionVersionId: postal.versionId });
    // Revising the question later does not change what was published for this competition.
    const revised = expectStatus(await s.p.http.post(`/v1/skill/questions/${postal.questionId}/versions`, { text: 'Which river runs through Paris?', options: ['Seine', 'Thames', 'Danube'], correctOption: 0, category: 'geography', difficulty: 'easy' }, s.author.accessToken), 201, 'revise');
    expectStatus(await s.p.http.post(`/v1/skill/questions/${postal.questionId}/versions/${revised.versions[0].versionId}/decision`, { decision: 'approve' }, s.approver.accessToken), 200, 'approve');
    assert.equal((await s.skill.gradePostalAnswer({ competitionId, answer: 'Thames' })).correct, true);
    const without = randomUUID();
    await configureMultipleChoice(s, without, { questionIds: [postal.questionId] });
    await assert.rejects(s.skill.gradePostalAnswer({ competitionId: without, answer: 'Thames' }), { code: 'postal-question-not-configured' });
  });

  it('when the competition is published, then its test is frozen: reconfiguring is refused', async () => {
    const q = await approvedQuestion(s);
    const competitionId = randomUUID();
    const first = await configureMultipleChoice(s, competitionId, { questionIds: [q.questionId] });
    const second = await configureMultipleChoice(s, competitionId, { category: 'geography' });
    assert.equal(second.testId, first.testId);
    assert.equal(second.revision, 2);
    await publishCompetition(s, competitionId);
    const frozen = await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'multiple-choice', questionIds: [q.questionId] }, s.author.accessToken);
    expectProblem(frozen, 409, 'skill-test-frozen');
    const read = expectStatus(await s.p.http.get(`/v1/skill/tests/${first.testId}`, s.author.accessToken), 200, 'getSkillTest');
    assert.ok(read.frozenAt);
    const audit = await s.p.db.query<{ action: string }>('select action from kernel.audit_log where subject = $1 order by sequence', [`competition:${competitionId}`]);
    assert.deepEqual(audit.map((a) => a.action), ['skill.test-configured', 'skill.test-configured', 'skill.test-frozen']);
  });

  it('when a test configuration is malformed, then a 400 problem names the field', async () => {
    const competitionId = randomUUID();
    expectProblem(await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'multiple-choice' }, s.author.accessToken), 400, 'validation-failed');
    const unknown = await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'multiple-choice', questionIds: [randomUUID()] }, s.author.accessToken);
    expectProblem(unknown, 400, 'validation-failed');
    assert.equal(unknown.body.errors[0].pointer, '/body/questionIds/0');
    expectProblem(await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'spot-the-ball', imageId: randomUUID(), maxPlacementsPerToken: 3 }, s.author.accessToken), 400, 'validation-failed');
    expectProblem(await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'lottery' }, s.author.accessToken), 400, 'validation-failed');
    expectProblem(await s.p.http.post('/v1/skill/tests', { competitionId: 'nope', kind: 'multiple-choice', category: 'geography' }, s.author.accessToken), 400, 'validation-failed');
  });

  it('when an entrant reads a competition\'s test, then they see its rules and limits, not its questions', async () => {
    const q = await approvedQuestion(s);
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { questionIds: [q.questionId] });
    const entrant = await player(s);
    const view = expectStatus(await s.p.http.get(`/v1/competitions/${competitionId}/skill-test`, entrant.accessToken), 200, 'getCompetitionSkillTest');
    assert.deepEqual({ ...view, summary: undefined }, { competitionId, kind: 'multiple-choice', ready: true, summary: undefined, timeLimitSeconds: 45, attemptsPerWindow: 3, attemptWindowSeconds: 86_400 });
  });
});
