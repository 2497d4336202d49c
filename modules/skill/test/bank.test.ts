import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { operatorSession } from '@verity/identity/testing';
import {
  approvedQuestion, configureMultipleChoice, expectProblem, expectStatus, player, questionBody, startAttempt, startSkillPlatform, type SkillPlatform,
} from './support/skill.ts';

describe('skill question bank', () => {
  let s: SkillPlatform;
  before(async () => {
    s = await startSkillPlatform();
  });
  after(() => s?.p.stop());

  const decide = (token: string, questionId: string, versionId: string, body: unknown) =>
    s.p.http.post(`/v1/skill/questions/${questionId}/versions/${versionId}/decision`, body, token);

  it('when the author approves their own question, then it is refused as four-eyes-required and stays pending', async () => {
    const created = expectStatus(await s.p.http.post('/v1/skill/questions', questionBody(), s.author.accessToken), 201, 'create');
    assert.equal(created.status, 'awaiting-approval');
    assert.equal(created.versions[0].state, 'pending');
    const self = await decide(s.author.accessToken, created.questionId, created.versions[0].versionId, { decision: 'approve' });
    expectProblem(self, 403, 'four-eyes-required');
    const still = expectStatus(await s.p.http.get(`/v1/skill/questions/${created.questionId}`, s.author.accessToken), 200, 'get');
    assert.equal(still.versions[0].state, 'pending');
    assert.equal(still.activeVersionId, undefined);
  });

  it('when another operator approves, then the version is active; an edit is a new pending version while the approved one stays in use', async () => {
    const q = await approvedQuestion(s);
    const revised = expectStatus(
      await s.p.http.post(`/v1/skill/questions/${q.questionId}/versions`, questionBody({ text: 'Which river runs through London?', options: ['Seine', 'Thames', 'Danube'], correctOption: 1 }), s.approver.accessToken),
      201,
      'revise',
    );
    assert.deepEqual(revised.versions.map((v: { version: number; state: string }) => [v.version, v.state]), [[2, 'pending'], [1, 'approved']]);
    assert.equal(revised.activeVersionId, q.versionId);
    assert.equal(revised.status, 'active');
    // The reviser wrote version 2, so the first author may approve it; the reviser may not.
    expectProblem(await decide(s.approver.accessToken, q.questionId, revised.versions[0].versionId, { decision: 'approve' }), 403, 'four-eyes-required');
    const approved = expectStatus(await decide(s.author.accessToken, q.questionId, revised.versions[0].versionId, { decision: 'approve' }), 200, 'approve v2');
    assert.deepEqual(approved.versions.map((v: { version: number; state: string }) => [v.version, v.state]), [[2, 'approved'], [1, 'superseded']]);
    assert.equal(approved.activeVersionId, revised.versions[0].versionId);
    const audit = await s.p.db.query<{ action: string }>("select action from kernel.audit_log where subject = $1 order by sequence", [`question:${q.questionId}`]);
    assert.deepEqual(audit.map((a) => a.action), ['skill.question-created', 'skill.question-approved', 'skill.question-revised', 'skill.question-approved']);
  });

  it('when a version is rejected without a reason, then 400; with one, it is rejected and cannot be decided again', async () => {
    const created = expectStatus(await s.p.http.post('/v1/skill/questions', questionBody(), s.author.accessToken), 201, 'create');
    const versionId = created.versions[0].versionId;
    const noReason = await decide(s.approver.accessToken, created.questionId, versionId, { decision: 'reject' });
    expectProblem(noReason, 400, 'validation-failed');
    assert.equal(noReason.body.errors[0].pointer, '/body/reason');
    const rejected = expectStatus(await decide(s.approver.accessToken, created.questionId, versionId, { decision: 'reject', reason: 'Too easy to guess' }), 200, 'reject');
    assert.equal(rejected.versions[0].state, 'rejected');
    assert.equal(rejected.versions[0].decisionReason, 'Too easy to guess');
    expectProblem(await decide(s.approver.accessToken, created.questionId, versionId, { decision: 'approve' }), 409, 'question-version-not-pending');
  });

  it('when a question is retired, then it is listed as retired and a test can no longer be configured with it', async () => {
    const q = await approvedQuestion(s, { category: 'retiring' });
    const retired = expectStatus(await s.p.http.post(`/v1/skill/questions/${q.questionId}/retirement`, { reason: 'Answer became ambiguous' }, s.approver.accessToken), 200, 'retire');
    assert.equal(retired.status, 'retired');
    const listed = expectStatus(await s.p.http.get('/v1/skill/questions?category=retiring&status=retired', s.author.accessToken), 200, 'list');
    assert.deepEqual(listed.items.map((i: { questionId: string }) => i.questionId), [q.questionId]);
    const res = await s.p.http.post('/v1/skill/tests', { competitionId: randomUUID(), kind: 'multiple-choice', questionIds: [q.questionId] }, s.author.accessToken);
    expectProblem(res, 400, 'validation-failed');
    assert.equal(res.body.errors[0].pointer, '/body/questionIds/0');
  });

  it('when a question is malformed, then a 400 problem points at the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [questionBody({ options: ['Only', 'Two'] }), '/body/options'],
      [questionBody({ options: ['London', 'london ', 'Paris'] }), '/body/options/1'],
      [questionBody({ options: ['A1', 'B2', 'C3'], correctOption: 3 }), '/body/correctOption'],
      [{ ...questionBody(), category: 'Not Valid' }, '/body/category'],
      [{ ...questionBody(), surprise: true }, '/body/surprise'],
    ];
    for (const [body, pointer] of cases) {
      const res = await s.p.http.post('/v1/skill/questions', body, s.author.accessToken);
      expectProblem(res, 400, 'validation-failed');
      assert.ok(res.body.errors.some((e: { pointer: string }) => e.pointer === pointer), `${pointer} in ${JSON.stringify(res.body.errors)}`);
    }
  });

  it('when an operator lacks skill-tests:manage or a player asks, then the bank is closed to them', async () => {
    const support = await operatorSession(s.p, ['support']);
    assert.equal((await s.p.http.get('/v1/skill/questions', support.accessToken)).status, 403);
    const entrant = await player(s);
    assert.equal((await s.p.http.post('/v1/skill/questions', questionBody(), entrant.accessToken)).status, 403);
  });

  it('when an entrant gets a question, then the correct option is nowhere in what they receive', async () => {
    const q = await approvedQuestion(s, { category: 'secrecy' });
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { questionIds: [q.questionId] });
    const entrant = await player(s);
    const res = await startAttempt(s, entrant.accessToken, competitionId);
    const body = expectStatus(res, 201, 'startSkillTest');
    assert.equal(body.question.options.length, 4);
    assert.ok(!JSON.stringify(body).includes('correct'), JSON.stringify(body));
    assert.deepEqual(Object.keys(body.question).sort(), ['options', 'text']);
  });

  it('when questions are listed, then each shows its versions with answer statistics, newest first, a page at a time', async () => {
    for (let i = 0; i < 3; i++) await approvedQuestion(s, { category: 'paging' });
    const first = expectStatus(await s.p.http.get('/v1/skill/questions?category=paging&limit=2', s.author.accessToken), 200, 'list');
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const second = expectStatus(await s.p.http.get(`/v1/skill/questions?category=paging&limit=2&cursor=${first.nextCursor}`, s.author.accessToken), 200, 'list 2');
    assert.equal(second.items.length, 1);
    assert.deepEqual(first.items[0].versions[0].stats, { answers: 0, passes: 0, passRateBp: 0, firstTryAnswers: 0, firstTryPasses: 0, firstTryPassRateBp: 0 });
    expectProblem(await s.p.http.get('/v1/skill/questions?cursor=bm9wZQ', s.author.accessToken), 400, 'validation-failed');
  });
});
