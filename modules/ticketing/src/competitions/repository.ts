/** SQL of competitions, their number shards and closing-time overrides. */
import type { Db } from '@verity/kernel';
import type { Competition, DrawManifest } from '../contract.ts';
import type { CompetitionState } from '../domain/lifecycle.ts';
import type { ShardSlice } from '../domain/numbers.ts';
import type { FreeEntry, PrizeReadiness, PrizeTier, SkillTestTerms } from '../domain/terms.ts';

type CompetitionRow = {
  id: string;
  state: CompetitionState;
  title: string;
  description: string | null;
  draw_kind: 'random' | 'spot-the-ball';
  currency: string;
  price_minor: bigint | null;
  max_tickets: number | null;
  per_player_cap: number | null;
  opens_at: Date | null;
  closes_at: Date | null;
  prize_tiers: { tier: number; description: string; winners: number; cashMinor?: string; cashAlternativeMinor?: string }[];
  free_entry: FreeEntry | null;
  skill_test: SkillTestTerms | null;
  prize_readiness: (Omit<PrizeReadiness, 'cashAlternativeReservedMinor' | 'attestedAt'> & { cashAlternativeReservedMinor: string; attestedAt: string }) | null;
  shard_count: number | null;
  lucky_key: Buffer | null;
  draw_manifest: (Omit<DrawManifest, 'recordedAt'> & { recordedAt: string }) | null;
  draw_result: { drawId: string; resultHash: string } | null;
  cancel_reason: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  published_at: Date | null;
  opened_at: Date | null;
  closed_at: Date | null;
  drawn_at: Date | null;
  settled_at: Date | null;
  cancelled_at: Date | null;
};

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function tiersFromRow(rows: CompetitionRow['prize_tiers']): PrizeTier[] {
  return rows.map((t) => ({
    tier: t.tier,
    description: t.description,
    winners: t.winners,
    ...(t.cashMinor !== undefined ? { cashMinor: BigInt(t.cashMinor) } : {}),
    ...(t.cashAlternativeMinor !== undefined ? { cashAlternativeMinor: BigInt(t.cashAlternativeMinor) } : {}),
  }));
}

export function tiersToJson(tiers: readonly PrizeTier[]): string {
  return JSON.stringify(tiers.map((t) => ({
    tier: t.tier,
    description: t.description,
    winners: t.winners,
    ...(t.cashMinor !== undefined ? { cashMinor: t.cashMinor.toString() } : {}),
    ...(t.cashAlternativeMinor !== undefined ? { cashAlternativeMinor: t.cashAlternativeMinor.toString() } : {}),
  })));
}

