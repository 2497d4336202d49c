/**
 * Draw routes. The manifest, the result and the evidence bundle are public (anyone may check a
 * draw); running a draw is an operator's privileged act (draws:run, MFA, recent sign-in,
 * Idempotency-Key); an entry's inclusion proof is for the ticket's own player.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions, PlayerPermissions, actorFromContext, idempotencyKeyHeaders, type HttpApp } from '@verity/kernel';
import type { DrawRecord, LoggedRecord } from '../contract.ts';
import type { DrawsDeps } from './deps.ts';
import { entryProof } from './proofs.ts';
import { DrawProblems } from './problems.ts';
import type { createRun } from './run.ts';
import {
  CompetitionParams, DrawParams, DrawView, EntryProofReply, EvidenceReply, ManifestReply, Problem, ProofParams, ResultReply, TAG_DRAWS,
} from './schemas.ts';
import type { createSnapshot } from './snapshot.ts';

const bearer = [{ bearer: [] }];

function logPosition(log: LoggedRecord) {
  return { leafIndex: log.index!, leafHash: log.leafHash, checkpoint: log.checkpoint! };
}

export function drawView(d: DrawRecord, roundAt?: Date) {
  return {
    drawId: d.drawId,
    competitionId: d.competitionId,
    state: d.state,
    ...(d.beaconRound ? { beaconRound: d.beaconRound } : {}),
    ...(roundAt ? { roundAvailableAt: roundAt.toISOString() } : {}),
    ...(d.manifest ? { nonProduction: d.manifest.beacon.nonProduction } : {}),
    ...(d.manifestHash ? { manifestHash: d.manifestHash } : {}),
    ...(d.entriesCount !== null ? { entriesCount: d.entriesCount } : {}),
    ...(d.entriesRoot ? { entriesRoot: d.entriesRoot } : {}),
    ...(d.resultHash && d.bundleKey ? { resultHash: d.resultHash } : {}),
    ...(d.blockedReason && d.state === 'blocked' ? { blockedReason: d.blockedReason } : {}),
    ...(d.caseId ? { caseId: d.caseId } : {}),
    ...(d.failureReason ? { failureReason: d.failureReason } : {}),
    ...(d.committedAt ? { committedAt: d.committedAt.toISOString() } : {}),
    ...(d.snapshottedAt ? { snapshottedAt: d.snapshottedAt.toISOString() } : {}),
    ...(d.drawnAt ? { drawnAt: d.drawnAt.toISOString() } : {}),
    ...(d.settledAt ? { settledAt: d.settledAt.toISOString() } : {}),
  };
}

interface Parts {
  deps: DrawsDeps;
  run: ReturnType<typeof createRun>;
  snapshot: ReturnType<typeof createSnapshot>;
}

export function registerDrawRoutes(app: HttpApp, parts: Parts): void {
  publicRoutes(app, parts);
  operatorRoutes(app, parts);
  playerRoutes(app, parts);
}

async function drawOf(parts: Parts, competitionId: string): Promise<DrawRecord> {
  const d = await parts.deps.repo.byCompetition(competitionId);
  if (!d) throw DrawProblems.notFound();
  return d;
}

function publicRoutes(app: HttpApp, parts: Parts): void {
  const { repo, ctx } = parts.deps;

  app.get('/v1/competitions/:competitionId/draw/manifest', {
    schema: {
      operationId: 'getDrawManifest', tags: [TAG_DRAWS], summary: 'The draw manifest, committed and logged before sales opened (public)',
      description: 'Prize tiers, winner count, the beacon chain and round, the commitment to the operator secret, and where the manifest sits in the evidence log.',
      params: CompetitionParams, response: { 200: ManifestReply, '4xx': Problem },
    },
  }, async (req) => {
    const d = await drawOf(parts, (req.params as { competitionId: string }).competitionId);
    // Logged and checkpointed is committed (ticketing may open sales before our own state says so).
    if (!d.manifest || !d.manifestLog?.checkpoint) throw DrawProblems.notCommitted(d.state);
    return { drawId: d.drawId, competitionId: d.competitionId, state: d.state, manifestHash: d.manifestHash!, manifest: d.manifest, log: logPosition(d.manifestLog) };
  });

  app.get('/v1/competitions/:competitionId/draw/result', {
    schema: {
      operationId: 'getDrawResult', tags: [TAG_DRAWS], summary: 'The draw result: beacon, revealed operator secret, winners (public)',
      params: CompetitionParams, response: { 200: ResultReply, '4xx': Problem },
    },
  }, async (req) => {
    const d = await drawOf(parts, (req.params as { competitionId: string }).competitionId);
    if (d.state !== 'drawn' && d.state !== 'settled') throw DrawProblems.notDrawn(d.state);
    const record = JSON.parse(d.resultRecord!.toString('utf8')) as { operatorSecret: string; beacon: ResultReplyBeacon; drawnAt: string };
    const winners = await repo.winners(d.drawId);
    return {
      drawId: d.drawId, competitionId: d.competitionId, state: d.state, nonProduction: d.manifest!.beacon.nonProduction,
      entriesCount: d.entriesCount!, entriesRoot: d.entriesRoot!, beacon: record.beacon, operatorSecret: record.operatorSecret,
      operatorCommitment: d.manifest!.operatorCommitment,
      winners: winners.map((w) => ({ position: w.position, tier: w.tier, ticketId: w.entryId, number: w.number, entryIndex: w.entryIndex, prize: w.prizeKind, prizeState: w.state })),
      resultHash: d.resultHash!, bundleSha256: d.bundleSha256!, drawnAt: record.drawnAt, log: logPosition(d.resultLog!),
    };
  });

  app.get('/v1/competitions/:competitionId/draw/evidence', {
    schema: {
      operationId: 'getDrawEvidence', tags: [TAG_DRAWS], summary: 'The draw evidence bundle, to verify offline with `verity verify` (public)',
      description: 'One JSON document: manifest, close snapshot (every entry), result, checkpoints and proofs. Served byte for byte as stored; its SHA-256 is in the `Digest` header and in getDrawResult.',
      params: CompetitionParams, response: { 200: EvidenceReply, '4xx': Problem },
    },
  }, async (req, reply: FastifyReply) => {
    const d = await drawOf(parts, (req.params as { competitionId: string }).competitionId);
    if (d.state !== 'drawn' && d.state !== 'settled') throw DrawProblems.notDrawn(d.state);
    const object = await ctx.objects.get(d.bundleKey!);
    reply.header('content-type', 'application/json; charset=utf-8');
    reply.header('digest', `sha-256=${Buffer.from(object.sha256, 'hex').toString('base64')}`);
    reply.header('content-disposition', `attachment; filename="draw-${d.drawId}.json"`);
    // The stored bytes, not a re-serialisation: what was hashed is what is served.
    return reply.send(object.bytes);
  });
}

type ResultReplyBeacon = { chainHash: string; round: number; signature: string; randomness: string; fetchedFrom: string };

function operatorRoutes(app: HttpApp, parts: Parts): void {
  const { ctx } = parts.deps;
  const runner = ctx.auth.require([OperatorPermissions.drawsRun], { mfa: true, stepUp: true, kinds: ['operator'] });
  const reader = ctx.auth.require([OperatorPermissions.drawsRead], { mfa: true, kinds: ['operator'] });
  const manager = ctx.auth.require([OperatorPermissions.drawsManage], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.post('/v1/competitions/:competitionId/draw/run', {
    preHandler: runner,
    schema: {
      operationId: 'runDraw', tags: [TAG_DRAWS], security: bearer,
      summary: 'Run the draw now (draws:run, MFA, recent sign-in)',
      description: 'For a snapshotted draw whose beacon round has been produced (otherwise a timer runs it at that time): the round is fetched and verified now, and the draw starts at once (202; follow it with getDraw or getDrawResult). '
        + 'Refused before the close snapshot (draw-not-ready) and before the round\'s time (beacon-round-not-yet-available, with availableAt). A drawn draw answers 200. Requires an Idempotency-Key.',
      headers: idempotencyKeyHeaders({ required: true }), params: CompetitionParams, response: { 200: DrawView, 202: DrawView, '4xx': Problem, '5xx': Problem },
    },
  }, ctx.idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const d = await drawOf(parts, (req.params as { competitionId: string }).competitionId);
    const { draw, accepted } = await parts.run.request(d.drawId);
    if (accepted) await ctx.audit.record({ actor: actorFromContext(), action: 'draws.draw-run-requested', subject: `draw:${d.drawId}`, data: { competitionId: d.competitionId } });
    reply.code(accepted ? 202 : 200);
    return drawView(draw, draw.manifest ? parts.run.roundTimeOf(draw) : undefined);
  }, { required: true }));

  app.get('/v1/draws/:drawId', {
    preHandler: reader,
    schema: { operationId: 'getDraw', tags: [TAG_DRAWS], security: bearer, summary: 'A draw\'s state (draws:read)', params: DrawParams, response: { 200: DrawView, '4xx': Problem } },
  }, async (req) => {
    const d = await parts.deps.repo.byId((req.params as { drawId: string }).drawId);
    if (!d) throw DrawProblems.notFound();
    return drawView(d, d.manifest ? parts.run.roundTimeOf(d) : undefined);
  });

  app.post('/v1/draws/:drawId/snapshot', {
    preHandler: manager,
    schema: {
      operationId: 'retryDrawSnapshot', tags: [TAG_DRAWS], security: bearer,
      summary: 'Take the close snapshot of a blocked draw again, once its cause is fixed (draws:manage, MFA, recent sign-in)',
      description: 'Requires an Idempotency-Key.', headers: idempotencyKeyHeaders({ required: true }), params: DrawParams, response: { 202: DrawView, '4xx': Problem },
    },
  }, ctx.idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const drawId = (req.params as { drawId: string }).drawId;
    await parts.snapshot.retryBlocked(drawId);
    await ctx.audit.record({ actor: actorFromContext(), action: 'draws.snapshot-retried', subject: `draw:${drawId}` });
    reply.code(202);
    return drawView((await parts.deps.repo.byId(drawId))!);
  }, { required: true }));
}

function playerRoutes(app: HttpApp, parts: Parts): void {
  const { ctx, repo } = parts.deps;
  const player = ctx.auth.require([PlayerPermissions.ticketsReadOwn], { kinds: ['player'] });

  app.get('/v1/draws/:drawId/entries/:ticketId/proof', {
    preHandler: player,
    schema: {
      operationId: 'getEntryInclusionProof', tags: [TAG_DRAWS], security: bearer,
      summary: 'Proof that your ticket is in the draw\'s close snapshot (your own tickets)',
      description: 'The canonical entry (`leaf`, with its holder commitment), its index, the RFC 9162 inclusion proof and the snapshot root, plus your ticket\'s salt so you can recompute the holder from your player id. Save it and check it offline: `verity verify entry <proof.json> --bundle <bundle.json>`.',
      params: ProofParams, response: { 200: EntryProofReply, '4xx': Problem },
    },
  }, async (req) => {
    const { drawId, ticketId } = req.params as { drawId: string; ticketId: string };
    const playerId = ctx.auth.principal(req).subject;
    const d = await repo.byId(drawId);
    if (!d) throw DrawProblems.notFound();
    const ticket = await parts.deps.ticketing().getTicket({ ticketId, playerId });
    // Someone else's ticket does not exist, as far as this player can tell.
    if (!ticket || ticket.competitionId !== d.competitionId) throw DrawProblems.ticketNotFound();
    if (!d.snapshotLog?.checkpoint || !['snapshotted', 'drawn', 'settled', 'failed'].includes(d.state)) throw DrawProblems.proofNotYet(d.state);
    const proof = await entryProof(repo, d, ticketId.toLowerCase());
    if (!proof) throw DrawProblems.entryNotInSnapshot();
    return { drawId, competitionId: d.competitionId, ticketId, ...proof, holderSalt: ticket.holderSalt, salt: ticket.holderSalt, playerId, drawState: d.state };
  });
}
