/** The entrant's routes: start an attempt at a competition's skill test, and answer it. */
import type { FastifyRequest } from 'fastify';
import { PlayerPermissions, Problems, type HttpApp } from '@verity/kernel';
import { Problem } from '../bank/contracts.ts';
import type { PartContext } from '../contract.ts';
import { imageView } from '../skill-tests/routes.ts';
import type { TestsService } from '../skill-tests/service.ts';
import { AnswerBody, AnswerDto, AttemptDto, AttemptParams, StartParams, TAG_ATTEMPTS } from './contracts.ts';
import type { AnswerInput, AttemptsService, AttemptView } from './service.ts';

const bearer = [{ bearer: [] }];
const PLAYER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function registerAttemptRoutes(app: HttpApp, deps: { ctx: PartContext; attempts: AttemptsService; tests: TestsService }): void {
  const { ctx, attempts, tests } = deps;
  const entrant = ctx.auth.require([PlayerPermissions.skillAnswer], { kinds: ['player'] });
  const playerOf = (req: FastifyRequest) => {
    const id = ctx.auth.principal(req).subject;
    if (!PLAYER_ID.test(id)) throw Problems.forbidden('Skill tests need an account registered with Verity.');
    return id;
  };

  const attemptView = async (v: AttemptView) => {
    const image = v.test.kind === 'spot-the-ball' && v.test.imageId ? await tests.image(v.test.imageId) : undefined;
    return {
      attemptId: v.attempt.id, competitionId: v.attempt.competitionId, kind: v.attempt.kind, ...(v.question ? { question: v.question } : {}),
      ...(image ? { image: imageView(image), maxPlacements: v.test.maxPlacementsPerToken ?? 1 } : {}),
      startedAt: v.attempt.startedAt.toISOString(), expiresAt: v.attempt.expiresAt.toISOString(), attemptsLeft: v.attemptsLeft,
    };
  };

  app.post('/v1/competitions/:competitionId/skill-test/attempts', {
    preHandler: entrant,
    schema: {
      operationId: 'startSkillTest', tags: [TAG_ATTEMPTS], security: bearer,
      summary: 'Start an attempt: a question drawn at random (or the spot-the-ball image) and the time by which to answer',
      description: 'While an attempt is open, starting again returns it (200) rather than drawing another question. Unsuccessful attempts are limited per window (429 with Retry-After).',
      params: StartParams, response: { 200: AttemptDto, 201: AttemptDto, '4xx': Problem },
    },
  }, async (req, reply) => {
    const { view, resumed } = await attempts.start(playerOf(req), (req.params as { competitionId: string }).competitionId.toLowerCase());
    return reply.code(resumed ? 200 : 201).send(await attemptView(view));
  });

  app.post('/v1/skill-test/attempts/:attemptId/answer', {
    preHandler: entrant,
    schema: {
      operationId: 'answerSkillTest', tags: [TAG_ATTEMPTS], security: bearer,
      summary: 'Answer an attempt once, before it expires: passed with a pass token, or failed with the attempts left',
      params: AttemptParams, body: AnswerBody, response: { 200: AnswerDto, '4xx': Problem },
    },
  }, async (req) => {
    const r = await attempts.answer(playerOf(req), (req.params as { attemptId: string }).attemptId.toLowerCase(), req.body as AnswerInput);
    if (r.outcome === 'failed') return { attemptId: r.attemptId, outcome: r.outcome, attemptsLeft: r.attemptsLeft };
    return {
      attemptId: r.attemptId, outcome: r.outcome, token: r.token, tokenId: r.tokenId, tokenExpiresAt: r.tokenExpiresAt.toISOString(),
      ...(r.placements !== undefined ? { placements: r.placements } : {}),
    };
  });
}
