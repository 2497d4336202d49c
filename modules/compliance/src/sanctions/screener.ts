/**
 * One screening of a name against the current version of every list: candidates by retrieval key
 * from the database, each scored by the matcher, hits and candidates sorted by score.
 */
import { Problems } from '@verity/kernel';
import type { EntityType } from './lists/types.ts';
import { NAME_CHARS_MAX } from './matching/normalize.ts';
import { retrievalKeys } from './matching/phonetic.ts';
import { ALGORITHM_VERSION, prepareName, scoreEntry, type NameFeature, type Qualifier } from './matching/score.ts';
import type { SanctionsRepository } from './repository.ts';

/** Entries fetched per screening at most (best key overlap first). */
const CANDIDATES_MAX = 500;
/** Matches returned and stored per screening at most. */
export const MATCHES_MAX = 25;

export interface ScreenInput {
  name: string;
  /** ISO day. */
  dateOfBirth?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  /** Restrict to these kinds of listed targets (players are screened against individuals). */
  entityTypes?: EntityType[];
}

export interface Match {
  entryId: string;
  source: string;
  listVersion: number;
  listRef: string;
  entityType: EntityType;
  primaryName: string;
  matchedName: string;
  score: number;
  band: 'hit' | 'candidate';
  features: Record<NameFeature, number>;
  qualifiers: Partial<Record<Qualifier, number>>;
  explanation: string[];
  programs: string[];
  datesOfBirth: string[];
  countries: string[];
}

export interface ScreenResult {
  algorithmVersion: string;
  hitThreshold: number;
  candidateCutoff: number;
  lists: { listId: string; source: string; version: number }[];
  outcome: 'clear' | 'candidates' | 'hit';
  bestScore: number | null;
  matches: Match[];
}

export interface ScreenerSettings {
  hitThreshold: number;
  candidateCutoff: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function createScreener(repo: SanctionsRepository, settings: ScreenerSettings) {
  return async function screen(input: ScreenInput): Promise<ScreenResult> {
    const name = prepareName(input.name.slice(0, NAME_CHARS_MAX));
    if (name.tokens.length === 0) throw Problems.validation([{ pointer: '/body/name', detail: 'has no letters or digits to screen' }]);
    const query = { name, ...(input.dateOfBirth ? { dateOfBirth: input.dateOfBirth } : {}), ...(input.country ? { country: input.country } : {}) };
    const lists = await repo.current();
    const candidates = await repo.candidates(lists.map((l) => l.id), retrievalKeys(name.tokens), input.entityTypes, CANDIDATES_MAX);
    const matches: Match[] = [];
    for (const c of candidates) {
      const entry = { person: c.entityType === 'individual', names: c.names.map((n) => ({ name: n.name, prepared: prepareName(n.name) })), datesOfBirth: c.datesOfBirth, countries: c.countries };
      const scored = scoreEntry(query, entry);
      if (!scored || scored.score < settings.candidateCutoff) continue;
      matches.push({
        entryId: c.entryId, source: c.source, listVersion: c.listVersion, listRef: c.listRef, entityType: c.entityType, primaryName: c.primaryName,
        matchedName: scored.matchedName, score: scored.score, band: scored.score >= settings.hitThreshold ? 'hit' : 'candidate',
        features: Object.fromEntries(Object.entries(scored.nameScore.features).map(([k, v]) => [k, round3(v)])) as Record<NameFeature, number>,
        qualifiers: scored.qualifiers, explanation: scored.explanation, programs: c.programs, datesOfBirth: c.datesOfBirth, countries: c.countries,
      });
    }
    matches.sort((a, b) => b.score - a.score || a.primaryName.localeCompare(b.primaryName));
    const best = matches[0]?.score ?? null;
    const outcome = best === null ? 'clear' : best >= settings.hitThreshold ? 'hit' : 'candidates';
    return {
      algorithmVersion: ALGORITHM_VERSION,
      hitThreshold: settings.hitThreshold,
      candidateCutoff: settings.candidateCutoff,
      lists: lists.map((l) => ({ listId: l.id, source: l.source, version: l.version })),
      outcome,
      bestScore: best,
      matches: matches.slice(0, MATCHES_MAX),
    };
  };
}

export type Screener = ReturnType<typeof createScreener>;
