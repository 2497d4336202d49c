/** SQL of the question bank: questions, versions, answer statistics and pass-rate alerts. */
import type { Db } from '@verity/kernel';
import type { Difficulty, VersionState } from '../domain/question.ts';

export interface QuestionRow {
  id: string;
  createdBy: string;
  createdAt: Date;
  latestVersion: number;
  activeVersionId: string | null;
  retiredAt: Date | null;
  retiredBy: string | null;
  retireReason: string | null;
}

export interface VersionRow {
  id: string;
  questionId: string;
  version: number;
  text: string;
  options: { id: string; text: string }[];
  correctOptionId: string;
  category: string;
  difficulty: Difficulty;
  state: VersionState;
  authoredBy: string;
  authoredAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  suspendedAt: Date | null;
  alertedAt: Date | null;
}

export interface VersionStats {
  answers: number;
  passes: number;
  firstTryAnswers: number;
  firstTryPasses: number;
}

export interface AlertRow {
  id: string;
  questionId: string;
  versionId: string;
  answers: number;
  passes: number;
  passRateBp: number;
  maxPassRateBp: number;
  minAnswers: number;
  suspended: boolean;
  raisedAt: Date;
}

type R = Record<string, any>;

const toQuestion = (r: R): QuestionRow => ({
  id: r.id, createdBy: r.created_by, createdAt: r.created_at, latestVersion: r.latest_version, activeVersionId: r.active_version_id,
  retiredAt: r.retired_at, retiredBy: r.retired_by, retireReason: r.retire_reason,
});

export const toVersion = (r: R): VersionRow => ({
  id: r.id, questionId: r.question_id, version: r.version, text: r.text, options: r.options, correctOptionId: r.correct_option_id,
  category: r.category, difficulty: r.difficulty, state: r.state, authoredBy: r.authored_by, authoredAt: r.authored_at,
  decidedBy: r.decided_by, decidedAt: r.decided_at, decisionReason: r.decision_reason, suspendedAt: r.suspended_at, alertedAt: r.alerted_at,
});

const toAlert = (r: R): AlertRow => ({
  id: r.id, questionId: r.question_id, versionId: r.version_id, answers: Number(r.answers), passes: Number(r.passes), passRateBp: r.pass_rate_bp,
  maxPassRateBp: r.max_pass_rate_bp, minAnswers: r.min_answers, suspended: r.suspended, raisedAt: r.raised_at,
});

const EMPTY: VersionStats = { answers: 0, passes: 0, firstTryAnswers: 0, firstTryPasses: 0 };
export const STATS_SHARDS = 8;

