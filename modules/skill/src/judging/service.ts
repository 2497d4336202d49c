/**
 * Spot-the-ball judging after the competition closes: two different judges each record a point;
 * agreeing points give the judged point, disagreeing ones call a third judge. Then every placement
 * on a valid ticket is ranked by the published rule, the ranking hashed, and the result — judges'
 * points, image SHA-256, judged point, winners, ranking hash — audited and announced.
 */
import { DomainError, PgError, Problems, pgCode } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { judgedPoint, judgingNotOpen, rankingHasher, sameJudge, type JudgingOutcome, type Point } from '../domain/spot-the-ball.ts';
import { SKILL_EVENTS, type SpotTheBallJudgedV1 } from '../events.ts';
import type { SkillSettings } from '../settings.ts';
import type { CompetitionRow, ImageRow, TestRow, TestsInternals } from '../skill-tests/service.ts';
import type { JudgementRow, JudgingRepository, ResultRow } from './repository.ts';

const HASH_PAGE = 10_000;
/** Winners quoted in the audit record (all of them are in the result, the event and the ranking). */
const AUDIT_WINNERS_MAX = 20;

export type JudgingState = 'not-spot-the-ball' | 'awaiting-close' | 'awaiting-judges' | 'needs-third-judge' | 'judged' | 'cancelled';

export interface JudgingStatus {
  competitionId: string;
  state: JudgingState;
  tolerancePx: number;
  image?: ImageRow;
  judgements: JudgementRow[];
  result?: ResultRow;
}

