/** SQL of skill tests, spot-the-ball images and the competition read model (from ticketing events). */
import type { Db } from '@verity/kernel';
import type { SkillTestKind } from '../contract.ts';

export interface TestRow {
  id: string;
  competitionId: string;
  kind: SkillTestKind;
  questionIds: string[] | null;
  category: string | null;
  postalVersionId: string | null;
  imageId: string | null;
  maxPlacementsPerToken: number | null;
  revision: number;
  configuredBy: string;
  configuredAt: Date;
  frozenAt: Date | null;
}

export interface ImageRow {
  id: string;
  sha256: string;
  objectKey: string;
  contentType: 'image/png' | 'image/jpeg';
  sizeBytes: number;
  width: number;
  height: number;
  uploadedBy: string;
  uploadedAt: Date;
}

export type CompetitionState = 'scheduled' | 'open' | 'closed' | 'cancelled';

export interface CompetitionRow {
  competitionId: string;
  state: CompetitionState;
  closesAt: Date | null;
  drawKind: string | null;
  winners: number;
  closedAt: Date | null;
  sold: number | null;
  voided: number | null;
}

type R = Record<string, any>;

const toTest = (r: R): TestRow => ({
  id: r.id, competitionId: r.competition_id, kind: r.kind, questionIds: r.question_ids, category: r.category, postalVersionId: r.postal_version_id,
  imageId: r.image_id, maxPlacementsPerToken: r.max_placements_per_token, revision: r.revision, configuredBy: r.configured_by,
  configuredAt: r.configured_at, frozenAt: r.frozen_at,
});

const toImage = (r: R): ImageRow => ({
  id: r.id, sha256: r.sha256, objectKey: r.object_key, contentType: r.content_type, sizeBytes: r.size_bytes, width: r.width, height: r.height,
  uploadedBy: r.uploaded_by, uploadedAt: r.uploaded_at,
});

const toCompetition = (r: R): CompetitionRow => ({
  competitionId: r.competition_id, state: r.state, closesAt: r.closes_at, drawKind: r.draw_kind, winners: r.winners, closedAt: r.closed_at, sold: r.sold, voided: r.voided,
});

/** Later lifecycle states win whatever order the events arrive in. */
const rank = (col: string) => `case ${col} when 'scheduled' then 0 when 'open' then 1 when 'closed' then 2 else 3 end`;

export interface TestConfig {
  kind: SkillTestKind;
  questionIds: string[] | null;
  category: string | null;
  postalVersionId: string | null;
  imageId: string | null;
  maxPlacementsPerToken: number | null;
}

export function createTestsRepository(db: Db) {
  return {
    async byCompetition(competitionId: string, lock = false): Promise<TestRow | undefined> {
      const r = await db.maybeOne(`select * from skill.tests where competition_id = $1 ${lock ? 'for update' : ''}`, [competitionId]);
      return r ? toTest(r) : undefined;
    },

    async byId(id: string): Promise<TestRow | undefined> {
      const r = await db.maybeOne('select * from skill.tests where id = $1', [id]);
      return r ? toTest(r) : undefined;
    },

    /** Inserts the competition's test, or replaces its configuration (a new revision) while not frozen. */
    async upsert(id: string, competitionId: string, c: TestConfig, by: string, at: Date): Promise<TestRow> {
      return toTest(await db.one(
        `insert into skill.tests (id, competition_id, kind, question_ids, category, postal_version_id, image_id, max_placements_per_token, configured_by, configured_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (competition_id) do update set kind = excluded.kind, question_ids = excluded.question_ids, category = excluded.category,
           postal_version_id = excluded.postal_version_id, image_id = excluded.image_id, max_placements_per_token = excluded.max_placements_per_token,
           configured_by = excluded.configured_by, configured_at = excluded.configured_at, revision = tests.revision + 1
         returning *`,
        [id, competitionId, c.kind, c.questionIds, c.category, c.postalVersionId, c.imageId, c.maxPlacementsPerToken, by, at],
      ));
    },

    async freeze(competitionId: string, at: Date): Promise<boolean> {
      return (await db.query('update skill.tests set frozen_at = $2 where competition_id = $1 and frozen_at is null returning id', [competitionId, at])).length === 1;
    },

    async insertImage(i: Omit<ImageRow, 'uploadedAt'>): Promise<ImageRow> {
      return toImage(await db.one(
        `insert into skill.images (id, sha256, object_key, content_type, size_bytes, width, height, uploaded_by) values ($1, $2, $3, $4, $5, $6, $7, $8) returning *`,
        [i.id, i.sha256, i.objectKey, i.contentType, i.sizeBytes, i.width, i.height, i.uploadedBy],
      ));
    },

    async image(id: string): Promise<ImageRow | undefined> {
      const r = await db.maybeOne('select * from skill.images where id = $1', [id]);
      return r ? toImage(r) : undefined;
    },

    async competition(competitionId: string): Promise<CompetitionRow | undefined> {
      const r = await db.maybeOne('select * from skill.competitions where competition_id = $1', [competitionId]);
      return r ? toCompetition(r) : undefined;
    },

    /** Applies one lifecycle fact; a state only ever moves forward. */
    async applyCompetition(f: { competitionId: string; state: CompetitionState; closesAt?: Date; drawKind?: string; winners?: number; closedAt?: Date; sold?: number; voided?: number; cancelReason?: string }): Promise<void> {
      await db.query(
        `insert into skill.competitions as c (competition_id, state, closes_at, draw_kind, winners, closed_at, sold, voided, cancel_reason)
         values ($1, $2, $3, $4, coalesce($5, 1), $6, $7, $8, $9)
         on conflict (competition_id) do update set
           state = case when ${rank('excluded.state')} > ${rank('c.state')} then excluded.state else c.state end,
           closes_at = coalesce(c.closes_at, excluded.closes_at), draw_kind = coalesce(excluded.draw_kind, c.draw_kind),
           winners = coalesce($5, c.winners), closed_at = coalesce(excluded.closed_at, c.closed_at), sold = coalesce(excluded.sold, c.sold),
           voided = coalesce(excluded.voided, c.voided), cancel_reason = coalesce(excluded.cancel_reason, c.cancel_reason), updated_at = clock_timestamp()`,
        [f.competitionId, f.state, f.closesAt ?? null, f.drawKind ?? null, f.winners ?? null, f.closedAt ?? null, f.sold ?? null, f.voided ?? null, f.cancelReason ?? null],
      );
    },

    async setClosesAt(competitionId: string, closesAt: Date): Promise<void> {
      await db.query(
        `insert into skill.competitions (competition_id, state, closes_at) values ($1, 'scheduled', $2)
         on conflict (competition_id) do update set closes_at = excluded.closes_at, updated_at = clock_timestamp()`,
        [competitionId, closesAt],
      );
    },
  };
}

export type TestsRepository = ReturnType<typeof createTestsRepository>;
