/**
 * The entrant's side of a skill test: start an attempt (a question drawn at random, a time limit,
 * limited attempts per window), answer it once, in time, on the server; a pass yields a short-lived
 * signed token bound to the player and the competition, which ticketing verifies and consumes.
 */
import { randomInt } from 'node:crypto';
import { DomainError, Problems, uuidv7 } from '@verity/kernel';
import type { VersionRow } from '../bank/repository.ts';
import { noUsableQuestion, type BankService } from '../bank/service.ts';
import type { PartContext, PassTokenCheck } from '../contract.ts';
import { answerIsLate, attemptAnswered, attemptExpired, attemptsExhausted, attemptsLeft, move } from '../domain/attempt.ts';
import { checkPlacements, type Point } from '../domain/spot-the-ball.ts';
import { checkPassToken, signPassToken, TOKEN_KEY_PURPOSE, type Mac } from '../domain/token.ts';
import type { SkillSettings } from '../settings.ts';
import type { TestRow, TestsInternals } from '../skill-tests/service.ts';
import { testNotFound } from '../skill-tests/service.ts';
import type { AttemptRow, AttemptsRepository } from './repository.ts';

export interface AttemptView {
  attempt: AttemptRow;
  question?: { text: string; options: { id: string; text: string }[] };
  test: TestRow;
  attemptsLeft: number;
}

export type AnswerInput = { optionId: string } | { placements: Point[] };

export type AnswerResult =
  | { outcome: 'passed'; attemptId: string; token: string; tokenId: string; tokenExpiresAt: Date; placements?: number }
  | { outcome: 'failed'; attemptId: string; attemptsLeft: number };

const attemptNotFound = () => Problems.notFound('attempt');
const competitionNotOpen = (detail: string) => new DomainError('competition-not-open', 409, 'The competition is not open for entries', detail);