export function createJudgingService(ctx: PartContext, deps: { repo: JudgingRepository; tests: TestsInternals; settings: SkillSettings }) {
  const { db } = ctx;
  const { repo, tests, settings } = deps;

  function stateOf(test: TestRow | undefined, competition: CompetitionRow | undefined, outcome: JudgingOutcome, result: ResultRow | undefined): JudgingState {
    if (!test || test.kind !== 'spot-the-ball') return 'not-spot-the-ball';
    if (result) return 'judged';
    if (competition?.state === 'cancelled') return 'cancelled';
    if (competition?.state !== 'closed') return 'awaiting-close';
    return outcome.state === 'needs-third-judge' ? 'needs-third-judge' : 'awaiting-judges';
  }

  async function status(competitionId: string): Promise<JudgingStatus> {
    const test = await tests.service.byCompetition(competitionId);
    const competition = await tests.service.competition(competitionId);
    const judgements = await repo.judgements(competitionId);
    const tolerancePx = await settings.judgeTolerancePx.get();
    const result = await repo.result(competitionId);
    const image = test?.imageId ? await tests.service.image(test.imageId) : undefined;
    const state = stateOf(test, competition, judgedPoint(judgements, tolerancePx), result);
    return { competitionId, state, tolerancePx, ...(image ? { image } : {}), judgements, ...(result ? { result } : {}) };
  }

  /** Judging opens once the competition closed and every ticket sold for it is known here. */
  async function assertOpen(competitionId: string): Promise<{ test: TestRow; image: ImageRow; competition: CompetitionRow }> {
    const test = await tests.service.byCompetition(competitionId);
    if (!test || test.kind !== 'spot-the-ball' || !test.imageId) throw judgingNotOpen('This is not a spot-the-ball competition.');
    const competition = await tests.service.competition(competitionId);
    if (!competition || competition.state !== 'closed') throw judgingNotOpen(`The competition is ${competition?.state ?? 'not closed yet'}; judging starts when it closes.`);
    const expected = competition.sold !== null ? competition.sold - (competition.voided ?? 0) : undefined;
    const known = await repo.validTickets(competitionId);
    if (expected !== undefined && known < expected) {
      throw new DomainError('judging-entries-incomplete', 409, 'Entries still arriving', `Ticketing reported ${expected} valid tickets and ${known} are recorded here so far. Retry in a moment.`, { expected, known });
    }
    const image = await tests.service.image(test.imageId);
    if (!image) throw new Error(`spot-the-ball test ${test.id} has no image row`);
    return { test, image, competition };
  }

  async function record(competitionId: string, point: Point, judge: string): Promise<JudgingStatus> {
    await db.tx(async () => {
      if (!(await repo.lockCompetition(competitionId))) throw judgingNotOpen('The competition is not closed yet; judging starts when it closes.');
      const { image, competition } = await assertOpen(competitionId);
      if (await repo.result(competitionId)) throw new DomainError('judging-complete', 409, 'Judging is complete', 'The judged point is already set for this competition.');
      const tolerancePx = await settings.judgeTolerancePx.get();
      const before = await repo.judgements(competitionId);
      if (before.some((j) => j.judge === judge)) throw sameJudge();
      if (point.x >= image.width || point.y >= image.height) throw Problems.validation([{ pointer: point.x >= image.width ? '/body/x' : '/body/y', detail: `must lie on the ${image.width}×${image.height} image` }]);
      const at = await ctx.clock.now();
      await insertJudgement(competitionId, before.length + 1, judge, point, at);
      // Only the round goes into this record: the points are revealed together with the result.
      await ctx.audit.record({ actor: judge, action: 'skill.judgement-recorded', subject: `competition:${competitionId}`, data: { competitionId, round: before.length + 1 } });
      const judgements = [...before, { round: before.length + 1, judge, ...point, recordedAt: at }];
      const outcome = judgedPoint(judgements, tolerancePx);
      if (outcome.state === 'judged') await finalise(competition, image, judgements, outcome, tolerancePx, at);
    });
    return status(competitionId);
  }

  async function insertJudgement(competitionId: string, round: number, judge: string, point: Point, at: Date): Promise<void> {
    try {
      await repo.insertJudgement(competitionId, round, judge, point, at);
    } catch (err) {
      if (pgCode(err) === PgError.uniqueViolation) throw sameJudge();
      throw err;
    }
  }

  async function rankingHash(competitionId: string): Promise<string> {
    const hasher = rankingHasher();
    for (let after = 0; ;) {
      const rows = await repo.ranking(competitionId, after, HASH_PAGE);
      for (const r of rows) hasher.add(r);
      if (rows.length < HASH_PAGE) return hasher.digest();
      after = rows[rows.length - 1]!.rank;
    }
  }

  async function finalise(competition: CompetitionRow, image: ImageRow, judgements: JudgementRow[], outcome: Extract<JudgingOutcome, { state: 'judged' }>, tolerancePx: number, at: Date): Promise<void> {
    const { competitionId } = competition;
    const entries = await repo.rank(competitionId, outcome.point);
    const hash = await rankingHash(competitionId);
    const winners = (await repo.ranking(competitionId, 0, competition.winners)).map((r) => ({ rank: r.rank, ticketId: r.ticketId, ticketNumber: r.ticketNumber, distanceSq: r.distanceSq }));
    const audit = await ctx.audit.record({
      actor: 'system', action: 'skill.spot-the-ball-judged', subject: `competition:${competitionId}`,
      data: {
        competitionId, imageSha256: image.sha256, tolerancePx, method: outcome.method, judgedPoint: outcome.point,
        judgements: judgements.map((j) => ({ round: j.round, judge: j.judge, x: j.x, y: j.y })), entries, rankingHash: hash,
        winners: winners.slice(0, AUDIT_WINNERS_MAX), winnersTotal: winners.length,
      },
    });
    await repo.insertResult({ competitionId, judgedX: outcome.point.x, judgedY: outcome.point.y, method: outcome.method, imageSha256: image.sha256, entries, rankingHash: hash, winners, auditId: audit.id }, at);
    const data: SpotTheBallJudgedV1 = { competitionId, judgedPoint: outcome.point, winners, imageSha256: image.sha256, rankingHash: hash, entries };
    await ctx.events.publish({ type: SKILL_EVENTS.spotTheBallJudged, subject: competitionId, data });
  }

  return { status, record, ranking: repo.ranking };
}

export type JudgingService = ReturnType<typeof createJudgingService>;
