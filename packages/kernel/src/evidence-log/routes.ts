/**
 * The evidence log over HTTP. Checkpoints, proofs, the key and the witness list are public: they
 * are hashes and signatures, made to be checked by anyone. Entry bytes are public for records a
 * module logged as public (draw records); audit records (operator actions) need `audit:read`.
 * Witnesses are registered by operators (settings:manage, step-up, audited); a cosignature needs no
 * account because it proves itself against a registered witness key.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../audit/audit.ts';
import { OperatorPermissions as P } from '../auth/roles.ts';
import type { Config } from '../config.ts';
import type { HttpApp } from '../http/server.ts';
import type { AuthGuards } from '../module.ts';
import {
  CheckpointDto, CheckpointQuery, ConsistencyDto, ConsistencyQuery, CosignatureBody, CosignatureDto, EntryDto, EntryParams, InclusionDto, InclusionQuery,
  KeyDto, Problem, TAG_LOG, WitnessBody, WitnessDto, WitnessesQuery, WitnessList,
} from './contracts.ts';
import type { EvidenceLogRuntime, ServedCheckpoint } from './service.ts';
import { Problems } from '../errors.ts';

const bearer = [{ bearer: [] }];

const checkpointView = (c: ServedCheckpoint) => ({
  origin: c.origin, size: c.size, rootHash: c.rootHash, note: c.cosignedNote, signedAt: c.signedAt.toISOString(),
  cosignatures: c.cosignatures.map((s) => ({ witness: s.witness, cosignedAt: s.cosignedAt.toISOString() })),
});

/** `Accept: text/plain` (as C2SP clients send) gets the note itself. */
const wantsText = (req: FastifyRequest): boolean => {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/plain') && !accept.includes('application/json');
};

