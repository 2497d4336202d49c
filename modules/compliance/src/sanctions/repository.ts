/**
 * The only SQL of the sanctions part: list versions and entries, candidate retrieval, screenings,
 * the latest result per player, re-screening runs.
 */
import type { Db } from '@verity/kernel';
import type { EntityType, ListEntry, ListFormat, ListSource } from './lists/types.ts';

export interface ListVersion {
  id: string;
  source: ListSource;
  version: number;
  format: ListFormat;
  origin: 'upload' | 'download';
  contentSha256: string;
  publishedAt: string | null;
  entryCount: number;
  nameCount: number;
  importedBy: string;
  importedAt: Date;
}

export interface StoredName {
  entryId: string;
  name: string;
  normalized: string;
  keys: string[];
  kind: 'primary' | 'alias' | 'weak-alias';
}

export interface CandidateEntry {
  entryId: string;
  listId: string;
  source: ListSource;
  listVersion: number;
  listRef: string;
  entityType: EntityType;
  primaryName: string;
  programs: string[];
  datesOfBirth: string[];
  countries: string[];
  names: { name: string; kind: string }[];
}

export interface ScreeningRow {
  id: string;
  playerId: string | null;
  trigger: string;
  queryHash: string;
  algorithmVersion: string;
  hitThreshold: number;
  candidateCutoff: number;
  listIds: string[];
  outcome: 'clear' | 'candidates' | 'hit';
  bestScore: number | null;
  matches: unknown[];
  caseId: string | null;
  actor: string;
  screenedAt: Date;
}

export interface RescreenRun {
  id: string;
  listId: string;
  status: 'running' | 'finished' | 'superseded';
  cursor: string | null;
  screened: number;
  hits: number;
  failed: number;
  startedAt: Date;
  finishedAt: Date | null;
}

/** Rows per INSERT … SELECT FROM unnest: large lists go in a few round trips. */
const INSERT_BATCH = 2_000;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const LIST_COLUMNS = `id, source, version, format, origin, content_sha256 as "contentSha256", published_at as "publishedAt",
  entry_count as "entryCount", name_count as "nameCount", imported_by as "importedBy", imported_at as "importedAt"`;

const SCREENING_COLUMNS = `id, player_id as "playerId", trigger, query_hash as "queryHash", algorithm_version as "algorithmVersion",
  hit_threshold as "hitThreshold", candidate_cutoff as "candidateCutoff", list_ids as "listIds", outcome, best_score as "bestScore",
  matches, case_id as "caseId", actor, screened_at as "screenedAt"`;

const toScreening = (r: ScreeningRow): ScreeningRow => ({ ...r, hitThreshold: Number(r.hitThreshold), candidateCutoff: Number(r.candidateCutoff), bestScore: num(r.bestScore) });

