/** SQL of the player read model, self-exclusions, time-outs, spend limits and purchase spend. */
import type { Db } from '@verity/kernel';
import type { HoldKind } from '../contract.ts';
import { PERIODS, WINDOW_HOURS, type LimitState, type Period, type PlayerFacts } from './domain.ts';

export interface PlayerRow {
  playerId: string;
  country: string | null;
  registeredAt: Date | null;
  verificationStatus: string;
  ageVerified: boolean;
  underAge: boolean;
  verificationDecidedAt: Date | null;
  marketingSuppressed: boolean;
  marketingSuppressedAt: Date | null;
  registerStatus: 'Y' | 'N' | 'P' | null;
  registerCheckedAt: Date | null;
  closedAt: Date | null;
  closedReason: string | null;
  erasedAt: Date | null;
}

export interface PeriodRow {
  id: string;
  startsAt: Date;
  endsAt: Date;
}

type Row = Record<string, any>;

const toPlayer = (r: Row): PlayerRow => ({
  playerId: r.player_id, country: r.country, registeredAt: r.registered_at, verificationStatus: r.verification_status, ageVerified: r.age_verified,
  underAge: r.under_age, verificationDecidedAt: r.verification_decided_at, marketingSuppressed: r.marketing_suppressed,
  marketingSuppressedAt: r.marketing_suppressed_at, registerStatus: r.register_status, registerCheckedAt: r.register_checked_at,
  closedAt: r.closed_at, closedReason: r.closed_reason, erasedAt: r.erased_at,
});

/** The player's row and what eligibility derives from it, at `$2`; the caller adds the WHERE. */
const FACTS_SQL = `select p.*,
        exists (select 1 from compliance.self_exclusions e where e.player_id = p.player_id and e.ends_at > $2) as self_excluded,
        exists (select 1 from compliance.time_outs t where t.player_id = p.player_id and t.ends_at > $2) as timed_out,
        coalesce((select array_agg(distinct h.kind) from compliance.holds h where h.player_id = p.player_id and h.lifted_at is null), '{}') as holds
   from compliance.players p`;

const factsOf = (r: Row): PlayerFacts => ({
  verificationStatus: r.verification_status, ageVerified: r.age_verified, underAge: r.under_age, closed: r.closed_at !== null,
  selfExcluded: r.self_excluded || r.register_status === 'Y', timedOut: r.timed_out, holds: r.holds as HoldKind[], registerChecked: r.register_checked_at !== null,
});

/** Per period: the limit in force, the one pending (cooling off) and the spend in its window, with the given placeholders. */
const limitsSql = (p: { player: string; currency: string; now: string; windows: [string, string, string] }) => `select per.period,
        (select c.amount_minor from compliance.spend_limit_changes c
          where c.player_id = ${p.player} and c.currency = ${p.currency} and c.period = per.period and c.cancelled_at is null and c.effective_at <= ${p.now}
          order by c.effective_at desc, c.requested_at desc limit 1) as active,
        (select json_build_object('amount', c.amount_minor::text, 'at', c.effective_at) from compliance.spend_limit_changes c
          where c.player_id = ${p.player} and c.currency = ${p.currency} and c.period = per.period and c.cancelled_at is null and c.effective_at > ${p.now}
          order by c.effective_at desc limit 1) as pending,
        (select coalesce(sum(s.amount_minor), 0)::bigint from compliance.purchase_spend s
          where s.player_id = ${p.player} and s.currency = ${p.currency} and s.state <> 'released' and s.reserved_at > ${p.now} - per.window_hours * interval '1 hour') as used
   from (values ('daily', ${p.windows[0]}::int), ('weekly', ${p.windows[1]}::int), ('monthly', ${p.windows[2]}::int)) as per(period, window_hours)`;

interface LimitRow {
  period: Period;
  active: bigint | null;
  pending: { amount: string | null; at: string } | null;
  used: bigint;
}

const limitStatesOf = (rows: LimitRow[]): LimitState[] => {
  const byPeriod = new Map(rows.map((r) => [r.period, r]));
  return PERIODS.map((period) => {
    const r = byPeriod.get(period)!;
    const state: LimitState = { period, activeMinor: r.active, usedMinor: r.used };
    if (r.pending) state.pending = { amountMinor: r.pending.amount === null ? null : BigInt(r.pending.amount), effectiveAt: new Date(r.pending.at) };
    return state;
  });
};

