/**
 * Retention routes (account closure, legal holds, a retention run now) and evidence packages
 * (export with MFA and a fresh sign-in, download, the public key to verify them).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions as P, type HttpApp } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import {
  ClosureReply, ExportBody, HoldParams, LegalHoldBody, LegalHoldDto, LegalHoldList, LegalHoldsQuery, PackageDto, PackageParams, PlayerParams, Problem,
  PublicKeyReply, ReasonBody, RetentionRunReply, RetentionStatus, TAG_RETENTION,
} from './contracts.ts';
import { retainUntil } from './domain.ts';
import type { EvidencePackages } from './evidence.ts';
import type { LegalHoldRow, PackageRow } from './repository.ts';
import type { Retention } from './service.ts';
import type { SigningKeys } from './signing.ts';
import type { EligibilityRepository } from '../eligibility/repository.ts';

const bearer = [{ bearer: [] }];

const holdView = (h: LegalHoldRow) => ({
  legalHoldId: h.id, playerId: h.playerId, reason: h.reason, placedBy: h.placedBy, placedAt: h.placedAt.toISOString(),
  ...(h.releasedBy ? { releasedBy: h.releasedBy } : {}), ...(h.releasedAt ? { releasedAt: h.releasedAt.toISOString() } : {}),
  ...(h.releaseReason ? { releaseReason: h.releaseReason } : {}),
});

const packageView = (p: PackageRow) => ({
  packageId: p.id, subject: p.subject, sha256: p.sha256, sizeBytes: p.sizeBytes.toString(), manifestSha256: p.manifestSha256, keyId: p.keyId,
  signature: p.signature, files: p.files, createdAt: p.createdAt.toISOString(), downloadUrl: `/v1/evidence-packages/${p.id}`,
});

export interface RetentionRouteDeps {
  ctx: PartContext;
  retention: Retention;
  evidence: EvidencePackages;
  keys: SigningKeys;
  players: EligibilityRepository;
  years: number;
}

export function registerRetentionRoutes(app: HttpApp, deps: RetentionRouteDeps): void {
  retentionRoutes(app, deps);
  evidenceRoutes(app, deps);
}

const actorOf = (deps: RetentionRouteDeps, req: FastifyRequest) => `operator:${deps.ctx.auth.principal(req).subject}`;

function retentionRoutes(app: HttpApp, deps: RetentionRouteDeps): void {
  const { ctx, retention } = deps;
  const manage = ctx.auth.require([P.retentionManage], { mfa: true, kinds: ['operator'] });
  const manageStepUp = ctx.auth.require([P.retentionManage], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.post('/v1/retention/players/:playerId/account-closure', {
    preHandler: ctx.auth.require([P.playersManage], { mfa: true, stepUp: true, kinds: ['operator'] }),
    schema: { operationId: 'recordAccountClosure', tags: [TAG_RETENTION], security: bearer, summary: 'Record the end of the relationship with a player: deposits and purchases stop, the retention clock starts', params: PlayerParams, body: ReasonBody, response: { 201: ClosureReply, '4xx': Problem } },
  }, async (req, reply) => {
    const { playerId } = req.params as { playerId: string };
    const closed = await retention.recordClosure(playerId, (req.body as { reason: string }).reason, actorOf(deps, req));
    return reply.code(201).send({ playerId, closedAt: closed.closedAt.toISOString(), retainUntil: closed.retainUntil.toISOString() });
  });

  app.get('/v1/retention/players/:playerId', {
    preHandler: manage,
    schema: { operationId: 'getRetentionStatus', tags: [TAG_RETENTION], security: bearer, summary: 'When a player’s records may be erased, whether they were, and their legal holds', params: PlayerParams, response: { 200: RetentionStatus, '4xx': Problem } },
  }, async (req) => {
    const { playerId } = req.params as { playerId: string };
    const p = await deps.players.player(playerId);
    return {
      playerId,
      ...(p?.closedAt ? { closedAt: p.closedAt.toISOString(), retainUntil: retainUntil(p.closedAt, deps.years).toISOString() } : {}),
      ...(p?.erasedAt ? { erasedAt: p.erasedAt.toISOString() } : {}),
      legalHolds: (await retention.legalHoldsOf(playerId)).map(holdView),
    };
  });

  app.post('/v1/legal-holds', {
    preHandler: manage,
    schema: { operationId: 'placeLegalHold', tags: [TAG_RETENTION], security: bearer, summary: 'Keep a player’s records past their retention (litigation, a regulator’s request)', body: LegalHoldBody, response: { 201: LegalHoldDto, '4xx': Problem } },
  }, async (req, reply) => {
    const body = req.body as { playerId: string; reason: string };
    return reply.code(201).send(holdView(await retention.placeLegalHold(body.playerId, body.reason, actorOf(deps, req))));
  });

  app.get('/v1/legal-holds', {
    preHandler: manage,
    schema: { operationId: 'listLegalHolds', tags: [TAG_RETENTION], security: bearer, summary: 'A player’s legal holds, newest first', querystring: LegalHoldsQuery, response: { 200: LegalHoldList, '4xx': Problem } },
  }, async (req) => ({ items: (await retention.legalHoldsOf((req.query as { playerId: string }).playerId)).map(holdView) }));

  app.post('/v1/legal-holds/:legalHoldId/release', {
    preHandler: manageStepUp,
    schema: { operationId: 'releaseLegalHold', tags: [TAG_RETENTION], security: bearer, summary: 'Release a legal hold (the records are erased by the next retention run if their time has come)', params: HoldParams, body: ReasonBody, response: { 200: LegalHoldDto, '4xx': Problem } },
  }, async (req) => holdView(await retention.releaseLegalHold((req.params as { legalHoldId: string }).legalHoldId, (req.body as { reason: string }).reason, actorOf(deps, req))));

  app.post('/v1/retention/runs', {
    preHandler: manageStepUp,
    schema: { operationId: 'runRetention', tags: [TAG_RETENTION], security: bearer, summary: 'Run the retention job now: erase the personal data of players whose retention has ended', response: { 200: RetentionRunReply, '4xx': Problem } },
  }, async (req) => {
    const erased = await retention.run(actorOf(deps, req));
    return { erased: erased.length, playerIds: erased };
  });
}

function evidenceRoutes(app: HttpApp, deps: RetentionRouteDeps): void {
  const { ctx, evidence, keys } = deps;
  const exporter = ctx.auth.require([P.evidenceExport], { mfa: true, stepUp: true, kinds: ['operator'] });
  const reader = ctx.auth.require([P.evidenceExport], { mfa: true, kinds: ['operator'] });

  app.post('/v1/evidence-packages', {
    preHandler: exporter,
    schema: { operationId: 'exportEvidencePackage', tags: [TAG_RETENTION], security: bearer, summary: 'Build a signed evidence package (tar) for a player or a case and store it', body: ExportBody, response: { 201: PackageDto, '4xx': Problem } },
  }, async (req, reply) => reply.code(201).send(packageView(await evidence.exportPackage((req.body as { subject: string }).subject, actorOf(deps, req)))));

  app.get('/v1/evidence-packages/public-key', {
    schema: { operationId: 'getEvidencePublicKey', tags: [TAG_RETENTION], summary: 'The Ed25519 public key evidence-package manifests are signed with', response: { 200: PublicKeyReply } },
  }, async () => {
    const signer = await keys.signer();
    return { keyId: signer.keyId, algorithm: 'Ed25519' as const, publicKeyPem: signer.publicKeyPem };
  });

  app.get('/v1/evidence-packages/:packageId', {
    preHandler: reader,
    schema: { operationId: 'downloadEvidencePackage', tags: [TAG_RETENTION], security: bearer, summary: 'Download an evidence package (application/x-tar; audited)', params: PackageParams, response: { '4xx': Problem } },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const { row, bytes } = await evidence.download((req.params as { packageId: string }).packageId, actorOf(deps, req));
    return reply
      .type('application/x-tar')
      .header('content-disposition', `attachment; filename="evidence-${row.id}.tar"`)
      .header('x-content-sha256', row.sha256)
      .send(bytes);
  });
}