export function registerLogRoutes(app: HttpApp, deps: { log: EvidenceLogRuntime; auth: AuthGuards; config: Config }): void {
  const { log, auth, config } = deps;
  // Proofs and entries read the database: a tighter budget than the global limit.
  const reads = { rateLimit: { max: Math.max(10, Math.floor(config.rateLimitMax / 4)), timeWindow: config.rateLimitWindowMs } };
  const submissions = { rateLimit: { max: Math.max(5, Math.floor(config.rateLimitMax / 20)), timeWindow: config.rateLimitWindowMs } };
  const auditReader = auth.require([P.auditRead], { mfa: true, kinds: ['operator'] });

  app.get('/v1/log/checkpoint', {
    config: reads,
    schema: {
      operationId: 'getLogCheckpoint', tags: [TAG_LOG],
      summary: 'The latest signed checkpoint (or the one of `size`), with witness cosignatures; `Accept: text/plain` gets the C2SP note alone',
      querystring: CheckpointQuery,
      response: { 200: { content: { 'application/json': { schema: CheckpointDto }, 'text/plain': { schema: Type.String() } } }, '4xx': Problem },
    },
  }, async (req, reply) => {
    const c = await log.servedCheckpoint((req.query as { size?: number }).size);
    reply.header('cache-control', 'no-cache');
    if (wantsText(req)) return reply.type('text/plain; charset=utf-8').send(c.cosignedNote);
    return checkpointView(c);
  });

  app.get('/v1/log/proofs/inclusion', {
    config: reads,
    schema: {
      operationId: 'getLogInclusionProof', tags: [TAG_LOG],
      summary: 'RFC 9162 inclusion proof of a leaf (by `index` or `leafHash`) in the tree of `size` leaves (default: the latest checkpoint)',
      querystring: InclusionQuery, response: { 200: InclusionDto, '4xx': Problem },
    },
  }, async (req) => {
    const q = req.query as { index?: number; leafHash?: string; size?: number };
    if ((q.index === undefined) === (q.leafHash === undefined)) {
      throw Problems.validation([{ pointer: '/querystring/index', detail: 'give exactly one of index and leafHash' }]);
    }
    return log.publicInclusionProof(q.index !== undefined ? { index: q.index } : { leafHash: q.leafHash! }, q.size);
  });

  app.get('/v1/log/proofs/consistency', {
    config: reads,
    schema: {
      operationId: 'getLogConsistencyProof', tags: [TAG_LOG],
      summary: 'RFC 9162 consistency proof from the tree of `from` leaves to the tree of `to` leaves (default: the latest checkpoint)',
      querystring: ConsistencyQuery, response: { 200: ConsistencyDto, '4xx': Problem },
    },
  }, async (req) => {
    const q = req.query as { from: number; to?: number };
    return log.publicConsistencyProof(q.from, q.to);
  });

  app.get('/v1/log/entries/:index', {
    config: reads,
    schema: {
      operationId: 'getLogEntry', tags: [TAG_LOG], security: [{}, ...bearer],
      summary: 'One leaf: its bytes, leaf hash and labels. Public records for anyone; restricted ones (audit records) need audit:read',
      params: EntryParams, response: { 200: EntryDto, '4xx': Problem },
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const e = await log.entry((req.params as { index: number }).index);
    if (e.visibility !== 'public') await auditReader.call(undefined, req, reply);
    return {
      index: e.index, leafHash: e.leafHash, kind: e.kind, module: e.module, type: e.type, visibility: e.visibility,
      recordedAt: e.recordedAt.toISOString(), integratedAt: e.integratedAt.toISOString(), data: Buffer.from(e.data).toString('base64'),
    };
  });

  app.get('/v1/log/key', {
    schema: { operationId: 'getLogKey', tags: [TAG_LOG], summary: 'The verifier key of the log\'s checkpoint signatures (C2SP vkey)', response: { 200: KeyDto } },
  }, async (_req, reply) => {
    const vkey = await log.publicKey();
    reply.header('cache-control', 'public, max-age=300');
    return { origin: vkey.split('+')[0]!, vkey, algorithm: 'Ed25519' as const };
  });

  witnessRoutes(app, deps, submissions);
}

function witnessRoutes(app: HttpApp, deps: { log: EvidenceLogRuntime; auth: AuthGuards }, submissions: object): void {
  const { log, auth } = deps;

  app.post('/v1/log/witnesses', {
    preHandler: auth.require([P.settingsManage], { mfa: true, stepUp: true, kinds: ['operator'] }),
    schema: {
      operationId: 'registerLogWitness', tags: [TAG_LOG], security: bearer,
      summary: 'Trust a witness: its cosignatures of our checkpoints are then accepted and served (audited)',
      body: WitnessBody, response: { 201: WitnessDto, '4xx': Problem },
    },
  }, async (req, reply) => {
    const w = await log.registerWitness((req.body as { vkey: string }).vkey, actorOf(auth.principal(req)));
    return reply.code(201).send({ name: w.name, vkey: w.vkey, registeredAt: w.registeredAt.toISOString() });
  });

  app.get('/v1/log/witnesses', {
    schema: { operationId: 'listLogWitnesses', tags: [TAG_LOG], summary: 'Witnesses whose cosignatures this log accepts', querystring: WitnessesQuery, response: { 200: WitnessList, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { after?: string; limit?: number };
    const limit = q.limit ?? 50;
    // The cursor is the last name, base64url: opaque to clients, and no free text in the query.
    const items = await log.witnesses(q.after ? Buffer.from(q.after, 'base64url').toString('utf8') : '', limit);
    const view = items.map((w) => ({ name: w.name, vkey: w.vkey, registeredAt: w.registeredAt.toISOString() }));
    return items.length === limit ? { items: view, nextCursor: Buffer.from(items[items.length - 1]!.name, 'utf8').toString('base64url') } : { items: view };
  });

  app.post('/v1/log/cosignatures', {
    config: submissions,
    schema: {
      operationId: 'submitLogCosignature', tags: [TAG_LOG],
      summary: 'A registered witness hands in its cosignature (C2SP tlog-cosignature) of the checkpoint of `size`; verified, stored and served with it',
      body: CosignatureBody, response: { 200: CosignatureDto, 201: CosignatureDto, '4xx': Problem },
    },
  }, async (req, reply) => {
    const body = req.body as { size: number; cosignature: string };
    const r = await log.submitCosignature(body.size, body.cosignature);
    return reply.code(r.created ? 201 : 200).send({ size: body.size, witness: r.witness, cosignedAt: r.cosignedAt.toISOString() });
  });
}
