/** SQL of entrants, attempts, spot-the-ball placements and the tickets they are linked to. */
import type { Db } from '@verity/kernel';
import type { SkillTestKind } from '../contract.ts';
import type { AttemptState } from '../domain/attempt.ts';
import type { Point } from '../domain/spot-the-ball.ts';

export interface AttemptRow {
  id: string;
  testId: string;
  competitionId: string;
  playerId: string;
  kind: SkillTestKind;
  attemptNo: number;
  questionVersionId: string | null;
  state: AttemptState;
  startedAt: Date;
  expiresAt: Date;
  answeredAt: Date | null;
  optionId: string | null;
  tokenId: string | null;
  tokenExpiresAt: Date | null;
  placements: number | null;
  tokenUsedAt: Date | null;
  purchaseId: string | null;
}

export interface PlacementRow {
  seq: bigint;
  attemptId: string;
  idx: number;
  x: number;
  y: number;
  ticketId: string | null;
}

type R = Record<string, any>;

const toAttempt = (r: R): AttemptRow => ({
  id: r.id, testId: r.test_id, competitionId: r.competition_id, playerId: r.player_id, kind: r.kind, attemptNo: r.attempt_no,
  questionVersionId: r.question_version_id, state: r.state, startedAt: r.started_at, expiresAt: r.expires_at, answeredAt: r.answered_at,
  optionId: r.option_id, tokenId: r.token_id, tokenExpiresAt: r.token_expires_at, placements: r.placements, tokenUsedAt: r.token_used_at, purchaseId: r.purchase_id,
});