export function createSanctionsRepository(db: Db) {
  return {
    /** Serialises imports of one source (inside the import's transaction). */
    async lockSource(source: ListSource): Promise<void> {
      await db.query("select pg_advisory_xact_lock(hashtext('compliance.sanctions-list:' || $1))", [source]);
    },

    async latest(source: ListSource): Promise<ListVersion | undefined> {
      return db.maybeOne<ListVersion & Record<string, unknown>>(`select ${LIST_COLUMNS} from compliance.sanctions_lists where source = $1 order by version desc limit 1`, [source]);
    },

    /** The version of each source that screenings use now. */
    async current(): Promise<ListVersion[]> {
      return db.query<ListVersion & Record<string, unknown>>(`select distinct on (source) ${LIST_COLUMNS} from compliance.sanctions_lists order by source, version desc`);
    },

    async versions(limit: number): Promise<ListVersion[]> {
      return db.query<ListVersion & Record<string, unknown>>(`select ${LIST_COLUMNS} from compliance.sanctions_lists order by imported_at desc, source limit $1`, [limit]);
    },

    async insertList(v: Omit<ListVersion, 'importedAt'>): Promise<void> {
      await db.query(
        `insert into compliance.sanctions_lists (id, source, version, format, origin, content_sha256, published_at, entry_count, name_count, imported_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [v.id, v.source, v.version, v.format, v.origin, v.contentSha256, v.publishedAt, v.entryCount, v.nameCount, v.importedBy],
      );
    },

    async insertEntries(listId: string, entries: (ListEntry & { id: string; primaryName: string })[]): Promise<void> {
      for (let i = 0; i < entries.length; i += INSERT_BATCH) {
        const batch = entries.slice(i, i + INSERT_BATCH);
        await db.query(
          `insert into compliance.sanctions_entries (id, list_id, list_ref, entity_type, primary_name, programs, dates_of_birth, countries, details)
           select e.id, $1, e.list_ref, e.entity_type, e.primary_name,
                  array(select jsonb_array_elements_text(e.programs)), array(select jsonb_array_elements_text(e.dobs)),
                  array(select jsonb_array_elements_text(e.countries)), e.details
             from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::jsonb[])
                  as e(id, list_ref, entity_type, primary_name, programs, dobs, countries, details)`,
          [
            listId,
            batch.map((e) => e.id),
            batch.map((e) => e.listRef),
            batch.map((e) => e.entityType),
            batch.map((e) => e.primaryName.slice(0, 500)),
            batch.map((e) => JSON.stringify(e.programs)),
            batch.map((e) => JSON.stringify(e.datesOfBirth)),
            batch.map((e) => JSON.stringify(e.countries)),
            batch.map((e) => JSON.stringify(e.details)),
          ],
        );
      }
    },

    async insertNames(listId: string, names: StoredName[]): Promise<void> {
      for (let i = 0; i < names.length; i += INSERT_BATCH) {
        const batch = names.slice(i, i + INSERT_BATCH);
        await db.query(
          `insert into compliance.sanctions_names (entry_id, list_id, name, normalized, kind, keys)
           select n.entry_id, $1, n.name, n.normalized, n.kind, array(select jsonb_array_elements_text(n.keys))
             from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) as n(entry_id, name, normalized, kind, keys)`,
          [listId, batch.map((n) => n.entryId), batch.map((n) => n.name.slice(0, 500)), batch.map((n) => n.normalized.slice(0, 500)), batch.map((n) => n.kind), batch.map((n) => JSON.stringify(n.keys))],
        );
      }
    },

    /**
     * Entries of these list versions with a screenable name sharing a retrieval key with the query,
     * best overlap first, with all their screenable names (the best-scoring name may share no key).
     */
    async candidates(listIds: readonly string[], keys: readonly string[], entityTypes: readonly EntityType[] | undefined, limit: number): Promise<CandidateEntry[]> {
      if (listIds.length === 0 || keys.length === 0) return [];
      return db.query<CandidateEntry & Record<string, unknown>>(
        `with hits as (
           select n.entry_id, max(cardinality(array(select unnest(n.keys) intersect select unnest($2::text[])))) as overlap
             from compliance.sanctions_names n
            where n.list_id = any($1::uuid[]) and n.keys && $2::text[] and n.kind <> 'weak-alias'
            group by n.entry_id
            order by overlap desc
            limit $4)
         select e.id as "entryId", e.list_id as "listId", l.source, l.version as "listVersion", e.list_ref as "listRef", e.entity_type as "entityType",
                e.primary_name as "primaryName", e.programs, e.dates_of_birth as "datesOfBirth", e.countries,
                (select jsonb_agg(jsonb_build_object('name', n.name, 'kind', n.kind) order by n.id)
                   from compliance.sanctions_names n where n.entry_id = e.id and n.kind <> 'weak-alias') as names
           from hits h
           join compliance.sanctions_entries e on e.id = h.entry_id
           join compliance.sanctions_lists l on l.id = e.list_id
          where $3::text[] is null or e.entity_type = any($3::text[])`,
        [listIds, keys, entityTypes ?? null, limit],
      );
    },

    async insertScreening(s: Omit<ScreeningRow, 'screenedAt'>): Promise<Date> {
      const row = await db.one<{ screenedAt: Date }>(
        `insert into compliance.sanctions_screenings (id, player_id, trigger, query_hash, algorithm_version, hit_threshold, candidate_cutoff, list_ids, outcome, best_score, matches, case_id, actor)
         values ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9, $10, $11::jsonb, $12, $13) returning screened_at as "screenedAt"`,
        [s.id, s.playerId, s.trigger, s.queryHash, s.algorithmVersion, s.hitThreshold, s.candidateCutoff, s.listIds, s.outcome, s.bestScore, JSON.stringify(s.matches), s.caseId, s.actor],
      );
      return row.screenedAt;
    },

    async setScreeningCase(id: string, caseId: string): Promise<void> {
      await db.query('update compliance.sanctions_screenings set case_id = $2 where id = $1', [id, caseId]);
    },

    async upsertPlayerStatus(s: { playerId: string; screeningId: string; outcome: string; bestScore: number | null; algorithmVersion: string; listIds: string[]; screenedAt: Date }): Promise<void> {
      await db.query(
        `insert into compliance.sanctions_player_status (player_id, screening_id, outcome, best_score, algorithm_version, list_ids, screened_at)
         values ($1, $2, $3, $4, $5, $6::uuid[], $7)
         on conflict (player_id) do update set screening_id = excluded.screening_id, outcome = excluded.outcome, best_score = excluded.best_score,
           algorithm_version = excluded.algorithm_version, list_ids = excluded.list_ids, screened_at = excluded.screened_at
         where compliance.sanctions_player_status.screened_at <= excluded.screened_at`,
        [s.playerId, s.screeningId, s.outcome, s.bestScore, s.algorithmVersion, s.listIds, s.screenedAt],
      );
    },

    async latestForPlayer(playerId: string): Promise<ScreeningRow | undefined> {
      const row = await db.maybeOne<ScreeningRow & Record<string, unknown>>(
        `select ${SCREENING_COLUMNS} from compliance.sanctions_screenings
          where id = (select screening_id from compliance.sanctions_player_status where player_id = $1)`,
        [playerId],
      );
      return row ? toScreening(row) : undefined;
    },

    /** Newest first (ids are UUIDv7: time-ordered). */
    async screenings(filter: { playerId?: string; beforeId?: string; limit: number }): Promise<ScreeningRow[]> {
      const rows = await db.query<ScreeningRow & Record<string, unknown>>(
        `select ${SCREENING_COLUMNS} from compliance.sanctions_screenings
          where ($1::text is null or player_id = $1) and ($2::uuid is null or id < $2)
          order by id desc limit $3`,
        [filter.playerId ?? null, filter.beforeId ?? null, filter.limit],
      );
      return rows.map(toScreening);
    },

    /** A new run for a list change; runs still going stop (the new one covers every player). */
    async startRun(id: string, listId: string): Promise<void> {
      await db.query("update compliance.sanctions_rescreen_runs set status = 'superseded', finished_at = clock_timestamp() where status = 'running'");
      await db.query("insert into compliance.sanctions_rescreen_runs (id, list_id, status) values ($1, $2, 'running')", [id, listId]);
    },

    async run(id: string, forUpdate = false): Promise<RescreenRun | undefined> {
      return db.maybeOne<RescreenRun & Record<string, unknown>>(
        `select id, list_id as "listId", status, cursor, screened, hits, failed, started_at as "startedAt", finished_at as "finishedAt"
           from compliance.sanctions_rescreen_runs where id = $1 ${forUpdate ? 'for update' : ''}`,
        [id],
      );
    },

    async runs(limit: number): Promise<RescreenRun[]> {
      return db.query<RescreenRun & Record<string, unknown>>(
        `select id, list_id as "listId", status, cursor, screened, hits, failed, started_at as "startedAt", finished_at as "finishedAt"
           from compliance.sanctions_rescreen_runs order by started_at desc limit $1`,
        [limit],
      );
    },

    /**
     * Moves a run past a batch; false when the run is no longer where this batch started (a repeated
     * delivery of the same job, or a superseded run), so the caller does not chain another batch.
     */
    async advanceRun(id: string, from: string | null, step: { cursor: string | null; screened: number; hits: number; failed: number; finished: boolean }): Promise<boolean> {
      const rows = await db.query(
        `update compliance.sanctions_rescreen_runs
            set cursor = $3, screened = screened + $4, hits = hits + $5, failed = failed + $6,
                status = case when $7 then 'finished' else status end, finished_at = case when $7 then clock_timestamp() else finished_at end
          where id = $1 and status = 'running' and cursor is not distinct from $2
          returning id`,
        [id, from, step.cursor, step.screened, step.hits, step.failed, step.finished],
      );
      return rows.length === 1;
    },

    /** Players screened before, in id order after `cursor` (the population a list change re-screens). */
    async playersAfter(cursor: string | null, limit: number): Promise<string[]> {
      const rows = await db.query<{ playerId: string }>(
        'select player_id as "playerId" from compliance.sanctions_player_status where $1::text is null or player_id > $1 order by player_id limit $2',
        [cursor, limit],
      );
      return rows.map((r) => r.playerId);
    },
  };
}

export type SanctionsRepository = ReturnType<typeof createSanctionsRepository>;
