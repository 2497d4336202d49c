/**
 * The skill test of each competition: an operator configures it (multiple choice from approved
 * questions or a category, with an optional postal question; or spot-the-ball on an uploaded
 * image); ticketing asks whether it is ready before publishing; publication freezes it. Also the
 * spot-the-ball images and the grading of free postal entries.
 */
import { DomainError, Problems, uuidv7 } from '@verity/kernel';
import type { BankService } from '../bank/service.ts';
import type { PartContext, PostalGrade, SkillTestKind, TestForCompetition } from '../contract.ts';
import { dimensionsAcceptable, IMAGE_DIMENSION_MAX, readImageInfo } from '../domain/image.ts';
import { isCorrectWrittenAnswer } from '../domain/question.ts';
import type { SkillSettings } from '../settings.ts';
import type { CompetitionRow, ImageRow, TestConfig, TestRow, TestsRepository } from './repository.ts';

export const IMAGE_MAX_BYTES = 5 * 1024 * 1024;

export type ConfigureInput =
  | { competitionId: string; kind: 'multiple-choice'; questionIds?: string[]; category?: string; postalQuestionId?: string }
  | { competitionId: string; kind: 'spot-the-ball'; imageId: string; maxPlacementsPerToken: number };

export const testNotFound = () => new DomainError('skill-test-not-found', 404, 'No skill test', 'This competition has no skill test configured.');
const frozen = () => new DomainError('skill-test-frozen', 409, 'The skill test is published', 'The competition is published: its skill test can no longer change.');
const competitionOver = (state: string) => new DomainError('competition-not-open', 409, 'The competition is over', `The competition is ${state}.`, { state });
const invalid = (pointer: string, detail: string) => Problems.validation([{ pointer, detail }]);