export function createEligibilityRepository(db: Db) {
  return {
    /** Creates the player's row if compliance has none yet (events may come in any order). */
    async ensurePlayer(playerId: string): Promise<void> {
      await db.query<Row>('insert into compliance.players (player_id) values ($1) on conflict (player_id) do nothing', [playerId]);
    },

    async lockPlayer(playerId: string): Promise<PlayerRow> {
      await db.query<Row>('insert into compliance.players (player_id) values ($1) on conflict (player_id) do nothing', [playerId]);
      return toPlayer(await db.one<Row>('select * from compliance.players where player_id = $1 for update', [playerId]));
    },

    async player(playerId: string): Promise<PlayerRow | undefined> {
      const r = await db.maybeOne<Row>('select * from compliance.players where player_id = $1', [playerId]);
      return r ? toPlayer(r) : undefined;
    },

    async recordRegistration(playerId: string, country: string, registeredAt: Date): Promise<void> {
      await db.query<Row>(
        `insert into compliance.players (player_id, country, registered_at) values ($1, $2, $3)
         on conflict (player_id) do update set country = excluded.country, registered_at = excluded.registered_at, updated_at = clock_timestamp()`,
        [playerId, country, registeredAt],
      );
    },

    /** Applies a verification change unless a later decision was already applied (out-of-order delivery). */
    async applyVerification(v: { playerId: string; status: string; ageVerified: boolean; underAge: boolean | null; decidedAt: Date }): Promise<boolean> {
      const rows = await db.query<Row>(
        `insert into compliance.players (player_id, verification_status, age_verified, under_age, verification_decided_at) values ($1, $2, $3, coalesce($4, false), $5)
         on conflict (player_id) do update set verification_status = excluded.verification_status, age_verified = excluded.age_verified,
           under_age = case when $4::boolean is null then compliance.players.under_age else $4 end,
           verification_decided_at = excluded.verification_decided_at, updated_at = clock_timestamp()
         where compliance.players.verification_decided_at is null or compliance.players.verification_decided_at <= excluded.verification_decided_at
         returning player_id`,
        [v.playerId, v.status, v.ageVerified, v.underAge, v.decidedAt],
      );
      return rows.length === 1;
    },

    async setUnderAge(playerId: string, underAge: boolean): Promise<void> {
      await db.query<Row>('update compliance.players set under_age = $2, updated_at = clock_timestamp() where player_id = $1', [playerId, underAge]);
    },

    async suppressMarketing(playerId: string, at: Date): Promise<boolean> {
      const rows = await db.query<Row>(
        `update compliance.players set marketing_suppressed = true, marketing_suppressed_at = $2, updated_at = clock_timestamp()
          where player_id = $1 and not marketing_suppressed returning player_id`,
        [playerId, at],
      );
      return rows.length === 1;
    },

    async setRegisterStatus(playerId: string, status: 'Y' | 'N' | 'P', at: Date): Promise<void> {
      await db.query<Row>('update compliance.players set register_status = $2, register_checked_at = $3, updated_at = clock_timestamp() where player_id = $1', [playerId, status, at]);
    },

    /** Players whose register check is older than `before` (or never done), oldest first. */
    async registerDue(before: Date, limit: number): Promise<string[]> {
      const rows = await db.query<{ player_id: string }>(
        `select player_id from compliance.players
          where erased_at is null and closed_at is null and (register_checked_at is null or register_checked_at < $1)
          order by register_checked_at nulls first limit $2`,
        [before, limit],
      );
      return rows.map((r) => r.player_id);
    },

    /** Everything eligibility needs, in one statement, from committed data (nothing cached). */
    async facts(playerId: string, now: Date): Promise<PlayerFacts | undefined> {
      const r = await db.maybeOne<Row>(`${FACTS_SQL} where p.player_id = $1`, [playerId, now]);
      return r ? factsOf(r) : undefined;
    },

    /** A purchase check's facts and the player's limit states together: one round trip. */
    async purchaseFacts(playerId: string, currency: string, now: Date): Promise<{ facts?: PlayerFacts; limits: LimitState[] }> {
      const r = await db.one<Row>(
        `select f.*, (select json_agg(json_build_array(l.period, l.active::text, l.pending, l.used::text)) from (${limitsSql({ player: '$1', currency: '$3', now: '$2', windows: ['$4', '$5', '$6'] })}) l) as limits
           from (select 1) one left join lateral (${FACTS_SQL} where p.player_id = $1) f on true`,
        [playerId, now, currency, WINDOW_HOURS.daily, WINDOW_HOURS.weekly, WINDOW_HOURS.monthly],
      );
      const rows = (r.limits as [Period, string | null, { amount: string | null; at: string } | null, string][]).map(([period, active, pending, used]) => ({
        period, active: active === null ? null : BigInt(active), pending, used: BigInt(used),
      }));
      return { ...(r.player_id !== null ? { facts: factsOf(r) } : {}), limits: limitStatesOf(rows) };
    },

    async currentSelfExclusion(playerId: string, now: Date): Promise<PeriodRow | undefined> {
      const r = await db.maybeOne<Row>('select id, starts_at, ends_at from compliance.self_exclusions where player_id = $1 and ends_at > $2 order by ends_at desc limit 1', [playerId, now]);
      return r ? { id: r.id, startsAt: r.starts_at, endsAt: r.ends_at } : undefined;
    },

    async insertSelfExclusion(e: { id: string; playerId: string; source: 'player' | 'national-register'; months: number | null; startsAt: Date; endsAt: Date; extendsId: string | null }): Promise<void> {
      await db.query<Row>(
        'insert into compliance.self_exclusions (id, player_id, source, months, starts_at, ends_at, extends_id) values ($1, $2, $3, $4, $5, $6, $7)',
        [e.id, e.playerId, e.source, e.months, e.startsAt, e.endsAt, e.extendsId],
      );
    },

    async currentTimeOut(playerId: string, now: Date): Promise<PeriodRow | undefined> {
      const r = await db.maybeOne<Row>('select id, starts_at, ends_at from compliance.time_outs where player_id = $1 and ends_at > $2 order by ends_at desc limit 1', [playerId, now]);
      return r ? { id: r.id, startsAt: r.starts_at, endsAt: r.ends_at } : undefined;
    },

    async insertTimeOut(t: { id: string; playerId: string; hours: number; startsAt: Date; endsAt: Date }): Promise<void> {
      await db.query<Row>('insert into compliance.time_outs (id, player_id, hours, starts_at, ends_at) values ($1, $2, $3, $4, $5)', [t.id, t.playerId, t.hours, t.startsAt, t.endsAt]);
    },

    /** Per period: the limit in force, a pending looser one, and what was spent in its window. */
    async limitStates(playerId: string, currency: string, now: Date): Promise<LimitState[]> {
      const rows = await db.query<Row>(limitsSql({ player: '$1', currency: '$2', now: '$3', windows: ['$4', '$5', '$6'] }), [playerId, currency, now, WINDOW_HOURS.daily, WINDOW_HOURS.weekly, WINDOW_HOURS.monthly]);
      return limitStatesOf(rows.map((r) => ({ period: r.period as Period, active: r.active ?? null, pending: r.pending, used: r.used })));
    },

    async cancelPendingLimit(playerId: string, currency: string, period: Period, now: Date): Promise<void> {
      await db.query<Row>(
        `update compliance.spend_limit_changes set cancelled_at = $4
          where player_id = $1 and currency = $2 and period = $3 and cancelled_at is null and effective_at > $4`,
        [playerId, currency, period, now],
      );
    },

    async insertLimitChange(c: { id: string; playerId: string; currency: string; period: Period; amountMinor: bigint | null; requestedAt: Date; effectiveAt: Date }): Promise<void> {
      await db.query<Row>(
        `insert into compliance.spend_limit_changes (id, player_id, currency, period, amount_minor, requested_at, effective_at) values ($1, $2, $3, $4, $5, $6, $7)`,
        [c.id, c.playerId, c.currency, c.period, c.amountMinor, c.requestedAt, c.effectiveAt],
      );
    },

    // ── purchase spend from payments' ledger events ──

    async spendReserved(s: { transferId: string; playerId: string; competitionId: string; currency: string; amountMinor: bigint; at: Date }): Promise<void> {
      await db.query<Row>(
        `insert into compliance.purchase_spend (transfer_id, player_id, competition_id, currency, amount_minor, state, reserved_at)
         values ($1, $2, $3, $4, $5, 'reserved', $6)
         on conflict (transfer_id) do update set player_id = excluded.player_id, competition_id = excluded.competition_id,
           reserved_at = excluded.reserved_at, updated_at = clock_timestamp()`,
        [s.transferId, s.playerId, s.competitionId, s.currency, s.amountMinor, s.at],
      );
    },

    /** A post (possibly of a smaller amount) or a release; seen before its reservation, it waits for the player to be filled in. */
    async spendResolved(s: { transferId: string; currency: string; amountMinor: bigint; state: 'posted' | 'released'; at: Date }): Promise<void> {
      await db.query<Row>(
        `insert into compliance.purchase_spend (transfer_id, currency, amount_minor, state, reserved_at) values ($1, $2, $3, $4, $5)
         on conflict (transfer_id) do update set state = excluded.state,
           amount_minor = case when excluded.state = 'posted' then excluded.amount_minor else compliance.purchase_spend.amount_minor end,
           updated_at = clock_timestamp()
         where compliance.purchase_spend.state = 'reserved'`,
        [s.transferId, s.currency, s.amountMinor, s.state, s.at],
      );
    },
  };
}

export type EligibilityRepository = ReturnType<typeof createEligibilityRepository>;
