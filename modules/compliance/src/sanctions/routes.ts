/**
 * Sanctions routes for compliance operators (sanctions:screen, MFA): import a list file, see list
 * versions and re-screening runs, ask for a download now, screen a name, re-screen a player, and
 * read recorded screenings. The import route keeps its body as bytes (an encapsulated parser with
 * its own size limit): a list file is CSV or XML, not JSON.
 */
import type { FastifyRequest } from 'fastify';
import { OperatorPermissions, Problems, actorFromContext, type HttpApp } from '@verity/kernel';
import type { PartContext, ScreeningResult } from '../contract.ts';
import {
  ImportQuery, ImportReply, ListVersionsReply, PlayerParams, PlayerScreeningReply, Problem, RefreshReply, ScreenBody, ScreenReply, ScreeningsQuery,
  ScreeningsReply, TAG_SANCTIONS,
} from './contracts.ts';
import { DOWNLOAD_JOB } from './handlers.ts';
import type { ListFormat } from './lists/types.ts';
import { decodeCursor, page } from './paging.ts';
import type { ListVersion, RescreenRun, SanctionsRepository, ScreeningRow } from './repository.ts';
import type { Sanctions } from './service.ts';

const bearer = [{ bearer: [] }];
const LIST_CONTENT_TYPES = ['text/csv', 'application/csv', 'application/xml', 'text/xml', 'text/plain', 'application/octet-stream'];

const listView = (v: ListVersion) => ({
  listId: v.id, source: v.source, version: v.version, format: v.format, origin: v.origin, contentSha256: v.contentSha256, publishedAt: v.publishedAt,
  entryCount: v.entryCount, nameCount: v.nameCount, importedBy: v.importedBy, importedAt: v.importedAt.toISOString(),
});
const runView = (r: RescreenRun) => ({
  runId: r.id, listId: r.listId, status: r.status, screened: r.screened, hits: r.hits, failed: r.failed, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
});
const screeningView = (s: ScreeningRow) => ({
  screeningId: s.id, playerId: s.playerId, trigger: s.trigger, algorithmVersion: s.algorithmVersion, hitThreshold: s.hitThreshold, candidateCutoff: s.candidateCutoff,
  listIds: s.listIds, outcome: s.outcome, bestScore: s.bestScore, matches: s.matches as Record<string, unknown>[], caseId: s.caseId, actor: s.actor, screenedAt: s.screenedAt.toISOString(),
});
const resultView = (r: ScreeningResult) => ({ ...r, screenedAt: r.screenedAt.toISOString() });

export interface RouteDeps {
  ctx: PartContext;
  repo: SanctionsRepository;
  sanctions: Sanctions;
  importMaxBytes: number;
  downloadConfigured: string[];
}

async function importRoute(app: HttpApp, deps: RouteDeps): Promise<void> {
  const guard = deps.ctx.auth.require([OperatorPermissions.sanctionsScreen], { mfa: true, kinds: ['operator'] });
  const bodies = new WeakMap<FastifyRequest, Buffer>();
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(LIST_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit: deps.importMaxBytes }, (req, body, done) => {
      bodies.set(req, body as Buffer);
      done(null, undefined);
    });
    scope.post('/v1/sanctions/lists/import', {
      preHandler: guard,
      bodyLimit: deps.importMaxBytes,
      schema: {
        operationId: 'importSanctionsList', tags: [TAG_SANCTIONS], security: bearer,
        summary: 'Import a sanctions list file (the body is the file: OFSI ConList.csv, OFAC sdn.xml or sdn.csv) as a new list version; every player is re-screened',
        querystring: ImportQuery, response: { 200: ImportReply, 201: ImportReply, '4xx': Problem },
      },
    }, async (req, reply) => {
      const bytes = bodies.get(req);
      if (!bytes || bytes.length === 0) throw Problems.malformed('Send the list file as the body (Content-Type text/csv or application/xml).');
      const { source } = req.query as { source: ListFormat };
      const result = await deps.sanctions.importList({ format: source, bytes, origin: 'upload', actor: actorFromContext() });
      return reply.code(result.unchanged ? 200 : 201).send(result);
    });
  });
}

