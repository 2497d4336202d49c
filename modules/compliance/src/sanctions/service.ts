/**
 * Sanctions use cases: import a list version, screen a name (operators), screen a player (at
 * registration, before payouts, after a list change) and act on a hit: a sanctions-hit case and a
 * sanctions hold on the player, in the same transaction as the recorded decision.
 */
import { createHash } from 'node:crypto';
import { isDomainError, uuidv7 } from '@verity/kernel';
import type { Cases, Holds, PartContext, ScreeningResult, ScreeningTrigger } from '../contract.ts';
import { SanctionsProblems } from './errors.ts';
import { parseOfacCsv, parseOfacXml } from './lists/ofac.ts';
import { parseOfsiCsv } from './lists/ofsi.ts';
import { sourceOf, type ListEntry, type ListFormat, type ParsedList } from './lists/types.ts';
import { normalizeName, nameTokens } from './matching/normalize.ts';
import { retrievalKeys } from './matching/phonetic.ts';
import type { SanctionsRepository, ScreeningRow, StoredName } from './repository.ts';
import type { Match, Screener, ScreenInput, ScreenResult } from './screener.ts';

export const RESCREEN_JOB = 'sanctions-rescreen';

/** The part of identity's service screening uses (service-to-service only, never over public HTTP). */
interface IdentityLike {
  getPlayerIdentity(playerId: string): Promise<{ playerId: string; legalName: string; dateOfBirth: string; country: string }>;
}

export interface ImportResult {
  listId: string;
  source: string;
  version: number;
  format: ListFormat;
  unchanged: boolean;
  entryCount: number;
  nameCount: number;
  rescreenRunId?: string;
}

export interface SanctionsDeps {
  ctx: PartContext;
  repo: SanctionsRepository;
  screen: Screener;
  cases: Cases;
  holds: Holds;
  importMaxBytes: number;
}

function parse(format: ListFormat, text: string): ParsedList {
  switch (format) {
    case 'ofsi':
      return parseOfsiCsv(text);
    case 'ofac-sdn-xml':
      return parseOfacXml(text);
    case 'ofac-sdn-csv':
      return parseOfacCsv(text);
  }
}

function namesOf(entryId: string, e: ListEntry): StoredName[] {
  return e.names.map((n) => {
    const tokens = nameTokens(n.name);
    return { entryId, name: n.name, normalized: normalizeName(n.name), keys: retrievalKeys(tokens), kind: n.kind };
  });
}

/** What a case and the stored decision keep of a match (no scoring internals). */
const matchSummary = (m: Match) => ({ entryId: m.entryId, source: m.source, listVersion: m.listVersion, listRef: m.listRef, primaryName: m.primaryName, matchedName: m.matchedName, score: m.score, band: m.band, qualifiers: m.qualifiers, explanation: m.explanation, programs: m.programs });

export function toScreeningResult(row: ScreeningRow): ScreeningResult {
  return {
    screeningId: row.id, playerId: row.playerId ?? '', outcome: row.outcome, bestScore: row.bestScore, algorithmVersion: row.algorithmVersion,
    listIds: row.listIds, ...(row.caseId ? { caseId: row.caseId } : {}), screenedAt: row.screenedAt,
  };
}