export function createAttemptsRepository(db: Db) {
  return {
    /** The entrant's row, locked: attempts of one entrant on one competition are decided one at a time. */
    async lockEntrant(playerId: string, competitionId: string): Promise<{ attempts: number; lastFailedVersionId: string | null }> {
      await db.query('insert into skill.entrants (player_id, competition_id) values ($1, $2) on conflict do nothing', [playerId, competitionId]);
      const r = await db.one('select attempts, last_failed_version_id from skill.entrants where player_id = $1 and competition_id = $2 for update', [playerId, competitionId]);
      return { attempts: r.attempts as number, lastFailedVersionId: r.last_failed_version_id as string | null };
    },

    async nextAttemptNo(playerId: string, competitionId: string): Promise<number> {
      return (await db.one<{ attempts: number }>('update skill.entrants set attempts = attempts + 1 where player_id = $1 and competition_id = $2 returning attempts', [playerId, competitionId])).attempts;
    },

    async setLastFailed(playerId: string, competitionId: string, versionId: string): Promise<void> {
      await db.query('update skill.entrants set last_failed_version_id = $3 where player_id = $1 and competition_id = $2', [playerId, competitionId, versionId]);
    },

    async expireStale(playerId: string, competitionId: string, now: Date): Promise<void> {
      await db.query("update skill.attempts set state = 'expired' where player_id = $1 and competition_id = $2 and state = 'open' and expires_at < $3", [playerId, competitionId, now]);
    },

    async openAttempt(playerId: string, competitionId: string): Promise<AttemptRow | undefined> {
      const r = await db.maybeOne("select * from skill.attempts where player_id = $1 and competition_id = $2 and state = 'open' order by started_at desc limit 1", [playerId, competitionId]);
      return r ? toAttempt(r) : undefined;
    },

    /** Attempts in the window that did not pass, and when the oldest of them started. */
    async unsuccessfulSince(playerId: string, competitionId: string, since: Date): Promise<{ count: number; oldest: Date | null }> {
      const r = await db.one<{ n: bigint; oldest: Date | null }>(
        "select count(*) as n, min(started_at) as oldest from skill.attempts where player_id = $1 and competition_id = $2 and state <> 'passed' and started_at > $3",
        [playerId, competitionId, since],
      );
      return { count: Number(r.n), oldest: r.oldest };
    },

    async insert(a: Pick<AttemptRow, 'id' | 'testId' | 'competitionId' | 'playerId' | 'kind' | 'attemptNo' | 'questionVersionId' | 'startedAt' | 'expiresAt'>): Promise<AttemptRow> {
      return toAttempt(await db.one(
        `insert into skill.attempts (id, test_id, competition_id, player_id, kind, attempt_no, question_version_id, state, started_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) returning *`,
        [a.id, a.testId, a.competitionId, a.playerId, a.kind, a.attemptNo, a.questionVersionId, a.startedAt, a.expiresAt],
      ));
    },

    async lock(id: string): Promise<AttemptRow | undefined> {
      const r = await db.maybeOne('select * from skill.attempts where id = $1 for update', [id]);
      return r ? toAttempt(r) : undefined;
    },

    async settle(id: string, s: { state: AttemptState; at: Date; optionId?: string; tokenId?: string; tokenExpiresAt?: Date; placements?: number }): Promise<void> {
      await db.query(
        'update skill.attempts set state = $2, answered_at = $3, option_id = $4, token_id = $5, token_expires_at = $6, placements = $7 where id = $1',
        [id, s.state, s.at, s.optionId ?? null, s.tokenId ?? null, s.tokenExpiresAt ?? null, s.placements ?? null],
      );
    },

    async expire(id: string): Promise<void> {
      await db.query("update skill.attempts set state = 'expired' where id = $1 and state = 'open'", [id]);
    },

    async insertPlacements(attemptId: string, competitionId: string, points: readonly Point[], at: Date): Promise<void> {
      // One statement in index order: the identity sequence numbers them in that order.
      await db.query(
        `insert into skill.placements (attempt_id, competition_id, idx, x, y, placed_at)
         select $1, $2, p.idx - 1, p.x, p.y, $5 from unnest($3::int[], $4::int[]) with ordinality as p(x, y, idx) order by p.idx`,
        [attemptId, competitionId, points.map((p) => p.x), points.map((p) => p.y), at],
      );
    },

    /** Marks the token used by a purchase; the attempt, or undefined when the token is unknown or was already used. */
    async useToken(tokenId: string, purchaseId: string, at: Date): Promise<AttemptRow | undefined> {
      const r = await db.maybeOne('update skill.attempts set token_used_at = $3, purchase_id = $2 where token_id = $1 and token_used_at is null returning *', [tokenId, purchaseId, at]);
      return r ? toAttempt(r) : undefined;
    },

    async byToken(tokenId: string): Promise<AttemptRow | undefined> {
      const r = await db.maybeOne('select * from skill.attempts where token_id = $1', [tokenId]);
      return r ? toAttempt(r) : undefined;
    },

    async placementsOf(attemptId: string): Promise<PlacementRow[]> {
      const rows = await db.query('select seq, attempt_id, idx, x, y, ticket_id from skill.placements where attempt_id = $1 order by idx', [attemptId]);
      return rows.map((r: R) => ({ seq: r.seq, attemptId: r.attempt_id, idx: r.idx, x: r.x, y: r.y, ticketId: r.ticket_id }));
    },

    async recordTickets(competitionId: string, purchaseId: string, tickets: readonly { ticketId: string; number: number }[]): Promise<void> {
      await db.query(
        `insert into skill.tickets (ticket_id, competition_id, number, purchase_id)
         select t.id, $1, t.n, $2 from unnest($3::uuid[], $4::int8[]) as t(id, n) on conflict do nothing`,
        [competitionId, purchaseId, tickets.map((t) => t.ticketId), tickets.map((t) => t.number)],
      );
    },

    /** Placement i of the attempt ↔ ticket i of the purchase (both in order). */
    async linkPlacements(links: readonly { seq: bigint; ticketId: string; number: number }[]): Promise<void> {
      if (links.length === 0) return;
      await db.query(
        `update skill.placements p set ticket_id = l.ticket_id, ticket_number = l.n
           from unnest($1::int8[], $2::uuid[], $3::int8[]) as l(seq, ticket_id, n) where p.seq = l.seq and p.ticket_id is null`,
        [links.map((l) => l.seq), links.map((l) => l.ticketId), links.map((l) => l.number)],
      );
    },

    async recordVoided(competitionId: string, ticketIds: readonly string[], reason: string): Promise<void> {
      await db.query(
        'insert into skill.voided_tickets (ticket_id, competition_id, reason) select t, $1, $3 from unnest($2::uuid[]) as t on conflict do nothing',
        [competitionId, ticketIds, reason],
      );
    },
  };
}

export type AttemptsRepository = ReturnType<typeof createAttemptsRepository>;