export async function registerSanctionsRoutes(app: HttpApp, deps: RouteDeps): Promise<void> {
  const { ctx, repo, sanctions } = deps;
  const screener = ctx.auth.require([OperatorPermissions.sanctionsScreen], { mfa: true, kinds: ['operator'] });
  await importRoute(app, deps);

  app.get('/v1/sanctions/lists', {
    preHandler: screener,
    schema: { operationId: 'listSanctionsLists', tags: [TAG_SANCTIONS], security: bearer, summary: 'Sanctions list versions in use and imported, and re-screening runs', response: { 200: ListVersionsReply, '4xx': Problem } },
  }, async () => ({ current: (await repo.current()).map(listView), versions: (await repo.versions(100)).map(listView), rescreenRuns: (await repo.runs(20)).map(runView) }));

  app.post('/v1/sanctions/lists/refresh', {
    preHandler: screener,
    schema: { operationId: 'refreshSanctionsLists', tags: [TAG_SANCTIONS], security: bearer, summary: 'Download the configured lists now (SANCTIONS_OFSI_URL, SANCTIONS_OFAC_URL) instead of waiting for the daily job', response: { 202: RefreshReply, '4xx': Problem } },
  }, async (_req, reply) => {
    if (deps.downloadConfigured.length === 0) throw Problems.conflict('No list download is configured: set SANCTIONS_OFSI_URL or SANCTIONS_OFAC_URL, or import files.');
    const actor = actorFromContext();
    await ctx.db.tx(async () => {
      await ctx.jobs.enqueue(DOWNLOAD_JOB, { trigger: 'operator' });
      await ctx.audit.record({ actor, action: 'compliance.sanctions-download-requested', data: { sources: deps.downloadConfigured } });
    });
    return reply.code(202).send({ enqueued: true, sources: deps.downloadConfigured });
  });

  app.post('/v1/sanctions/screen', {
    preHandler: screener,
    schema: {
      operationId: 'screenName', tags: [TAG_SANCTIONS], security: bearer,
      summary: 'Screen a name (with optional date of birth and country) against the current lists: scored matches with explanations',
      body: ScreenBody, response: { 200: ScreenReply, '4xx': Problem },
    },
  }, async (req) => sanctions.screenName(req.body as ScreenBody, actorFromContext()));

  app.post('/v1/sanctions/players/:playerId/screen', {
    preHandler: screener,
    schema: { operationId: 'screenPlayer', tags: [TAG_SANCTIONS], security: bearer, summary: 'Screen a player now (a hit holds the player and opens a case)', params: PlayerParams, response: { 200: PlayerScreeningReply, '4xx': Problem } },
  }, async (req) => {
    const { playerId } = req.params as { playerId: string };
    const result = await sanctions.screenPlayer(playerId, 'operator');
    await ctx.db.tx(() => ctx.audit.record({ actor: actorFromContext(), action: 'compliance.sanctions-player-screened', subject: `player:${playerId}`, data: { screeningId: result.screeningId, outcome: result.outcome } }));
    return resultView(result);
  });

  app.get('/v1/sanctions/screenings', {
    preHandler: screener,
    schema: { operationId: 'listSanctionsScreenings', tags: [TAG_SANCTIONS], security: bearer, summary: 'Recorded screening decisions, newest first', querystring: ScreeningsQuery, response: { 200: ScreeningsReply, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { playerId?: string; cursor?: string; limit?: number };
    const limit = q.limit ?? 50;
    const beforeId = decodeCursor(q.cursor);
    const rows = await repo.screenings({ limit: limit + 1, ...(q.playerId ? { playerId: q.playerId } : {}), ...(beforeId ? { beforeId } : {}) });
    const p = page(rows, limit);
    return { items: p.items.map(screeningView), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
  });
}