function fromRow(r: CompetitionRow): Competition {
  const readiness = r.prize_readiness;
  const manifest = r.draw_manifest;
  const c: Competition = {
    id: r.id, state: r.state, title: r.title, drawKind: r.draw_kind, currency: r.currency, prizeTiers: tiersFromRow(r.prize_tiers),
    createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at,
  };
  const optional: Partial<Competition> = {
    description: opt(r.description), priceMinor: opt(r.price_minor), maxTickets: opt(r.max_tickets), perPlayerCap: opt(r.per_player_cap),
    opensAt: opt(r.opens_at), closesAt: opt(r.closes_at), freeEntry: opt(r.free_entry), skillTest: opt(r.skill_test),
    prizeReadiness: readiness ? { ...readiness, cashAlternativeReservedMinor: BigInt(readiness.cashAlternativeReservedMinor), attestedAt: new Date(readiness.attestedAt) } : undefined,
    shardCount: opt(r.shard_count), luckyKey: opt(r.lucky_key),
    drawManifest: manifest ? { ...manifest, recordedAt: new Date(manifest.recordedAt) } : undefined,
    drawResult: opt(r.draw_result), cancelReason: opt(r.cancel_reason), publishedAt: opt(r.published_at), openedAt: opt(r.opened_at),
    closedAt: opt(r.closed_at), drawnAt: opt(r.drawn_at), settledAt: opt(r.settled_at), cancelledAt: opt(r.cancelled_at),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  return c;
}

export interface DraftFields {
  title: string;
  description?: string | null;
  drawKind: 'random' | 'spot-the-ball';
  currency: string;
  priceMinor?: bigint | null;
  maxTickets?: number | null;
  perPlayerCap?: number | null;
  opensAt?: Date | null;
  closesAt?: Date | null;
  prizeTiers: PrizeTier[];
  freeEntry?: FreeEntry | null;
}

export interface OverrideRow {
  id: string;
  competitionId: string;
  oldClosesAt: Date;
  newClosesAt: Date;
  reason: string;
  state: 'requested' | 'approved' | 'superseded';
  requestedBy: string;
  requestedAt: Date;
  approvedBy?: string;
  approvedAt?: Date;
}

export interface EntryCounts {
  sold: number;
  voided: number;
  postal: number;
  postalInvalid: number;
  validEntries: number;
  unsettledPurchases: number;
}

const draftParams = (f: DraftFields) => [
  f.title, f.description ?? null, f.drawKind, f.currency, f.priceMinor ?? null, f.maxTickets ?? null, f.perPlayerCap ?? null,
  f.opensAt ?? null, f.closesAt ?? null, tiersToJson(f.prizeTiers), f.freeEntry ? JSON.stringify(f.freeEntry) : null,
];

export function createCompetitionsRepository(db: Db) {
  return {
    async insert(id: string, f: DraftFields, createdBy: string): Promise<Competition> {
      const rows = await db.query<CompetitionRow>(
        `insert into ticketing.competitions (id, title, description, draw_kind, currency, price_minor, max_tickets, per_player_cap, opens_at, closes_at, prize_tiers, free_entry, created_by)
         values ($12, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $13) returning *`,
        [...draftParams(f), id, createdBy],
      );
      return fromRow(rows[0]!);
    },

    async get(id: string, options: { lock?: boolean } = {}): Promise<Competition | undefined> {
      const row = await db.maybeOne<CompetitionRow>(`select * from ticketing.competitions where id = $1${options.lock ? ' for update' : ''}`, [id]);
      return row ? fromRow(row) : undefined;
    },

    async updateDraft(id: string, f: DraftFields): Promise<Competition> {
      const rows = await db.query<CompetitionRow>(
        `update ticketing.competitions set title = $1, description = $2, draw_kind = $3, currency = $4, price_minor = $5, max_tickets = $6,
                per_player_cap = $7, opens_at = $8, closes_at = $9, prize_tiers = $10::jsonb, free_entry = $11::jsonb
          where id = $12 and state = 'draft' returning *`,
        [...draftParams(f), id],
      );
      return fromRow(rows[0]!);
    },

    async setReadiness(id: string, r: PrizeReadiness): Promise<void> {
      const json = { ...r, cashAlternativeReservedMinor: r.cashAlternativeReservedMinor.toString(), attestedAt: r.attestedAt.toISOString() };
      await db.query(`update ticketing.competitions set prize_readiness = $2::jsonb where id = $1 and state = 'draft'`, [id, JSON.stringify(json)]);
    },

    /** The number slices, then draft → scheduled with the terms fixed (one transaction, the caller's). */
    async publish(c: { id: string; closesAt: Date; skillTest: SkillTestTerms; luckyKey: Buffer; slices: readonly (ShardSlice & { roundKeys: bigint[] })[]; by: string }): Promise<Competition> {
      await db.query(
        `insert into ticketing.number_shards (competition_id, shard, lo, capacity, closes_at, round_keys)
         select $1, s.shard, s.lo, s.capacity, $5, array[s.k1, s.k2, s.k3, s.k4]
           from unnest($2::int[], $3::int[], $4::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[]) as s(shard, lo, capacity, k1, k2, k3, k4)`,
        [c.id, c.slices.map((s) => s.shard), c.slices.map((s) => s.lo), c.slices.map((s) => s.capacity), c.closesAt, ...[0, 1, 2, 3].map((r) => c.slices.map((s) => s.roundKeys[r]!.toString()))],
      );
      const rows = await db.query<CompetitionRow>(
        `update ticketing.competitions set state = 'scheduled', skill_test = $2::jsonb, lucky_key = $3, shard_count = $4, published_by = $5, published_at = clock_timestamp()
          where id = $1 and state = 'draft' returning *`,
        [c.id, JSON.stringify(c.skillTest), c.luckyKey, c.slices.length, c.by],
      );
      return fromRow(rows[0]!);
    },

    async list(page: { afterId?: string; limit: number; states: readonly CompetitionState[] }): Promise<Competition[]> {
      const rows = await db.query<CompetitionRow>(
        `select * from ticketing.competitions where state = any($1::text[]) and ($2::uuid is null or id < $2) order by id desc limit $3`,
        [page.states, page.afterId ?? null, page.limit],
      );
      return rows.map(fromRow);
    },

    /** scheduled → on_sale when due (and, for a random draw, its manifest is recorded). */
    async openIfDue(id: string): Promise<Competition | undefined> {
      const rows = await db.query<CompetitionRow>(
        `update ticketing.competitions set state = 'on_sale', opened_at = clock_timestamp()
          where id = $1 and state = 'scheduled' and opens_at <= clock_timestamp() and closes_at > clock_timestamp()
            and (draw_kind <> 'random' or draw_manifest is not null)
          returning *`,
        [id],
      );
      return rows[0] ? fromRow(rows[0]) : undefined;
    },

    /** on_sale → closed once the closing time has passed (database time). */
    async closeIfDue(id: string): Promise<Competition | undefined> {
      const rows = await db.query<CompetitionRow>(
        `update ticketing.competitions set state = 'closed', closed_at = clock_timestamp()
          where id = $1 and state = 'on_sale' and closes_at <= clock_timestamp() returning *`,
        [id],
      );
      return rows[0] ? fromRow(rows[0]) : undefined;
    },

    async due(kind: 'open' | 'close', limit: number): Promise<string[]> {
      const sql = kind === 'open'
        ? `select id from ticketing.competitions where state = 'scheduled' and opens_at <= clock_timestamp() and (draw_kind <> 'random' or draw_manifest is not null) order by opens_at limit $1`
        : `select id from ticketing.competitions where state = 'on_sale' and closes_at <= clock_timestamp() order by closes_at limit $1`;
      return (await db.query<{ id: string }>(sql, [limit])).map((r) => r.id);
    },

    async cancel(id: string, reason: string, by: string): Promise<Competition> {
      const rows = await db.query<CompetitionRow>(
        `update ticketing.competitions set state = 'cancelled', cancel_reason = $2, cancelled_by = $3, cancelled_at = clock_timestamp() where id = $1 returning *`,
        [id, reason, by],
      );
      return fromRow(rows[0]!);
    },

    async setManifest(id: string, m: Omit<DrawManifest, 'recordedAt'>): Promise<void> {
      await db.query(
        `update ticketing.competitions set draw_manifest = jsonb_build_object('drawId', $2::text, 'manifestHash', $3::text, 'logIndex', $4::bigint, 'recordedAt', clock_timestamp())
          where id = $1 and draw_manifest is null`,
        [id, m.drawId, m.manifestHash, m.logIndex],
      );
    },

    async markDrawn(id: string, drawId: string, resultHash: string): Promise<void> {
      await db.query(
        `update ticketing.competitions set state = 'drawn', drawn_at = clock_timestamp(), draw_result = jsonb_build_object('drawId', $2::text, 'resultHash', $3::text)
          where id = $1 and state = 'closed'`,
        [id, drawId, resultHash],
      );
    },

    async markSettled(id: string): Promise<void> {
      await db.query(`update ticketing.competitions set state = 'settled', settled_at = clock_timestamp() where id = $1 and state = 'drawn'`, [id]);
    },

    /** Numbers taken (paid and postal, not voided): the truth the cached counter is refreshed from. */
    async soldCount(id: string): Promise<number> {
      const row = await db.maybeOne<{ sold: bigint | null }>('select sum(sold)::bigint as sold from ticketing.number_shards where competition_id = $1', [id]);
      return Number(row?.sold ?? 0n);
    },

    /** Numbers free by the committed counters (uncommitted sales not counted: never less than the truth). */
    async freeCount(id: string): Promise<number> {
      const row = await db.maybeOne<{ free: bigint | null }>('select sum(capacity - sold)::bigint as free from ticketing.number_shards where competition_id = $1', [id]);
      return Number(row?.free ?? 0n);
    },

    async entryCounts(id: string): Promise<EntryCounts> {
      const row = await db.one<{ sold: bigint; voided: bigint; postal: bigint; postal_invalid: bigint; unsettled: bigint }>(
        `select (select count(*) from ticketing.tickets where competition_id = $1 and kind = 'paid' and state = 'valid') as sold,
                (select count(*) from ticketing.tickets where competition_id = $1 and state = 'voided') as voided,
                (select count(*) from ticketing.tickets where competition_id = $1 and kind = 'postal' and state = 'valid') as postal,
                (select count(*) from ticketing.postal_entries where competition_id = $1 and status = 'invalid') as postal_invalid,
                (select count(*) from ticketing.purchases where competition_id = $1 and state in ('pending', 'issued')) as unsettled`,
        [id],
      );
      const sold = Number(row.sold);
      const postal = Number(row.postal);
      return { sold, voided: Number(row.voided), postal, postalInvalid: Number(row.postal_invalid), validEntries: sold + postal, unsettledPurchases: Number(row.unsettled) };
    },

    // ── closing-time overrides ──

    async insertOverride(o: { id: string; competitionId: string; oldClosesAt: Date; newClosesAt: Date; reason: string; requestedBy: string }): Promise<OverrideRow> {
      await db.query(`update ticketing.closing_time_overrides set state = 'superseded' where competition_id = $1 and state = 'requested'`, [o.competitionId]);
      const row = await db.one<Record<string, unknown>>(
        `insert into ticketing.closing_time_overrides (id, competition_id, old_closes_at, new_closes_at, reason, requested_by)
         values ($1, $2, $3, $4, $5, $6) returning *`,
        [o.id, o.competitionId, o.oldClosesAt, o.newClosesAt, o.reason, o.requestedBy],
      );
      return overrideFromRow(row);
    },

    async getOverride(competitionId: string, id: string): Promise<OverrideRow | undefined> {
      const row = await db.maybeOne<Record<string, unknown>>('select * from ticketing.closing_time_overrides where id = $1 and competition_id = $2 for update', [id, competitionId]);
      return row ? overrideFromRow(row) : undefined;
    },

    /** Approves and applies in the caller's transaction: the trigger accepts the new time from it only. */
    async applyOverride(id: string, competitionId: string, approvedBy: string, newClosesAt: Date): Promise<OverrideRow> {
      const row = await db.one<Record<string, unknown>>(
        `update ticketing.closing_time_overrides set state = 'approved', approved_by = $2, approved_at = clock_timestamp(), applied_txid = txid_current()
          where id = $1 returning *`,
        [id, approvedBy],
      );
      await db.query('update ticketing.competitions set closes_at = $2 where id = $1', [competitionId, newClosesAt]);
      return overrideFromRow(row);
    },
  };
}

function overrideFromRow(r: Record<string, unknown>): OverrideRow {
  return {
    id: r.id as string, competitionId: r.competition_id as string, oldClosesAt: r.old_closes_at as Date, newClosesAt: r.new_closes_at as Date,
    reason: r.reason as string, state: r.state as OverrideRow['state'], requestedBy: r.requested_by as string, requestedAt: r.requested_at as Date,
    ...(r.approved_by ? { approvedBy: r.approved_by as string } : {}), ...(r.approved_at ? { approvedAt: r.approved_at as Date } : {}),
  };
}

export type CompetitionsRepository = ReturnType<typeof createCompetitionsRepository>;
