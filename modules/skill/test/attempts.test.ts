import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  answer, approvedQuestion, configureMultipleChoice, expectProblem, expectStatus, offsetClock, player, publishCompetition, setSkillConfig, startAttempt,
  startSkillPlatform, waitForCompetition, type SkillPlatform,
} from './support/skill.ts';

describe('skill test attempts', () => {
  const clock = offsetClock();
  let s: SkillPlatform;
  before(async () => {
    s = await startSkillPlatform({ clock });
  });
  after(() => s?.p.stop());

  /** A published competition whose test draws from `n` fresh approved questions. */
  async function competitionWith(n: number) {
    const category = `cat-${randomUUID().slice(0, 8)}`;
    const questions = [];
    for (let i = 0; i < n; i++) questions.push(await approvedQuestion(s, { category }));
    const competitionId = randomUUID();
    await configureMultipleChoice(s, competitionId, { category });
    await publishCompetition(s, competitionId);
    return { competitionId, questions };
  }

  const wrongOption = (correct: string) => (correct === 'a' ? 'b' : 'a');
  const correctFor = async (attemptId: string) =>
    (await s.p.db.one<{ correct_option_id: string }>('select v.correct_option_id from skill.attempts a join skill.question_versions v on v.id = a.question_version_id where a.id = $1', [attemptId])).correct_option_id;
  const versionOf = async (attemptId: string) => (await s.p.db.one<{ question_version_id: string }>('select question_version_id from skill.attempts where id = $1', [attemptId])).question_version_id;

  it('when entrants start the test, then each gets a question drawn at random from the approved pool', async () => {
    const { competitionId, questions } = await competitionWith(3);
    const drawn = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const entrant = await player(s);
      const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'startSkillTest');
      drawn.add(await versionOf(started.attemptId));
    }
    // All twelve the same would happen with probability 3 · (1/3)¹² ≈ 6·10⁻⁶.
    assert.ok(drawn.size >= 2, `only ${drawn.size} distinct question drawn`);
    for (const v of drawn) assert.ok(questions.some((q) => q.versionId === v));
  });

  it('when an entrant answers wrong, then the next draw avoids that question, and past the limit they are refused with Retry-After', async () => {
    await setSkillConfig(s, 'attempts.per-window', 2);
    try {
      const { competitionId } = await competitionWith(2);
      const entrant = await player(s);
      const first = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start 1');
      assert.equal(first.attemptsLeft, 1);
      const failed = expectStatus(await answer(s, entrant.accessToken, first.attemptId, { optionId: wrongOption(await correctFor(first.attemptId)) }), 200, 'answer 1');
      assert.deepEqual(failed, { attemptId: first.attemptId, outcome: 'failed', attemptsLeft: 1 });
      const second = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start 2');
      assert.notEqual(await versionOf(second.attemptId), await versionOf(first.attemptId));
      const failedAgain = expectStatus(await answer(s, entrant.accessToken, second.attemptId, { optionId: wrongOption(await correctFor(second.attemptId)) }), 200, 'answer 2');
      assert.equal(failedAgain.attemptsLeft, 0);
      const refused = await startAttempt(s, entrant.accessToken, competitionId);
      expectProblem(refused, 429, 'skill-attempts-exhausted');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter > 86_000 && retryAfter <= 86_400, `retry-after ${retryAfter}`);
    } finally {
      await setSkillConfig(s, 'attempts.per-window', 3);
    }
  });

  it('when an entrant starts again while an attempt is open, then they get the same attempt back, not a new question', async () => {
    const { competitionId } = await competitionWith(3);
    const entrant = await player(s);
    const first = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    const again = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 200, 'start again');
    assert.equal(again.attemptId, first.attemptId);
    assert.deepEqual(again.question, first.question);
    assert.equal(again.expiresAt, first.expiresAt);
  });

  it('when the answer comes after the time limit by the platform clock, then it is refused and the attempt counts as expired', async () => {
    await setSkillConfig(s, 'multiple-choice.time-limit-s', 5);
    try {
      const { competitionId } = await competitionWith(1);
      const entrant = await player(s);
      const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
      assert.equal(Date.parse(started.expiresAt) - Date.parse(started.startedAt), 5000);
      clock.advance(6000);
      expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: await correctFor(started.attemptId) }), 409, 'skill-attempt-expired');
      expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: await correctFor(started.attemptId) }), 409, 'skill-attempt-answered');
      const row = await s.p.db.one<{ state: string; token_id: string | null }>('select state, token_id from skill.attempts where id = $1', [started.attemptId]);
      assert.deepEqual(row, { state: 'expired', token_id: null });
    } finally {
      await setSkillConfig(s, 'multiple-choice.time-limit-s', 45);
    }
  });

  it('when an entrant passes, then the token verifies only for them, this competition, unaltered and before it expires', async () => {
    const { competitionId } = await competitionWith(1);
    const other = await competitionWith(1);
    const entrant = await player(s);
    const stranger = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    const passed = expectStatus(await answer(s, entrant.accessToken, started.attemptId, { optionId: await correctFor(started.attemptId) }), 200, 'answer');
    assert.equal(passed.outcome, 'passed');
    const verify = (token: string, playerId = entrant.playerId, competition = competitionId) => s.skill.verifyPassToken({ token, playerId, competitionId: competition });
    const ok = await verify(passed.token);
    assert.equal(ok.valid, true);
    assert.equal(ok.valid && ok.tokenId, passed.tokenId);
    assert.equal(ok.valid && ok.expiresAt.toISOString(), passed.tokenExpiresAt);
    assert.deepEqual(await verify(passed.token, stranger.playerId), { valid: false, reason: 'wrong-player' });
    assert.deepEqual(await verify(passed.token, entrant.playerId, other.competitionId), { valid: false, reason: 'wrong-competition' });
    const tampered = passed.token.slice(0, -2) + (passed.token.endsWith('AA') ? 'BB' : 'AA');
    assert.deepEqual(await verify(tampered), { valid: false, reason: 'bad-signature' });
    assert.deepEqual(await verify('vpt1.garbage'), { valid: false, reason: 'malformed' });
    clock.advance(601_000);
    assert.deepEqual(await verify(passed.token), { valid: false, reason: 'expired' });
  });

  it('when the same attempt is answered twice at once, then there is one outcome and one token', async () => {
    const { competitionId } = await competitionWith(1);
    for (let round = 0; round < 4; round++) {
      const entrant = await player(s);
      const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
      const optionId = await correctFor(started.attemptId);
      const results = await Promise.all([answer(s, entrant.accessToken, started.attemptId, { optionId }), answer(s, entrant.accessToken, started.attemptId, { optionId })]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
      expectProblem(results.find((r) => r.status === 409)!, 409, 'skill-attempt-answered');
      const tokens = await s.p.db.one<{ n: bigint }>('select count(token_id) as n from skill.attempts where id = $1', [started.attemptId]);
      assert.equal(tokens.n, 1n);
    }
  });

  it('when a purchase consumes the token, then skill records the token as used by that purchase', async () => {
    const { competitionId } = await competitionWith(1);
    const entrant = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    const passed = expectStatus(await answer(s, entrant.accessToken, started.attemptId, { optionId: await correctFor(started.attemptId) }), 200, 'answer');
    const purchaseId = randomUUID();
    await s.ticketing.publish([{
      type: 'ticketing.tickets-purchased.v1', subject: competitionId,
      data: { purchaseId, competitionId, playerId: entrant.playerId, skillTokenId: passed.tokenId, tickets: [{ ticketId: randomUUID(), number: 1 }], amountMinor: '199', currency: 'GBP' },
    }]);
    await waitFor(async () => (await s.p.db.maybeOne('select 1 from skill.attempts where token_id = $1 and purchase_id = $2 and token_used_at is not null', [passed.tokenId, purchaseId])) !== undefined, { what: 'the token to be marked used' });
  });

  it('when the competition has closed, then no attempt starts and an open one cannot be answered', async () => {
    const { competitionId } = await competitionWith(1);
    const entrant = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    await s.ticketing.publish([{ type: 'ticketing.competition-closed.v1', subject: competitionId, data: { competitionId, closedAt: new Date().toISOString(), sold: 0, voided: 0, postal: 0, validEntries: 0 } }]);
    await waitForCompetition(s, competitionId, 'closed');
    expectProblem(await startAttempt(s, (await player(s)).accessToken, competitionId), 409, 'competition-not-open');
    expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: await correctFor(started.attemptId) }), 409, 'competition-not-open');
  });

  it('when an answer is malformed or not the entrant\'s, then a problem says so and the attempt stays open', async () => {
    const { competitionId } = await competitionWith(1);
    const entrant = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: 'z' }), 400, 'validation-failed');
    expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: 'e' }), 400, 'validation-failed');
    expectProblem(await answer(s, entrant.accessToken, started.attemptId, { placements: [{ x: 1, y: 1 }] }), 400, 'validation-failed');
    expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: 'a', extra: 1 }), 400, 'validation-failed');
    expectProblem(await answer(s, (await player(s)).accessToken, started.attemptId, { optionId: 'a' }), 404, 'not-found');
    expectProblem(await answer(s, entrant.accessToken, randomUUID(), { optionId: 'a' }), 404, 'not-found');
    expectProblem(await startAttempt(s, entrant.accessToken, randomUUID()), 404, 'skill-test-not-found');
    expectProblem(await startAttempt(s, s.author.accessToken, competitionId), 403, 'forbidden');
    const row = await s.p.db.one<{ state: string }>('select state from skill.attempts where id = $1', [started.attemptId]);
    assert.equal(row.state, 'open');
  });
});