export function createBankRepository(db: Db) {
  return {
    async insertQuestion(id: string, createdBy: string): Promise<void> {
      await db.query('insert into skill.questions (id, created_by) values ($1, $2)', [id, createdBy]);
    },

    async question(id: string, lock = false): Promise<QuestionRow | undefined> {
      const r = await db.maybeOne(`select * from skill.questions where id = $1 ${lock ? 'for update' : ''}`, [id]);
      return r ? toQuestion(r) : undefined;
    },

    async insertVersion(v: { id: string; questionId: string; text: string; options: { id: string; text: string }[]; correctOptionId: string; category: string; difficulty: Difficulty; authoredBy: string }): Promise<VersionRow> {
      const r = await db.one(
        `with q as (update skill.questions set latest_version = latest_version + 1 where id = $2 returning latest_version)
         insert into skill.question_versions (id, question_id, version, text, options, correct_option_id, category, difficulty, state, authored_by)
         select $1, $2, q.latest_version, $3, $4, $5, $6, $7, 'pending', $8 from q returning *`,
        [v.id, v.questionId, v.text, JSON.stringify(v.options), v.correctOptionId, v.category, v.difficulty, v.authoredBy],
      );
      return toVersion(r);
    },

    async version(id: string, lock = false): Promise<VersionRow | undefined> {
      const r = await db.maybeOne(`select * from skill.question_versions where id = $1 ${lock ? 'for update' : ''}`, [id]);
      return r ? toVersion(r) : undefined;
    },

    async versionsOf(questionId: string): Promise<VersionRow[]> {
      return (await db.query('select * from skill.question_versions where question_id = $1 order by version desc limit 200', [questionId])).map(toVersion);
    },

    /** Earlier pending versions give way to a newer revision. */
    async supersedePending(questionId: string, exceptId: string): Promise<void> {
      await db.query("update skill.question_versions set state = 'superseded' where question_id = $1 and state = 'pending' and id <> $2", [questionId, exceptId]);
    },

    async decide(id: string, state: 'approved' | 'rejected', decidedBy: string, reason: string | null, at: Date): Promise<VersionRow> {
      return toVersion(await db.one(
        'update skill.question_versions set state = $2, decided_by = $3, decision_reason = $4, decided_at = $5 where id = $1 returning *',
        [id, state, decidedBy, reason, at],
      ));
    },

    /** The approved version becomes the one entrants get; the one before it is superseded. */
    async activate(questionId: string, versionId: string): Promise<void> {
      await db.query(
        `update skill.question_versions set state = 'superseded'
          where id = (select active_version_id from skill.questions where id = $1) and id <> $2 and state in ('approved', 'suspended')`,
        [questionId, versionId],
      );
      await db.query('update skill.questions set active_version_id = $2 where id = $1', [questionId, versionId]);
    },

    async retire(questionId: string, by: string, reason: string, at: Date): Promise<void> {
      await db.query('update skill.questions set retired_at = $2, retired_by = $3, retire_reason = $4 where id = $1', [questionId, at, by, reason]);
    },

    async list(filter: { category?: string; status?: 'active' | 'pending' | 'retired'; afterId?: string; limit: number }): Promise<{ question: QuestionRow; latest: VersionRow; active?: VersionRow }[]> {
      const rows = await db.query(
        `select to_jsonb(q) as q, to_jsonb(l) as l, to_jsonb(a) as a
           from skill.questions q
           join skill.question_versions l on l.question_id = q.id and l.version = q.latest_version
           left join skill.question_versions a on a.id = q.active_version_id
          where ($1::text is null or coalesce(a.category, l.category) = $1)
            and ($2::text is null
                 or ($2 = 'retired' and q.retired_at is not null)
                 or ($2 = 'active' and q.retired_at is null and a.state = 'approved')
                 or ($2 = 'pending' and q.retired_at is null and exists (select 1 from skill.question_versions p where p.question_id = q.id and p.state = 'pending')))
            and ($3::uuid is null or q.id < $3)
          order by q.id desc limit $4`,
        [filter.category ?? null, filter.status ?? null, filter.afterId ?? null, filter.limit],
      );
      const dated = (r: R) => ({ ...r, created_at: new Date(r.created_at), retired_at: r.retired_at ? new Date(r.retired_at) : null });
      const datedV = (r: R) => toVersion({ ...r, authored_at: new Date(r.authored_at), decided_at: r.decided_at ? new Date(r.decided_at) : null, suspended_at: r.suspended_at ? new Date(r.suspended_at) : null, alerted_at: r.alerted_at ? new Date(r.alerted_at) : null });
      return rows.map((r: R) => ({ question: toQuestion(dated(r.q)), latest: datedV(r.l), ...(r.a ? { active: datedV(r.a) } : {}) }));
    },

    /** Active, approved versions of live questions: those of `questionIds`, or of a category. */
    async usableVersions(by: { questionIds?: string[]; category?: string }): Promise<VersionRow[]> {
      const rows = await db.query(
        `select v.* from skill.questions q join skill.question_versions v on v.id = q.active_version_id
          where q.retired_at is null and v.state = 'approved'
            and (($1::uuid[] is not null and q.id = any($1)) or ($2::text is not null and v.category = $2))
          order by v.id limit 1000`,
        [by.questionIds ?? null, by.category ?? null],
      );
      return rows.map(toVersion);
    },

    async stats(versionIds: readonly string[]): Promise<Map<string, VersionStats>> {
      const rows = await db.query<{ version_id: string; answers: bigint; passes: bigint; fa: bigint; fp: bigint }>(
        `select version_id, sum(answers)::int8 as answers, sum(passes)::int8 as passes, sum(first_try_answers)::int8 as fa, sum(first_try_passes)::int8 as fp
           from skill.question_stats where version_id = any($1::uuid[]) group by version_id`,
        [versionIds],
      );
      const out = new Map<string, VersionStats>();
      for (const id of versionIds) out.set(id, { ...EMPTY });
      for (const r of rows) out.set(r.version_id, { answers: Number(r.answers), passes: Number(r.passes), firstTryAnswers: Number(r.fa), firstTryPasses: Number(r.fp) });
      return out;
    },

    /** One answer counted on a random shard; returns the version's totals after it. */
    async countAnswer(versionId: string, shard: number, passed: boolean, firstTry: boolean): Promise<VersionStats> {
      const p = passed ? 1 : 0;
      const f = firstTry ? 1 : 0;
      await db.query(
        `insert into skill.question_stats (version_id, shard, answers, passes, first_try_answers, first_try_passes) values ($1, $2, 1, $3, $4, $5)
         on conflict (version_id, shard) do update set answers = question_stats.answers + 1, passes = question_stats.passes + excluded.passes,
           first_try_answers = question_stats.first_try_answers + excluded.first_try_answers, first_try_passes = question_stats.first_try_passes + excluded.first_try_passes`,
        [versionId, shard, p, f, f * p],
      );
      return (await this.stats([versionId])).get(versionId)!;
    },

    /** True for exactly one caller: the alert is raised once per version. */
    async markAlerted(versionId: string, at: Date): Promise<boolean> {
      return (await db.query('update skill.question_versions set alerted_at = $2 where id = $1 and alerted_at is null returning id', [versionId, at])).length === 1;
    },

    async suspend(versionId: string, at: Date): Promise<void> {
      await db.query("update skill.question_versions set state = 'suspended', suspended_at = $2 where id = $1 and state = 'approved'", [versionId, at]);
    },

    async insertAlert(a: Omit<AlertRow, 'raisedAt'>, at: Date): Promise<AlertRow> {
      return toAlert(await db.one(
        `insert into skill.pass_rate_alerts (id, question_id, version_id, answers, passes, pass_rate_bp, max_pass_rate_bp, min_answers, suspended, raised_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *`,
        [a.id, a.questionId, a.versionId, a.answers, a.passes, a.passRateBp, a.maxPassRateBp, a.minAnswers, a.suspended, at],
      ));
    },

    async alerts(afterId: string | undefined, limit: number): Promise<AlertRow[]> {
      return (await db.query('select * from skill.pass_rate_alerts where ($1::uuid is null or id < $1) order by id desc limit $2', [afterId ?? null, limit])).map(toAlert);
    },
  };
}

export type BankRepository = ReturnType<typeof createBankRepository>;
