/**
 * Skill test routes: operators configure a competition's test and upload spot-the-ball images;
 * anyone signed in reads a competition's test as an entrant sees it, and its image.
 */
import type { FastifyRequest } from 'fastify';
import { OperatorPermissions as P, Problems, sendProblem, type HttpApp } from '@verity/kernel';
import { Problem } from '../bank/contracts.ts';
import { operatorActor, type PartContext } from '../contract.ts';
import { CompetitionParams, ConfigureBody, EntrantTestDto, ImageDto, ImageParams, TAG_TESTS, TestDto, TestParams } from './contracts.ts';
import type { ImageRow, TestRow } from './repository.ts';
import { IMAGE_MAX_BYTES, testNotFound, type ConfigureInput, type TestsService } from './service.ts';
import type { SkillSettings } from '../settings.ts';

const bearer = [{ bearer: [] }];

export const imageView = (i: ImageRow, operator = false) => ({
  imageId: i.id, sha256: i.sha256, contentType: i.contentType, sizeBytes: i.sizeBytes, width: i.width, height: i.height,
  ...(operator ? { uploadedBy: i.uploadedBy, uploadedAt: i.uploadedAt.toISOString() } : {}),
});

export interface TestRouteDeps {
  ctx: PartContext;
  tests: TestsService;
  settings: SkillSettings;
}

async function testView(deps: TestRouteDeps, t: TestRow) {
  const image = t.imageId ? await deps.tests.image(t.imageId) : undefined;
  return {
    testId: t.id, competitionId: t.competitionId, kind: t.kind, ...(t.questionIds ? { questionIds: t.questionIds } : {}), ...(t.category ? { category: t.category } : {}),
    ...(t.postalVersionId ? { postalQuestionVersionId: t.postalVersionId } : {}), ...(image ? { image: imageView(image, true) } : {}),
    ...(t.maxPlacementsPerToken ? { maxPlacementsPerToken: t.maxPlacementsPerToken } : {}), revision: t.revision, configuredBy: t.configuredBy,
    configuredAt: t.configuredAt.toISOString(), ...(t.frozenAt ? { frozenAt: t.frozenAt.toISOString() } : {}), readiness: await deps.tests.readiness(t.competitionId),
  };
}

export async function registerTestRoutes(app: HttpApp, deps: TestRouteDeps): Promise<void> {
  const { ctx, tests, settings } = deps;
  const manage = ctx.auth.require([P.skillTestsManage], { mfa: true, kinds: ['operator'] });
  const signedIn = ctx.auth.require([]);

  app.post('/v1/skill/tests', {
    preHandler: manage,
    schema: {
      operationId: 'configureSkillTest', tags: [TAG_TESTS], security: bearer,
      summary: 'Configure the skill test of a competition (again, as a new revision, until the competition is published)',
      body: ConfigureBody, response: { 200: TestDto, '4xx': Problem },
    },
  }, async (req) => testView(deps, await tests.configure(req.body as ConfigureInput, operatorActor(ctx.auth.principal(req).subject))));

  app.get('/v1/skill/tests/:testId', {
    preHandler: manage,
    schema: { operationId: 'getSkillTest', tags: [TAG_TESTS], security: bearer, summary: 'A skill test with its readiness (what stops it being used)', params: TestParams, response: { 200: TestDto, '4xx': Problem } },
  }, async (req) => {
    const t = await tests.byId((req.params as { testId: string }).testId);
    if (!t) throw Problems.notFound('skill test');
    return testView(deps, t);
  });

  app.get('/v1/competitions/:competitionId/skill-test', {
    preHandler: signedIn,
    schema: { operationId: 'getCompetitionSkillTest', tags: [TAG_TESTS], security: bearer, summary: 'A competition\'s skill test as an entrant sees it: kind, rules and limits, image', params: CompetitionParams, response: { 200: EntrantTestDto, '4xx': Problem } },
  }, async (req) => {
    const competitionId = (req.params as { competitionId: string }).competitionId;
    const t = await tests.byCompetition(competitionId);
    if (!t) throw testNotFound();
    const readiness = await tests.readiness(competitionId);
    const image = t.imageId ? await tests.image(t.imageId) : undefined;
    return {
      competitionId, kind: t.kind, ready: readiness.ready, ...(readiness.summary ? { summary: readiness.summary } : {}),
      timeLimitSeconds: t.kind === 'spot-the-ball' ? await settings.spotTheBallTimeLimitS.get() : await settings.multipleChoiceTimeLimitS.get(),
      attemptsPerWindow: await settings.attemptsPerWindow.get(), attemptWindowSeconds: await settings.attemptWindowS.get(),
      ...(image ? { image: imageView(image) } : {}), ...(t.maxPlacementsPerToken ? { maxPlacementsPerToken: t.maxPlacementsPerToken } : {}),
    };
  });

  app.get('/v1/skill/images/:imageId', {
    preHandler: signedIn,
    schema: { operationId: 'getSkillImage', tags: [TAG_TESTS], security: bearer, summary: 'A spot-the-ball image (its bytes, checked against the recorded SHA-256)', params: ImageParams, response: { '4xx': Problem } },
  }, async (req, reply) => {
    const { image, bytes } = await tests.imageBytes((req.params as { imageId: string }).imageId);
    reply.type(image.contentType).header('cache-control', 'private, max-age=3600, immutable').header('x-content-sha256', image.sha256);
    return reply.send(bytes as never);
  });

  // The upload takes the image's bytes as the body (the bytes decide the type), up to its own limit.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: IMAGE_MAX_BYTES }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err, _req, reply) => {
      if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, Problems.payloadTooLarge(IMAGE_MAX_BYTES));
      throw err;
    });
    scope.post('/v1/skill/images', {
      preHandler: manage,
      schema: {
        operationId: 'uploadSkillImage', tags: [TAG_TESTS], security: bearer,
        summary: 'Upload a spot-the-ball image: the PNG or JPEG bytes as the body',
        description: `Send the raw file (e.g. \`Content-Type: application/octet-stream\`), at most ${IMAGE_MAX_BYTES} bytes and 10 000 pixels a side. Its SHA-256 and dimensions are recorded.`,
        response: { 201: ImageDto, '4xx': Problem },
      },
    }, async (req: FastifyRequest, reply) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const image = await tests.uploadImage(body, operatorActor(ctx.auth.principal(req).subject));
      return reply.code(201).send(imageView(image, true));
    });
  });
}
