/** SQL of the draws schema: draws, their snapshot entries and tree nodes, winners, ticket owners. */
import type { CanonicalEntry, DrawManifest } from '@verity/evidence';
import type { Db } from '@verity/kernel';
import type { BeaconUsed, DrawRecord, LoggedRecord, PublishedCompetition, Reconciled, WinnerRecord } from '../contract.ts';
import type { DrawState } from '../domain/state.ts';

type Row = Record<string, any>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toDraw(r: Row): DrawRecord {
  return {
    drawId: r.draw_id,
    competitionId: r.competition_id,
    state: r.state,
    title: r.title,
    closesAt: r.closes_at,
    competition: r.competition as PublishedCompetition,
    manifest: r.manifest as DrawManifest | null,
    manifestBytes: r.manifest_bytes,
    manifestHash: r.manifest_hash,
    secretEnc: r.secret_enc,
    beaconRound: num(r.beacon_round),
    manifestLog: r.manifest_log as LoggedRecord | null,
    entriesCount: r.entries_count,
    entriesRoot: r.entries_root,
    reconciliation: r.reconciliation as Reconciled | null,
    snapshotRecord: r.snapshot_record,
    snapshotLog: r.snapshot_log as LoggedRecord | null,
    blockedReason: r.blocked_reason,
    caseId: r.case_id,
    beacon: r.beacon as BeaconUsed | null,
    resultRecord: r.result_record,
    resultHash: r.result_hash,
    resultLog: r.result_log as LoggedRecord | null,
    bundleKey: r.bundle_key,
    bundleSha256: r.bundle_sha256,
    bundleBytes: num(r.bundle_bytes),
    failureReason: r.failure_reason,
    createdAt: r.created_at,
    committedAt: r.committed_at,
    snapshottedAt: r.snapshotted_at,
    drawnAt: r.drawn_at,
    settledAt: r.settled_at,
  };
}

function toWinner(r: Row): WinnerRecord {
  return {
    drawId: r.draw_id,
    position: r.position,
    tier: r.tier,
    entryIndex: r.entry_index,
    entryId: r.entry_id,
    number: Number(r.number),
    prizeKind: r.prize_kind,
    cashMinor: r.cash_minor,
    currency: r.currency,
    state: r.state,
    transferId: r.transfer_id,
    handledAt: r.handled_at,
  };
}

const toEntry = (r: Row): CanonicalEntry => ({ entryId: r.entry_id, number: Number(r.number), kind: r.kind, holder: r.holder });

export interface NewWinner {
  position: number;
  tier: number;
  entryIndex: number;
  entryId: string;
  number: number;
  prizeKind: 'cash' | 'fulfilment';
  cashMinor?: bigint;
  currency?: string;
}

