/** SQL of spot-the-ball judging: judges' points, the ranking of the valid placements, the result. */
import type { Db } from '@verity/kernel';
import type { Point, RankedEntry } from '../domain/spot-the-ball.ts';

export interface JudgementRow {
  round: number;
  judge: string;
  x: number;
  y: number;
  recordedAt: Date;
}

export interface ResultRow {
  competitionId: string;
  judgedX: number;
  judgedY: number;
  method: 'midpoint' | 'median-of-three';
  imageSha256: string;
  entries: number;
  rankingHash: string;
  winners: { rank: number; ticketId: string; ticketNumber: number; distanceSq: number }[];
  auditId: string;
  judgedAt: Date;
}

type R = Record<string, any>;

const toResult = (r: R): ResultRow => ({
  competitionId: r.competition_id, judgedX: r.judged_x, judgedY: r.judged_y, method: r.method, imageSha256: r.image_sha256, entries: r.entries,
  rankingHash: r.ranking_hash, winners: r.winners, auditId: r.audit_id, judgedAt: r.judged_at,
});

const toRanked = (r: R): RankedEntry & { rank: number } => ({
  rank: r.rank, ticketId: r.ticket_id, ticketNumber: Number(r.ticket_number), placementSeq: r.placement_seq, x: r.x, y: r.y, distanceSq: Number(r.distance_sq),
});

export function createJudgingRepository(db: Db) {
  return {
    /** Serialises judging of one competition (its read-model row exists once it closed). */
    async lockCompetition(competitionId: string): Promise<boolean> {
      return (await db.query('select 1 from skill.competitions where competition_id = $1 for update', [competitionId])).length === 1;
    },

    async judgements(competitionId: string): Promise<JudgementRow[]> {
      const rows = await db.query('select round, judge, x, y, recorded_at from skill.judgements where competition_id = $1 order by round', [competitionId]);
      return rows.map((r: R) => ({ round: r.round, judge: r.judge, x: r.x, y: r.y, recordedAt: r.recorded_at }));
    },

    async insertJudgement(competitionId: string, round: number, judge: string, p: Point, at: Date): Promise<void> {
      await db.query('insert into skill.judgements (competition_id, round, judge, x, y, recorded_at) values ($1, $2, $3, $4, $5, $6)', [competitionId, round, judge, p.x, p.y, at]);
    },

    /** Tickets skill has seen bought for the competition and not voided. */
    async validTickets(competitionId: string): Promise<number> {
      const r = await db.one<{ n: bigint }>(
        'select count(*) as n from skill.tickets t where t.competition_id = $1 and not exists (select 1 from skill.voided_tickets v where v.ticket_id = t.ticket_id)',
        [competitionId],
      );
      return Number(r.n);
    },

    /**
     * Ranks every placement linked to a valid ticket by the published order, in one statement:
     * squared distance in exact integers, then placement sequence, then ticket number. Returns the count.
     */
    async rank(competitionId: string, judged: Point): Promise<number> {
      const rows = await db.query<{ n: bigint }>(
        `with ranked as (
           insert into skill.judging_ranking (competition_id, rank, ticket_id, ticket_number, placement_seq, x, y, distance_sq)
           select $1, row_number() over (order by d.distance_sq, d.seq, d.ticket_number), d.ticket_id, d.ticket_number, d.seq, d.x, d.y, d.distance_sq
             from (select p.ticket_id, p.ticket_number, p.seq, p.x, p.y,
                          (p.x - $2::int8) * (p.x - $2::int8) + (p.y - $3::int8) * (p.y - $3::int8) as distance_sq
                     from skill.placements p
                    where p.competition_id = $1 and p.ticket_id is not null
                      and not exists (select 1 from skill.voided_tickets v where v.ticket_id = p.ticket_id)) d
           returning 1)
         select count(*) as n from ranked`,
        [competitionId, judged.x, judged.y],
      );
      return Number(rows[0]!.n);
    },

    async ranking(competitionId: string, afterRank: number, limit: number): Promise<(RankedEntry & { rank: number })[]> {
      const rows = await db.query('select * from skill.judging_ranking where competition_id = $1 and rank > $2 order by rank limit $3', [competitionId, afterRank, limit]);
      return rows.map(toRanked);
    },

    async insertResult(r: Omit<ResultRow, 'judgedAt'>, at: Date): Promise<ResultRow> {
      return toResult(await db.one(
        `insert into skill.judging_results (competition_id, judged_x, judged_y, method, image_sha256, entries, ranking_hash, winners, audit_id, judged_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *`,
        [r.competitionId, r.judgedX, r.judgedY, r.method, r.imageSha256, r.entries, r.rankingHash, JSON.stringify(r.winners), r.auditId, at],
      ));
    },

    async result(competitionId: string): Promise<ResultRow | undefined> {
      const r = await db.maybeOne('select * from skill.judging_results where competition_id = $1', [competitionId]);
      return r ? toResult(r) : undefined;
    },
  };
}

export type JudgingRepository = ReturnType<typeof createJudgingRepository>;
