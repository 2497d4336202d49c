/** Wire contracts of the sanctions routes (unknown fields rejected, every string bounded). */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';
import { LIST_FORMATS } from './lists/types.ts';
import { NAME_CHARS_MAX } from './matching/normalize.ts';

export const TAG_SANCTIONS = 'Sanctions';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const DateTime = Type.String({ format: 'date-time' });
const Score = Type.Number({ minimum: 0, maximum: 1 });
const EntityType = Type.Union([Type.Literal('individual'), Type.Literal('entity'), Type.Literal('vessel'), Type.Literal('aircraft')]);
const Outcome = Type.Union([Type.Literal('clear'), Type.Literal('candidates'), Type.Literal('hit')], { description: 'hit: a match ≥ the hit threshold; candidates: matches ≥ the candidate cutoff only' });
const Strings = (max: number) => Type.Array(Type.String({ maxLength: 500 }), { maxItems: max });

export const ImportQuery = Strict({
  source: Type.Union(LIST_FORMATS.map((f) => Type.Literal(f)), { description: 'ofsi: UK OFSI consolidated list CSV (ConList.csv); ofac-sdn-xml: OFAC sdn.xml; ofac-sdn-csv: OFAC sdn.csv' }),
});

export const ListVersionDto = Strict({
  listId: Uuid,
  source: Type.Union([Type.Literal('ofsi'), Type.Literal('ofac-sdn')]),
  version: Type.Integer({ minimum: 1 }),
  format: Type.Union(LIST_FORMATS.map((f) => Type.Literal(f))),
  origin: Type.Union([Type.Literal('upload'), Type.Literal('download')]),
  contentSha256: Type.String({ maxLength: 64 }),
  publishedAt: Type.Union([Type.String({ maxLength: 40 }), Type.Null()], { description: 'The list\'s own date stamp as published' }),
  entryCount: Type.Integer({ minimum: 0 }),
  nameCount: Type.Integer({ minimum: 0 }),
  importedBy: Type.String({ maxLength: 200 }),
  importedAt: DateTime,
});

export const ImportReply = Strict({
  listId: Uuid,
  source: Type.String(),
  version: Type.Integer(),
  format: Type.String(),
  unchanged: Type.Boolean({ description: 'The file is byte-identical to the current version: no new version, nobody re-screened' }),
  entryCount: Type.Integer(),
  nameCount: Type.Integer(),
  rescreenRunId: Type.Optional(Uuid),
});

export const ListVersionsReply = Strict({
  current: Type.Array(ListVersionDto, { maxItems: 10, description: 'The version of each list screenings use now' }),
  versions: Type.Array(ListVersionDto, { maxItems: 100, description: 'Recent imports, newest first' }),
  rescreenRuns: Type.Array(Strict({
    runId: Uuid, listId: Uuid, status: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('superseded')]),
    screened: Type.Integer(), hits: Type.Integer(), failed: Type.Integer(), startedAt: DateTime, finishedAt: Type.Union([DateTime, Type.Null()]),
  }), { maxItems: 20 }),
});

export const RefreshReply = Strict({ enqueued: Type.Boolean(), sources: Type.Array(Type.String(), { maxItems: 2 }) });

export const ScreenBody = Strict({
  name: Type.String({ minLength: 1, maxLength: NAME_CHARS_MAX, description: 'Full name in any script; titles, punctuation, diacritics and word order do not matter' }),
  dateOfBirth: Type.Optional(Type.String({ format: 'date', maxLength: 10, description: 'YYYY-MM-DD: a matching listed date raises the score, a conflicting one lowers it' })),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2: nationality or residence' })),
  entityTypes: Type.Optional(Type.Array(EntityType, { minItems: 1, maxItems: 4, uniqueItems: true, description: 'Default: every kind of listed target' })),
});
export type ScreenBody = Static<typeof ScreenBody>;

const MatchDto = Strict({
  entryId: Uuid,
  source: Type.String(),
  listVersion: Type.Integer(),
  listRef: Type.String({ description: 'The list\'s own id (OFSI Group ID, OFAC uid)' }),
  entityType: EntityType,
  primaryName: Type.String(),
  matchedName: Type.String({ description: 'The listed name (primary or alias) that scored best' }),
  score: Score,
  band: Type.Union([Type.Literal('hit'), Type.Literal('candidate')]),
  features: Type.Record(Type.String(), Type.Number(), { description: 'Name features before weighting (logic-v1 style): the best weighted one is the name score' }),
  qualifiers: Type.Record(Type.String(), Type.Number(), { description: 'Adjustments applied: date of birth and country' }),
  explanation: Strings(10),
  programs: Strings(50),
  datesOfBirth: Strings(50),
  countries: Strings(50),
});

export const ScreenReply = Strict({
  screeningId: Uuid,
  algorithmVersion: Type.String(),
  hitThreshold: Score,
  candidateCutoff: Score,
  lists: Type.Array(Strict({ listId: Uuid, source: Type.String(), version: Type.Integer() }), { maxItems: 10 }),
  outcome: Outcome,
  bestScore: Type.Union([Score, Type.Null()]),
  matches: Type.Array(MatchDto, { maxItems: 25 }),
});

export const ScreeningsQuery = Strict({
  playerId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', maxLength: 64 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
});

export const ScreeningDto = Strict({
  screeningId: Uuid,
  playerId: Type.Union([Type.String(), Type.Null()]),
  trigger: Type.String(),
  algorithmVersion: Type.String(),
  hitThreshold: Score,
  candidateCutoff: Score,
  listIds: Type.Array(Uuid, { maxItems: 10 }),
  outcome: Outcome,
  bestScore: Type.Union([Score, Type.Null()]),
  matches: Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 25 }),
  caseId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  screenedAt: DateTime,
});
export const ScreeningsReply = Strict({ items: Type.Array(ScreeningDto, { maxItems: 100 }), nextCursor: Type.Optional(Type.String()) });

export const PlayerParams = Strict({ playerId: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', maxLength: 64 }) });
export const PlayerScreeningReply = Strict({
  screeningId: Uuid, playerId: Type.String(), outcome: Outcome, bestScore: Type.Union([Score, Type.Null()]), algorithmVersion: Type.String(),
  listIds: Type.Array(Uuid, { maxItems: 10 }), caseId: Type.Optional(Type.String()), screenedAt: DateTime,
});