export function createSanctions(deps: SanctionsDeps) {
  const { ctx, repo, screen, cases, holds } = deps;
  const queryHash = (input: ScreenInput) => ctx.crypto.keyedHash('compliance.sanctions-query', JSON.stringify([normalizeName(input.name), input.dateOfBirth ?? '', input.country ?? '']));

  async function importList(input: { format: ListFormat; bytes: Buffer; origin: 'upload' | 'download'; actor: string }): Promise<ImportResult> {
    if (input.bytes.length > deps.importMaxBytes) throw SanctionsProblems.listTooLarge(deps.importMaxBytes);
    if (input.bytes.length === 0) throw SanctionsProblems.listInvalid('The file is empty.');
    const sha = createHash('sha256').update(input.bytes).digest('hex');
    const source = sourceOf(input.format);
    const list = parse(input.format, input.bytes.toString('utf8'));
    return ctx.db.tx(async () => {
      await repo.lockSource(source);
      const latest = await repo.latest(source);
      if (latest && latest.contentSha256 === sha) {
        return { listId: latest.id, source, version: latest.version, format: latest.format, unchanged: true, entryCount: latest.entryCount, nameCount: latest.nameCount };
      }
      const listId = uuidv7();
      const entries = list.entries.map((e) => ({ ...e, id: uuidv7(), primaryName: (e.names.find((n) => n.kind === 'primary') ?? e.names[0]!).name }));
      const names = entries.flatMap((e) => namesOf(e.id, e));
      const version = (latest?.version ?? 0) + 1;
      await repo.insertList({
        id: listId, source, version, format: input.format, origin: input.origin, contentSha256: sha, publishedAt: list.publishedAt?.slice(0, 40) ?? null,
        entryCount: entries.length, nameCount: names.length, importedBy: input.actor,
      });
      await repo.insertEntries(listId, entries);
      await repo.insertNames(listId, names);
      const rescreenRunId = uuidv7();
      await repo.startRun(rescreenRunId, listId);
      await ctx.jobs.enqueue(RESCREEN_JOB, { runId: rescreenRunId }, { singletonKey: `rescreen:${rescreenRunId}` });
      await ctx.audit.record({
        actor: input.actor, action: 'compliance.sanctions-list-imported', subject: `sanctions-list:${listId}`,
        data: { source, version, format: input.format, origin: input.origin, contentSha256: sha, entryCount: entries.length, publishedAt: list.publishedAt ?? null, rescreenRunId },
      });
      return { listId, source, version, format: input.format, unchanged: false, entryCount: entries.length, nameCount: names.length, rescreenRunId };
    });
  }

  /** An operator's ad-hoc screening: recorded (query as a keyed hash) and audited. */
  async function screenName(input: ScreenInput, actor: string): Promise<ScreenResult & { screeningId: string }> {
    const result = await screen(input);
    const screeningId = uuidv7();
    await ctx.db.tx(async () => {
      await repo.insertScreening({
        id: screeningId, playerId: null, trigger: 'operator', queryHash: queryHash(input), algorithmVersion: result.algorithmVersion, hitThreshold: result.hitThreshold,
        candidateCutoff: result.candidateCutoff, listIds: result.lists.map((l) => l.listId), outcome: result.outcome, bestScore: result.bestScore,
        matches: result.matches.map(matchSummary), caseId: null, actor,
      });
      await ctx.audit.record({ actor, action: 'compliance.sanctions-name-screened', subject: `sanctions-screening:${screeningId}`, data: { outcome: result.outcome, bestScore: result.bestScore, matches: result.matches.length } });
    });
    return { ...result, screeningId };
  }

  async function identityOf(playerId: string): Promise<Awaited<ReturnType<IdentityLike['getPlayerIdentity']>>> {
    const identity = ctx.service<Partial<IdentityLike>>('identity');
    if (typeof identity.getPlayerIdentity !== 'function') throw SanctionsProblems.identityUnavailable(playerId);
    try {
      return await identity.getPlayerIdentity(playerId);
    } catch (err) {
      // Unknown (404) or erased (410): nothing to screen, and retrying will not change that.
      if (isDomainError(err) && (err.status === 404 || err.status === 410)) throw err;
      ctx.log.warn({ playerId, err: (err as Error).message }, 'identity not readable for sanctions screening');
      throw SanctionsProblems.identityUnavailable(playerId);
    }
  }

  /** A hit opens (or finds) the player's sanctions-hit case and holds the player's money movements. */
  async function actOnHit(playerId: string, screeningId: string, trigger: ScreeningTrigger, result: ScreenResult): Promise<string | undefined> {
    const top = result.matches[0]!;
    const opened = await cases.open({
      type: 'sanctions-hit',
      subject: `player:${playerId}`,
      summary: `Sanctions screening hit ${top.score} on ${top.source} ${top.listRef} (${top.primaryName}) at ${trigger}`,
      data: { playerId, screeningId, trigger, algorithmVersion: result.algorithmVersion, hitThreshold: result.hitThreshold, bestScore: result.bestScore, lists: result.lists, matches: result.matches.filter((m) => m.band === 'hit').slice(0, 5).map(matchSummary) },
      dedupeKey: `sanctions:${playerId}`,
    });
    const caseId = opened.caseId || undefined;
    await holds.place({ playerId, kind: 'sanctions', ...(caseId ? { caseId } : {}), reason: `Sanctions screening ${screeningId} scored ${top.score} against ${top.source} ${top.listRef}` });
    return caseId;
  }

  /** Screens a player's legal name, date of birth and country against individuals on every list. */
  async function screenPlayer(playerId: string, trigger: ScreeningTrigger): Promise<ScreeningResult> {
    const person = await identityOf(playerId);
    const input: ScreenInput = { name: person.legalName, dateOfBirth: person.dateOfBirth, country: person.country, entityTypes: ['individual'] };
    const result = await screen(input);
    return ctx.db.tx(async () => {
      const screeningId = uuidv7();
      const row: Omit<ScreeningRow, 'screenedAt'> = {
        id: screeningId, playerId, trigger, queryHash: queryHash(input), algorithmVersion: result.algorithmVersion, hitThreshold: result.hitThreshold,
        candidateCutoff: result.candidateCutoff, listIds: result.lists.map((l) => l.listId), outcome: result.outcome, bestScore: result.bestScore,
        matches: result.matches.map(matchSummary), caseId: null, actor: 'system',
      };
      const screenedAt = await repo.insertScreening(row);
      const caseId = result.outcome === 'hit' ? await actOnHit(playerId, screeningId, trigger, result) : undefined;
      if (caseId) await repo.setScreeningCase(screeningId, caseId);
      await repo.upsertPlayerStatus({ playerId, screeningId, outcome: result.outcome, bestScore: result.bestScore, algorithmVersion: result.algorithmVersion, listIds: row.listIds, screenedAt });
      if (result.outcome !== 'clear') ctx.log.info({ playerId, screeningId, trigger, outcome: result.outcome, bestScore: result.bestScore }, 'sanctions screening found matches');
      return toScreeningResult({ ...row, caseId: caseId ?? null, screenedAt });
    });
  }

  async function latest(playerId: string): Promise<ScreeningResult | undefined> {
    const row = await repo.latestForPlayer(playerId);
    return row ? toScreeningResult(row) : undefined;
  }

  return { importList, screenName, screenPlayer, latest };
}

export type Sanctions = ReturnType<typeof createSanctions>;
