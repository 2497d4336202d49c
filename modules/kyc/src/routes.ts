/** HTTP routes of the kyc module: parse, authorize, call the use case, shape the reply. */
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { OperatorPermissions, PlayerPermissions, Problems, sendProblem, type AuthGuards, type HttpApp, type Idempotency } from '@verity/kernel';
import {
  Application, ApplicationParams, bearer, DecisionBody, Document, DocumentList, DocumentParams, KycStatus, PlayerParams, Problem, Requirements,
  ReviewPage, ReviewQuery, TAG, UploadQuery,
} from './contracts.ts';
import type { Documents } from './documents.ts';
import { requirementsStatement } from './domain/requirements.ts';
import type { Verification } from './service.ts';
import type { Views } from './views.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RouteDeps {
  auth: AuthGuards;
  idempotency: Idempotency;
  verification: Verification;
  documents: Documents;
  views: Views;
  documentMaxBytes: number;
}

export async function registerRoutes(app: HttpApp, deps: RouteDeps): Promise<void> {
  const { auth, verification, views } = deps;
  const player = auth.require([PlayerPermissions.kycSubmitOwn], { kinds: ['player'] });
  const subject = (req: Parameters<AuthGuards['principal']>[0]) => {
    const id = auth.principal(req).subject;
    // Players of another issuer with ids that are not ours have no registration to verify here.
    if (!UUID.test(id)) throw Problems.forbidden('Verification needs an account registered with Verity.');
    return id;
  };

  app.get('/v1/kyc/requirements', {
    schema: { operationId: 'getKycRequirements', tags: [TAG], summary: 'What we may ask of players to verify them, when and why (before they sign up)', response: { 200: Requirements } },
  }, async () => requirementsStatement(deps.documentMaxBytes));

  app.get('/v1/kyc', {
    preHandler: player,
    schema: { operationId: 'getKycStatus', tags: [TAG], security: bearer, summary: 'Your verification status, what to do next, and up front what may be asked of you', response: { 200: KycStatus, '4xx': Problem } },
  }, async (req) => views.playerStatus(subject(req)));

  app.post('/v1/kyc', {
    preHandler: player,
    schema: {
      operationId: 'startKyc', tags: [TAG], security: bearer,
      summary: 'Start or resume your verification: the age rule (18+), then an identity check with our provider',
      description: 'Safe to repeat: while a check runs or after a decision it changes nothing and returns your status. Under 18 is refused for good (403 `under-age`).',
      response: { 200: KycStatus, '4xx': Problem, '5xx': Problem },
    },
  }, async (req) => {
    await verification.start(subject(req));
    return views.playerStatus(subject(req));
  });

  app.get('/v1/kyc/documents', {
    preHandler: player,
    schema: { operationId: 'listMyKycDocuments', tags: [TAG], security: bearer, summary: 'The documents you uploaded (not their content)', response: { 200: DocumentList, '4xx': Problem } },
  }, async (req) => ({ items: await deps.documents.list(subject(req)) }));

  await registerUpload(app, deps, player);
  registerOperatorRoutes(app, deps);
}

/** The upload takes the file's bytes as the body (any content type: the bytes themselves decide), up to its own limit. */
async function registerUpload(app: HttpApp, deps: RouteDeps, player: ReturnType<AuthGuards['require']>): Promise<void> {
  const limit = deps.documentMaxBytes;
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err, _req, reply) => {
      if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, Problems.payloadTooLarge(limit));
      throw err;
    });
    scope.post('/v1/kyc/documents', {
      preHandler: player,
      schema: {
        operationId: 'uploadKycDocument', tags: [TAG], security: bearer,
        summary: 'Upload a photo ID or proof of address: the file\'s bytes as the body (JPEG, PNG or PDF)',
        description: `Send the raw file as the body (e.g. \`Content-Type: application/octet-stream\`) with \`?type=\`. The type is recognised from the content; at most ${limit} bytes. Stored encrypted; its SHA-256 is recorded.`,
        querystring: UploadQuery,
        response: { 201: Document, '4xx': Problem },
      },
    }, async (req, reply) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { type } = req.query as Static<typeof UploadQuery>;
      const playerId = deps.auth.principal(req).subject;
      if (!UUID.test(playerId)) throw Problems.forbidden('Verification needs an account registered with Verity.');
      const doc = await deps.documents.upload(playerId, type, body);
      return reply.code(201).send(doc);
    });
  });
}

function registerOperatorRoutes(app: HttpApp, deps: RouteDeps): void {
  const { auth, views } = deps;
  const read = auth.require([OperatorPermissions.kycRead], { kinds: ['operator'] });
  const review = auth.require([OperatorPermissions.kycReview], { kinds: ['operator'], mfa: true });

  app.get('/v1/kyc/reviews', {
    preHandler: read,
    schema: { operationId: 'listKycReviews', tags: [TAG], security: bearer, summary: 'Applications waiting for a manual review, oldest first', querystring: ReviewQuery, response: { 200: ReviewPage, '4xx': Problem } },
  }, async (req) => views.reviewQueue(req.query.limit ?? 50, req.query.cursor));

  app.get('/v1/kyc/applications/:applicationId', {
    preHandler: read,
    schema: { operationId: 'getKycApplication', tags: [TAG], security: bearer, summary: 'One application: checks, full status history and documents', params: ApplicationParams, response: { 200: Application, '4xx': Problem } },
  }, async (req) => views.application(req.params.applicationId));

  app.post('/v1/kyc/applications/:applicationId/decision', {
    preHandler: review,
    schema: {
      operationId: 'decideKycApplication', tags: [TAG], security: bearer,
      summary: 'Decide an application in manual review: approve, reject (final) or request documents, with a reason (audited)',
      params: ApplicationParams, body: DecisionBody, response: { 200: Application, '4xx': Problem },
    },
  }, deps.idempotency.wrap(async (req: FastifyRequest) => {
    const { applicationId } = req.params as Static<typeof ApplicationParams>;
    const body = req.body as Static<typeof DecisionBody>;
    await deps.verification.decide({ applicationId, decision: body.decision, reason: body.reason, actor: `operator:${auth.principal(req).subject}` });
    return views.application(applicationId);
  }));

  app.get('/v1/kyc/players/:playerId/documents', {
    preHandler: read,
    schema: { operationId: 'listPlayerKycDocuments', tags: [TAG], security: bearer, summary: 'A player\'s verification documents (not their content)', params: PlayerParams, response: { 200: DocumentList, '4xx': Problem } },
  }, async (req) => ({ items: await deps.documents.list(req.params.playerId) }));

  app.get('/v1/kyc/documents/:documentId/content', {
    preHandler: review,
    schema: {
      operationId: 'getKycDocumentContent', tags: [TAG], security: bearer,
      summary: 'Read a verification document (decrypted; every read is audited)',
      params: DocumentParams,
      response: { 200: Type.String({ format: 'binary', description: 'The document as uploaded (JPEG, PNG or PDF)' }), '4xx': Problem },
    },
  }, async (req, reply) => {
    const { doc, bytes } = await deps.documents.read(req.params.documentId, `operator:${auth.principal(req).subject}`);
    const ext = doc.contentType === 'application/pdf' ? 'pdf' : doc.contentType === 'image/png' ? 'png' : 'jpg';
    return reply
      .type(doc.contentType)
      .header('content-disposition', `attachment; filename="${doc.type}-${doc.id}.${ext}"`)
      .header('cache-control', 'no-store')
      .header('x-document-sha256', doc.sha256)
      .send(bytes as never);
  });
}