export function createDrawsRepository(db: Db) {
  const one = async (sql: string, params: unknown[]) => {
    const r = await db.maybeOne<Row>(sql, params);
    return r ? toDraw(r) : undefined;
  };

  return {
    /** Creates the pending draw of a published competition; an existing one is returned untouched. */
    async insertPending(input: { drawId: string; competitionId: string; title: string; closesAt: Date; competition: PublishedCompetition }): Promise<{ draw: DrawRecord; created: boolean }> {
      const inserted = await one(
        `insert into draws.draws (draw_id, competition_id, title, closes_at, competition) values ($1, $2, $3, $4, $5)
         on conflict (competition_id) do nothing returning *`,
        [input.drawId, input.competitionId, input.title, input.closesAt, JSON.stringify(input.competition)],
      );
      if (inserted) return { draw: inserted, created: true };
      return { draw: (await this.byCompetition(input.competitionId))!, created: false };
    },
    byId: (drawId: string) => one('select * from draws.draws where draw_id = $1', [drawId]),
    byCompetition: (competitionId: string) => one('select * from draws.draws where competition_id = $1', [competitionId]),
    /** The draw row locked for the rest of the transaction (serialises the steps of one draw). */
    lock: (drawId: string) => one('select * from draws.draws where draw_id = $1 for update', [drawId]),

    async setManifest(drawId: string, m: { manifest: DrawManifest; bytes: Uint8Array; hash: string; secretEnc: string; round: number; log: LoggedRecord; closesAt: Date }): Promise<void> {
      await db.query(
        `update draws.draws set manifest = $2, manifest_bytes = $3, manifest_hash = $4, secret_enc = $5, beacon_round = $6, manifest_log = $7, closes_at = $8
         where draw_id = $1`,
        [drawId, JSON.stringify(m.manifest), Buffer.from(m.bytes), m.hash, m.secretEnc, m.round, JSON.stringify(m.log), m.closesAt],
      );
    },
    async setManifestLog(drawId: string, log: LoggedRecord): Promise<void> {
      await db.query('update draws.draws set manifest_log = $2 where draw_id = $1', [drawId, JSON.stringify(log)]);
    },
    async markCommitted(drawId: string, log: LoggedRecord): Promise<void> {
      await db.query(`update draws.draws set state = 'committed', manifest_log = $2, committed_at = clock_timestamp() where draw_id = $1`, [drawId, JSON.stringify(log)]);
    },
    async setState(drawId: string, state: DrawState, fields: { cancelReason?: string; failureReason?: string } = {}): Promise<void> {
      await db.query(
        `update draws.draws set state = $2, cancel_reason = coalesce($3, cancel_reason), failure_reason = coalesce($4, failure_reason),
           settled_at = case when $2 = 'settled' then clock_timestamp() else settled_at end
         where draw_id = $1`,
        [drawId, state, fields.cancelReason ?? null, fields.failureReason ?? null],
      );
    },

    // ─── Snapshot ──────────────────────────────────────────────────────────────────────────────
    async clearSnapshot(drawId: string): Promise<void> {
      await db.query('delete from draws.entry_nodes where draw_id = $1', [drawId]);
      await db.query('delete from draws.entries where draw_id = $1', [drawId]);
    },
    /** One page of the snapshot, in one statement. */
    async insertEntries(drawId: string, from: number, entries: readonly CanonicalEntry[]): Promise<void> {
      if (entries.length === 0) return;
      await db.query(
        `insert into draws.entries (draw_id, position, entry_id, number, kind, holder)
         select $1, $2::int + ord - 1, e.entry_id, e.number, e.kind, e.holder
         from unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[]) with ordinality as e(entry_id, number, kind, holder, ord)`,
        [drawId, from, entries.map((e) => e.entryId), entries.map((e) => e.number), entries.map((e) => e.kind), entries.map((e) => e.holder)],
      );
    },
    async insertNodes(drawId: string, nodes: readonly { level: number; index: number; hash: Uint8Array }[]): Promise<void> {
      if (nodes.length === 0) return;
      await db.query(
        `insert into draws.entry_nodes (draw_id, level, idx, hash)
         select $1, n.level, n.idx, n.hash from unnest($2::smallint[], $3::bigint[], $4::bytea[]) as n(level, idx, hash)`,
        [drawId, nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => Buffer.from(n.hash))],
      );
    },
    async setSnapshot(drawId: string, s: { state: 'committed' | 'snapshotted' | 'blocked'; count: number; root: string; reconciliation: Reconciled; record: Uint8Array | null; log: LoggedRecord | null; blockedReason?: string; caseId?: string }): Promise<void> {
      await db.query(
        `update draws.draws set state = $2, entries_count = $3, entries_root = $4, reconciliation = $5, snapshot_record = $6, snapshot_log = $7,
           blocked_reason = $8, case_id = coalesce($9, case_id), snapshotted_at = case when $2 = 'snapshotted' then clock_timestamp() else snapshotted_at end
         where draw_id = $1`,
        [drawId, s.state, s.count, s.root, JSON.stringify(s.reconciliation), s.record ? Buffer.from(s.record) : null, s.log ? JSON.stringify(s.log) : null, s.blockedReason ?? null, s.caseId ?? null],
      );
    },
    async setSnapshotLog(drawId: string, log: LoggedRecord): Promise<void> {
      await db.query('update draws.draws set snapshot_log = $2 where draw_id = $1', [drawId, JSON.stringify(log)]);
    },
    async entriesPage(drawId: string, fromPosition: number, limit: number): Promise<CanonicalEntry[]> {
      const rows = await db.query<Row>('select entry_id, number, kind, holder from draws.entries where draw_id = $1 and position >= $2 order by position limit $3', [drawId, fromPosition, limit]);
      return rows.map(toEntry);
    },
    async entriesAt(drawId: string, positions: readonly number[]): Promise<Map<number, CanonicalEntry>> {
      const rows = await db.query<Row>('select position, entry_id, number, kind, holder from draws.entries where draw_id = $1 and position = any($2::int[])', [drawId, positions]);
      return new Map(rows.map((r) => [r.position as number, toEntry(r)]));
    },
    async entryRange(drawId: string, from: number, to: number): Promise<CanonicalEntry[]> {
      const rows = await db.query<Row>('select entry_id, number, kind, holder from draws.entries where draw_id = $1 and position >= $2 and position < $3 order by position', [drawId, from, to]);
      return rows.map(toEntry);
    },
    async entryOf(drawId: string, entryId: string): Promise<{ position: number; entry: CanonicalEntry } | undefined> {
      const r = await db.maybeOne<Row>('select position, entry_id, number, kind, holder from draws.entries where draw_id = $1 and entry_id = $2', [drawId, entryId]);
      return r ? { position: r.position, entry: toEntry(r) } : undefined;
    },
    async nodes(drawId: string, refs: readonly { level: number; index: number }[]): Promise<Map<string, Uint8Array>> {
      if (refs.length === 0) return new Map();
      const rows = await db.query<Row>(
        'select level, idx, hash from draws.entry_nodes where draw_id = $1 and (level, idx) in (select * from unnest($2::smallint[], $3::bigint[]))',
        [drawId, refs.map((r) => r.level), refs.map((r) => r.index)],
      );
      return new Map(rows.map((r) => [`${r.level}:${r.idx}`, new Uint8Array(r.hash as Buffer)]));
    },

    // ─── Result ────────────────────────────────────────────────────────────────────────────────
    async setResultPending(drawId: string, r: { beacon: BeaconUsed; record: Uint8Array; resultHash: string; log: LoggedRecord; winners: readonly NewWinner[] }): Promise<void> {
      await db.query('update draws.draws set beacon = $2, result_record = $3, result_hash = $4, result_log = $5 where draw_id = $1', [drawId, JSON.stringify(r.beacon), Buffer.from(r.record), r.resultHash, JSON.stringify(r.log)]);
      const w = r.winners;
      if (w.length === 0) return;
      await db.query(
        `insert into draws.winners (draw_id, position, tier, entry_index, entry_id, number, prize_kind, cash_minor, currency)
         select $1, x.position, x.tier, x.entry_index, x.entry_id, x.number, x.prize_kind, x.cash_minor, x.currency
         from unnest($2::int[], $3::int[], $4::int[], $5::uuid[], $6::bigint[], $7::text[], $8::bigint[], $9::text[]) as x(position, tier, entry_index, entry_id, number, prize_kind, cash_minor, currency)
         on conflict do nothing`,
        [drawId, w.map((x) => x.position), w.map((x) => x.tier), w.map((x) => x.entryIndex), w.map((x) => x.entryId), w.map((x) => x.number), w.map((x) => x.prizeKind), w.map((x) => x.cashMinor ?? null), w.map((x) => x.currency ?? null)],
      );
    },
    async setResultLog(drawId: string, log: LoggedRecord): Promise<void> {
      await db.query('update draws.draws set result_log = $2 where draw_id = $1', [drawId, JSON.stringify(log)]);
    },
    async markDrawn(drawId: string, bundle: { key: string; sha256: string; bytes: number }): Promise<void> {
      await db.query(
        `update draws.draws set state = 'drawn', bundle_key = $2, bundle_sha256 = $3, bundle_bytes = $4, secret_enc = null, drawn_at = clock_timestamp() where draw_id = $1`,
        [drawId, bundle.key, bundle.sha256, bundle.bytes],
      );
    },
    async winners(drawId: string): Promise<WinnerRecord[]> {
      return (await db.query<Row>('select * from draws.winners where draw_id = $1 order by position', [drawId])).map(toWinner);
    },
    async lockWinner(drawId: string, position: number): Promise<WinnerRecord | undefined> {
      const r = await db.maybeOne<Row>('select * from draws.winners where draw_id = $1 and position = $2 for update', [drawId, position]);
      return r ? toWinner(r) : undefined;
    },
    async winnerHandled(drawId: string, position: number, state: 'credited' | 'handed-over', transferId: string | null): Promise<void> {
      await db.query(`update draws.winners set state = $3, transfer_id = $4, handled_at = clock_timestamp() where draw_id = $1 and position = $2 and state = 'pending'`, [drawId, position, state, transferId]);
    },
    async pendingWinners(drawId: string): Promise<number> {
      const r = await db.one<{ n: number }>(`select count(*)::int as n from draws.winners where draw_id = $1 and state = 'pending'`, [drawId]);
      return r.n;
    },

    // ─── Ticket owners (read model of ticketing.tickets-purchased.v1) ──────────────────────────
    async recordOwners(input: { competitionId: string; purchaseId: string; playerId: string; ticketIds: readonly string[] }): Promise<void> {
      if (input.ticketIds.length === 0) return;
      await db.query(
        `insert into draws.ticket_owners (ticket_id, competition_id, player_id, purchase_id)
         select t, $2, $3, $4 from unnest($1::uuid[]) as t on conflict (ticket_id) do nothing`,
        [input.ticketIds, input.competitionId, input.playerId, input.purchaseId],
      );
    },
    async ownerOf(ticketId: string): Promise<string | undefined> {
      const r = await db.maybeOne<{ player_id: string }>('select player_id from draws.ticket_owners where ticket_id = $1', [ticketId]);
      return r?.player_id;
    },
  };
}

export type DrawsRepository = ReturnType<typeof createDrawsRepository>;