export function createAttemptsService(ctx: PartContext, deps: { repo: AttemptsRepository; bank: BankService; tests: TestsInternals; settings: SkillSettings }) {
  const { db } = ctx;
  const { repo, bank, tests, settings } = deps;
  const mac: Mac = (input) => ctx.crypto.keyedHash(TOKEN_KEY_PURPOSE, input);

  /** Entries close with the competition: a closed, cancelled or past-closing competition takes no attempt. */
  async function assertOpen(competitionId: string, now: Date): Promise<void> {
    const c = await tests.service.competition(competitionId);
    if (c?.state === 'closed' || c?.state === 'cancelled') throw competitionNotOpen(`The competition is ${c.state}.`);
    if (c?.closesAt && now.getTime() >= c.closesAt.getTime()) throw competitionNotOpen('The competition has closed.');
  }

  /** A random usable question, not the one the entrant failed last when another is available. */
  async function drawQuestion(test: TestRow, lastFailed: string | null): Promise<VersionRow> {
    const usable = await bank.usableVersions(test.questionIds ? { questionIds: test.questionIds } : { category: test.category! });
    if (usable.length === 0) throw noUsableQuestion();
    const candidates = usable.length > 1 ? usable.filter((v) => v.id !== lastFailed) : usable;
    return candidates[randomInt(candidates.length)]!;
  }

  async function view(attempt: AttemptRow, test: TestRow, left: number): Promise<AttemptView> {
    if (!attempt.questionVersionId) return { attempt, test, attemptsLeft: left };
    const v = await bank.version(attempt.questionVersionId);
    // Entrants get the text and the options: never which one is correct.
    return { attempt, test, attemptsLeft: left, ...(v ? { question: { text: v.text, options: v.options } } : {}) };
  }

  async function start(playerId: string, competitionId: string): Promise<{ view: AttemptView; resumed: boolean }> {
    const test = await tests.service.byCompetition(competitionId);
    if (!test) throw testNotFound();
    const [perWindow, windowS] = [await settings.attemptsPerWindow.get(), await settings.attemptWindowS.get()];
    const timeLimitS = test.kind === 'spot-the-ball' ? await settings.spotTheBallTimeLimitS.get() : await settings.multipleChoiceTimeLimitS.get();
    return db.tx(async () => {
      const entrant = await repo.lockEntrant(playerId, competitionId);
      const now = await ctx.clock.now();
      await assertOpen(competitionId, now);
      await repo.expireStale(playerId, competitionId, now);
      const since = new Date(now.getTime() - windowS * 1000);
      const used = await repo.unsuccessfulSince(playerId, competitionId, since);
      // Starting again while an attempt is open returns that attempt: reloading never draws another question.
      const open = await repo.openAttempt(playerId, competitionId);
      if (open) return { view: await view(open, test, attemptsLeft(perWindow, used.count)), resumed: true };
      if (used.count >= perWindow) {
        const retryAfterS = Math.max(1, Math.ceil((used.oldest!.getTime() + windowS * 1000 - now.getTime()) / 1000));
        throw attemptsExhausted(perWindow, retryAfterS);
      }
      const question = test.kind === 'multiple-choice' ? await drawQuestion(test, entrant.lastFailedVersionId) : undefined;
      const attempt = await repo.insert({
        id: uuidv7(), testId: test.id, competitionId, playerId, kind: test.kind, attemptNo: await repo.nextAttemptNo(playerId, competitionId),
        questionVersionId: question?.id ?? null, startedAt: now, expiresAt: new Date(now.getTime() + timeLimitS * 1000),
      });
      return { view: await view(attempt, test, attemptsLeft(perWindow, used.count + 1)), resumed: false };
    });
  }

  async function issueToken(a: AttemptRow, now: Date, placements?: number) {
    const ttlS = await settings.passTokenTtlS.get();
    const tokenId = uuidv7();
    const exp = Math.floor(now.getTime() / 1000) + ttlS;
    const token = signPassToken({ tokenId, playerId: a.playerId, competitionId: a.competitionId, exp, ...(placements !== undefined ? { placements } : {}) }, mac);
    return { token, tokenId, tokenExpiresAt: new Date(exp * 1000) };
  }

  async function answerChoice(a: AttemptRow, input: AnswerInput, now: Date): Promise<AnswerResult> {
    if (!('optionId' in input)) throw Problems.validation([{ pointer: '/body/optionId', detail: 'is required: this attempt is a multiple-choice question' }]);
    const version = await bank.version(a.questionVersionId!);
    if (!version) throw new Error(`attempt ${a.id} names a question version that does not exist`);
    if (!version.options.some((o) => o.id === input.optionId)) throw Problems.validation([{ pointer: '/body/optionId', detail: 'is not one of the question\'s options' }]);
    const passed = input.optionId === version.correctOptionId;
    await bank.recordAnswer(version, passed, a.attemptNo === 1);
    if (passed) {
      const t = await issueToken(a, now);
      await repo.settle(a.id, { state: move(a.state, 'pass'), at: now, optionId: input.optionId, tokenId: t.tokenId, tokenExpiresAt: t.tokenExpiresAt });
      return { outcome: 'passed', attemptId: a.id, ...t };
    }
    await repo.settle(a.id, { state: move(a.state, 'fail'), at: now, optionId: input.optionId });
    await repo.setLastFailed(a.playerId, a.competitionId, version.id);
    const windowS = await settings.attemptWindowS.get();
    const used = await repo.unsuccessfulSince(a.playerId, a.competitionId, new Date(now.getTime() - windowS * 1000));
    return { outcome: 'failed', attemptId: a.id, attemptsLeft: attemptsLeft(await settings.attemptsPerWindow.get(), used.count) };
  }

  async function answerPlacements(a: AttemptRow, input: AnswerInput, now: Date): Promise<AnswerResult> {
    if (!('placements' in input)) throw Problems.validation([{ pointer: '/body/placements', detail: 'is required: this attempt is spot-the-ball' }]);
    const test = await tests.service.byId(a.testId);
    const image = test?.imageId ? await tests.service.image(test.imageId) : undefined;
    if (!test || !image) throw new Error(`spot-the-ball attempt ${a.id} has no test image`);
    checkPlacements(input.placements, image, test.maxPlacementsPerToken ?? 1);
    await repo.insertPlacements(a.id, a.competitionId, input.placements, now);
    const t = await issueToken(a, now, input.placements.length);
    await repo.settle(a.id, { state: move(a.state, 'pass'), at: now, tokenId: t.tokenId, tokenExpiresAt: t.tokenExpiresAt, placements: input.placements.length });
    return { outcome: 'passed', attemptId: a.id, ...t, placements: input.placements.length };
  }

  /** Answers an attempt once: the row lock makes concurrent answers queue, and the second finds it settled. */
  async function answer(playerId: string, attemptId: string, input: AnswerInput): Promise<AnswerResult> {
    const result = await db.tx(async () => {
      const a = await repo.lock(attemptId);
      if (!a || a.playerId !== playerId) throw attemptNotFound();
      if (a.state !== 'open') throw attemptAnswered(a.state);
      const now = await ctx.clock.now();
      if (answerIsLate(now, a.expiresAt)) {
        // Committed before refusing: the attempt stays expired and counts against the limit.
        await repo.expire(a.id);
        return 'late' as const;
      }
      await assertOpen(a.competitionId, now);
      return a.kind === 'multiple-choice' ? answerChoice(a, input, now) : answerPlacements(a, input, now);
    });
    if (result === 'late') throw attemptExpired();
    return result;
  }

  /** Signature, binding and expiry, without a database write (the purchase path runs this). */
  async function verifyPassToken(input: { token: string; playerId: string; competitionId: string }): Promise<PassTokenCheck> {
    const nowMs = (await ctx.clock.now()).getTime();
    const check = checkPassToken(input.token, { playerId: input.playerId, competitionId: input.competitionId, nowMs }, mac);
    if (!check.valid) return check;
    const p = check.payload;
    return { valid: true, tokenId: p.tokenId, expiresAt: new Date(p.exp * 1000), ...(p.placements !== undefined ? { placements: p.placements } : {}) };
  }

  return { start, answer, verifyPassToken };
}

export type AttemptsService = ReturnType<typeof createAttemptsService>;