export function createTestsService(ctx: PartContext, deps: { repo: TestsRepository; bank: BankService; settings: SkillSettings }) {
  const { db } = ctx;
  const { repo, bank, settings } = deps;

  /** The configuration as stored, after checking every question and image it names. */
  async function resolve(input: ConfigureInput): Promise<TestConfig> {
    if (input.kind === 'spot-the-ball') {
      if (!(await repo.image(input.imageId))) throw invalid('/body/imageId', 'is not an uploaded image');
      return { kind: input.kind, questionIds: null, category: null, postalVersionId: null, imageId: input.imageId, maxPlacementsPerToken: input.maxPlacementsPerToken };
    }
    if ((input.questionIds === undefined) === (input.category === undefined)) throw invalid('/body', 'give either questionIds or category');
    const questionIds = input.questionIds ? [...new Set(input.questionIds.map((q) => q.toLowerCase()))] : null;
    if (questionIds) {
      const usable = new Set((await bank.usableVersions({ questionIds })).map((v) => v.questionId));
      const missing = questionIds.findIndex((q) => !usable.has(q));
      if (missing >= 0) throw invalid(`/body/questionIds/${missing}`, 'has no approved version in use (unknown, pending, suspended or retired)');
    } else if ((await bank.usableVersions({ category: input.category! })).length === 0) {
      throw invalid('/body/category', 'has no approved question');
    }
    let postalVersionId: string | null = null;
    if (input.postalQuestionId) {
      const [postal] = await bank.usableVersions({ questionIds: [input.postalQuestionId] });
      if (!postal) throw invalid('/body/postalQuestionId', 'has no approved version in use');
      // The postal question is pinned to the version approved now: it is what the terms publish.
      postalVersionId = postal.id;
    }
    return { kind: input.kind, questionIds, category: input.category ?? null, postalVersionId, imageId: null, maxPlacementsPerToken: null };
  }

  async function configure(input: ConfigureInput, actor: string): Promise<TestRow> {
    const config = await resolve(input);
    return db.tx(async () => {
      const existing = await repo.byCompetition(input.competitionId, true);
      if (existing?.frozenAt) throw frozen();
      const competition = await repo.competition(input.competitionId);
      if (competition && (competition.state === 'closed' || competition.state === 'cancelled')) throw competitionOver(competition.state);
      const test = await repo.upsert(uuidv7(), input.competitionId, config, actor, await ctx.clock.now());
      await ctx.audit.record({
        actor, action: 'skill.test-configured', subject: `competition:${input.competitionId}`,
        data: { testId: test.id, revision: test.revision, kind: test.kind, questionIds: test.questionIds, category: test.category, postalVersionId: test.postalVersionId, imageId: test.imageId, maxPlacementsPerToken: test.maxPlacementsPerToken },
      });
      return test;
    });
  }

  async function uploadImage(bytes: Buffer, actor: string): Promise<ImageRow> {
    if (bytes.length === 0) throw invalid('/body', 'is empty: send the image\'s bytes');
    if (bytes.length > IMAGE_MAX_BYTES) throw Problems.payloadTooLarge(IMAGE_MAX_BYTES);
    const info = readImageInfo(bytes);
    if (!info) throw new DomainError('image-type-unsupported', 415, 'Unsupported image', 'Upload a PNG or JPEG image (recognised from its content).');
    if (!dimensionsAcceptable(info)) throw invalid('/body', `the image must be 1..${IMAGE_DIMENSION_MAX} pixels wide and high (it is ${info.width}×${info.height})`);
    const stored = await ctx.objects.put(bytes, { contentType: info.contentType });
    return db.tx(async () => {
      const row = await repo.insertImage({ id: uuidv7(), sha256: stored.sha256, objectKey: stored.key, contentType: info.contentType, sizeBytes: bytes.length, width: info.width, height: info.height, uploadedBy: actor });
      await ctx.audit.record({ actor, action: 'skill.image-uploaded', subject: `image:${row.id}`, data: { imageId: row.id, sha256: row.sha256, width: row.width, height: row.height, sizeBytes: row.sizeBytes } });
      return row;
    });
  }

  /** The image's bytes, checked against the SHA-256 recorded at upload. */
  async function imageBytes(imageId: string): Promise<{ image: ImageRow; bytes: Buffer }> {
    const image = await repo.image(imageId);
    if (!image) throw Problems.notFound('image');
    const fetched = await ctx.objects.get(image.objectKey);
    if (fetched.sha256 !== image.sha256) throw new Error(`skill image ${imageId} does not match its recorded SHA-256`);
    return { image, bytes: fetched.bytes };
  }

  async function summaryOf(test: TestRow, usableCount: number): Promise<string> {
    const [perWindow, windowS] = [await settings.attemptsPerWindow.get(), await settings.attemptWindowS.get()];
    const attempts = `Up to ${perWindow} unsuccessful attempts per ${Math.round(windowS / 3600) || 1} hours.`;
    if (test.kind === 'spot-the-ball') {
      return `Spot the ball: place up to ${test.maxPlacementsPerToken} balls on the image within ${await settings.spotTheBallTimeLimitS.get()} seconds, one per ticket. `
        + 'After the competition closes two independent judges set the ball\'s position; the closest placement wins, equal distances going to the earlier placement, then the lower ticket number.';
    }
    const postal = test.postalVersionId ? ' Free postal entry: answer the published postal question.' : '';
    return `Answer one multiple-choice question, drawn at random from ${usableCount} approved questions, within ${await settings.multipleChoiceTimeLimitS.get()} seconds. ${attempts}${postal}`;
  }

  /** What ticketing needs before publishing: is there a test, and can entrants take it now? */
  async function readiness(competitionId: string): Promise<TestForCompetition> {
    const test = await repo.byCompetition(competitionId);
    if (!test) return { configured: false, ready: false, problems: ['No skill test is configured for this competition.'] };
    const problems: string[] = [];
    let usable = 0;
    if (test.kind === 'multiple-choice') {
      usable = (await bank.usableVersions(test.questionIds ? { questionIds: test.questionIds } : { category: test.category! })).length;
      if (usable === 0) problems.push('None of the test\'s questions has an approved version in use.');
    } else if (!test.imageId || !(await repo.image(test.imageId))) problems.push('The spot-the-ball image is missing.');
    const competition = await repo.competition(competitionId);
    if (competition?.state === 'cancelled') problems.push('The competition was cancelled.');
    return { configured: true, ready: problems.length === 0, testId: test.id, kind: test.kind, problems, summary: await summaryOf(test, usable) };
  }

  async function gradePostalAnswer(competitionId: string, answer: string): Promise<PostalGrade> {
    const test = await repo.byCompetition(competitionId);
    if (!test) throw testNotFound();
    if (test.kind !== 'multiple-choice') throw new DomainError('postal-answer-not-supported', 409, 'No postal question', 'Spot-the-ball competitions take no written postal answer.');
    if (!test.postalVersionId) throw new DomainError('postal-question-not-configured', 409, 'No postal question', 'This competition\'s skill test has no postal question.');
    const version = await bank.version(test.postalVersionId);
    if (!version) throw testNotFound();
    return { correct: typeof answer === 'string' && answer.length <= 1000 && isCorrectWrittenAnswer(version, answer), questionVersionId: version.id };
  }

  return { configure, uploadImage, imageBytes, readiness, gradePostalAnswer, byCompetition: repo.byCompetition, byId: repo.byId, image: repo.image, competition: repo.competition };
}

export type TestsService = ReturnType<typeof createTestsService>;

export interface TestsInternals {
  service: TestsService;
  repo: TestsRepository;
}

export type { CompetitionRow, ImageRow, SkillTestKind, TestRow };
