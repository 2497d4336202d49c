/**
 * Judging routes: judges (skill-tests:manage, MFA, fresh sign-in) record their points; anyone signed
 * in reads the judging — the points only once it is complete — and the full ranking behind it.
 */
import type { FastifyRequest } from 'fastify';
import { OperatorPermissions as P, type HttpApp } from '@verity/kernel';
import { Problem } from '../bank/contracts.ts';
import { operatorActor, type PartContext } from '../contract.ts';
import { JUDGED_POINT_RULE, RANKING_HASH_HEADER, TIE_BREAK } from '../domain/spot-the-ball.ts';
import { JudgementBody, JudgingDto, JudgingParams, RankingPage, RankingQuery, TAG_JUDGING } from './contracts.ts';
import type { JudgingService, JudgingStatus } from './service.ts';

const bearer = [{ bearer: [] }];
const HASH_RULE = `SHA-256 (hex) of "${RANKING_HASH_HEADER.trim()}\\n" followed by one line per ranked placement: "rank,ticketId,ticketNumber,x,y,distanceSq,placementSeq\\n".`;

function judgingView(s: JudgingStatus, operator: boolean) {
  const r = s.result;
  return {
    competitionId: s.competitionId, state: s.state, rules: { judgedPoint: JUDGED_POINT_RULE, tieBreak: TIE_BREAK, tolerancePx: s.tolerancePx, rankingHash: HASH_RULE },
    ...(s.image ? { imageSha256: s.image.sha256, image: { imageId: s.image.id, width: s.image.width, height: s.image.height } } : {}),
    roundsRecorded: s.judgements.length,
    // Judges work blind: nobody sees a point before the judged point is set.
    ...(r ? { judgements: s.judgements.map((j) => ({ round: j.round, ...(operator ? { judge: j.judge } : {}), x: j.x, y: j.y, recordedAt: j.recordedAt.toISOString() })) } : {}),
    ...(r ? {
      result: {
        judgedPoint: { x: r.judgedX, y: r.judgedY }, method: r.method, entries: r.entries, rankingHash: r.rankingHash, winners: r.winners,
        auditId: r.auditId, judgedAt: r.judgedAt.toISOString(),
      },
    } : {}),
  };
}

export function registerJudgingRoutes(app: HttpApp, deps: { ctx: PartContext; judging: JudgingService }): void {
  const { ctx, judging } = deps;
  const judge = ctx.auth.require([P.skillTestsManage], { mfa: true, stepUp: true, kinds: ['operator'] });
  const signedIn = ctx.auth.require([]);
  const competitionOf = (req: FastifyRequest) => (req.params as { competitionId: string }).competitionId.toLowerCase();
  const isOperator = (req: FastifyRequest) => ctx.auth.principal(req).kind === 'operator';

  app.post('/v1/competitions/:competitionId/skill-test/judgements', {
    preHandler: judge,
    schema: {
      operationId: 'recordSpotTheBallJudgement', tags: [TAG_JUDGING], security: bearer,
      summary: 'Record your judged point (each round a different judge); the second agreeing point, or a third, sets the result',
      params: JudgingParams, body: JudgementBody, response: { 200: JudgingDto, '4xx': Problem },
    },
  }, async (req) => judgingView(await judging.record(competitionOf(req), req.body as { x: number; y: number }, operatorActor(ctx.auth.principal(req).subject)), true));

  app.get('/v1/competitions/:competitionId/skill-test/judging', {
    preHandler: signedIn,
    schema: { operationId: 'getSpotTheBallJudging', tags: [TAG_JUDGING], security: bearer, summary: 'The judging of a spot-the-ball competition: rules, state, and once complete the points, result and ranking hash', params: JudgingParams, response: { 200: JudgingDto, '4xx': Problem } },
  }, async (req) => judgingView(await judging.status(competitionOf(req)), isOperator(req)));

  app.get('/v1/competitions/:competitionId/skill-test/ranking', {
    preHandler: signedIn,
    schema: { operationId: 'listSpotTheBallRanking', tags: [TAG_JUDGING], security: bearer, summary: 'The full ranking behind the result, in rank order (recompute the ranking hash from it)', params: JudgingParams, querystring: RankingQuery, response: { 200: RankingPage, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { afterRank?: number; limit?: number };
    const limit = q.limit ?? 100;
    const rows = await judging.ranking(competitionOf(req), q.afterRank ?? 0, limit + 1);
    const items = rows.slice(0, limit);
    return {
      items: items.map((r) => ({ rank: r.rank, ticketId: r.ticketId, ticketNumber: r.ticketNumber, x: r.x, y: r.y, distanceSq: r.distanceSq, placementSeq: r.placementSeq.toString() })),
      ...(rows.length > limit ? { nextAfterRank: items[items.length - 1]!.rank } : {}),
    };
  });
}
