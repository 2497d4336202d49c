/** SQL of cases, their history and evidence, and holds (compliance schema). */
import type { Db } from '@verity/kernel';
import type { CaseType, HoldKind } from '../contract.ts';
import type { CaseState } from './domain.ts';

export interface CaseRecord {
  id: string;
  type: CaseType;
  state: CaseState;
  subject: string;
  playerId: string | null;
  summary: string;
  data: Record<string, unknown>;
  dedupeKey: string | null;
  assignee: string | null;
  openedBy: string;
  outcome: string | null;
  decisionReason: string | null;
  decidedBy: string | null;
  secondApprover: string | null;
  decidedAt: Date | null;
  proposedOutcome: string | null;
  proposedReason: string | null;
  proposedBy: string | null;
  proposedAt: Date | null;
  dueAt: Date;
  reminderAt: Date;
  remindedAt: Date | null;
  escalatedAt: Date | null;
  slaVersion: number;
  reopenCount: number;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface HistoryRow {
  seq: bigint;
  caseId: string;
  at: Date;
  actor: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  detail: Record<string, unknown>;
  textEnc: string | null;
  audit: Record<string, unknown> | null;
}

export interface EvidenceRow {
  id: string;
  caseId: string;
  filenameEnc: string;
  contentType: string;
  sizeBytes: bigint;
  sha256: string;
  objectKey: string;
  encrypted: boolean;
  addedBy: string;
  addedAt: Date;
}

export interface HoldRow {
  id: string;
  playerId: string;
  kind: HoldKind;
  caseId: string | null;
  reason: string;
  placedBy: string;
  placedAt: Date;
  liftedBy: string | null;
  liftedAt: Date | null;
  liftReason: string | null;
}

type Row = Record<string, any>;

const toCase = (r: Row): CaseRecord => ({
  id: r.id, type: r.type, state: r.state, subject: r.subject, playerId: r.player_id, summary: r.summary, data: r.data ?? {},
  dedupeKey: r.dedupe_key, assignee: r.assignee, openedBy: r.opened_by, outcome: r.outcome, decisionReason: r.decision_reason,
  decidedBy: r.decided_by, secondApprover: r.second_approver, decidedAt: r.decided_at, proposedOutcome: r.proposed_outcome,
  proposedReason: r.proposed_reason, proposedBy: r.proposed_by, proposedAt: r.proposed_at, dueAt: r.due_at, reminderAt: r.reminder_at,
  remindedAt: r.reminded_at, escalatedAt: r.escalated_at, slaVersion: r.sla_version, reopenCount: r.reopen_count, closedAt: r.closed_at,
  createdAt: r.created_at, updatedAt: r.updated_at,
});

/** History rows come back from `json_agg`: timestamps as strings, seq as a number. */
const toHistory = (r: Row): HistoryRow => ({
  seq: BigInt(r.seq), caseId: r.case_id, at: new Date(r.at), actor: r.actor, action: r.action, fromState: r.from_state ?? null,
  toState: r.to_state ?? null, detail: r.detail ?? {}, textEnc: r.text_enc ?? null, audit: r.audit ?? null,
});

const toEvidence = (r: Row): EvidenceRow => ({
  id: r.id, caseId: r.case_id, filenameEnc: r.filename_enc, contentType: r.content_type, sizeBytes: r.size_bytes, sha256: r.sha256,
  objectKey: r.object_key, encrypted: r.encrypted, addedBy: r.added_by, addedAt: r.added_at,
});

const toHold = (r: Row): HoldRow => ({
  id: r.id, playerId: r.player_id, kind: r.kind, caseId: r.case_id, reason: r.reason, placedBy: r.placed_by, placedAt: r.placed_at,
  liftedBy: r.lifted_by, liftedAt: r.lifted_at, liftReason: r.lift_reason,
});

/** The columns a case change may set. */
export interface CaseChange {
  state?: CaseState;
  assignee?: string | null;
  outcome?: string | null;
  decisionReason?: string | null;
  decidedBy?: string | null;
  secondApprover?: string | null;
  decidedAt?: Date | null;
  proposedOutcome?: string | null;
  proposedReason?: string | null;
  proposedBy?: string | null;
  proposedAt?: Date | null;
  dueAt?: Date;
  reminderAt?: Date;
  remindedAt?: Date | null;
  escalatedAt?: Date | null;
  slaVersion?: number;
  reopenCount?: number;
  closedAt?: Date | null;
}

const COLUMN: Record<keyof CaseChange, string> = {
  state: 'state', assignee: 'assignee', outcome: 'outcome', decisionReason: 'decision_reason', decidedBy: 'decided_by',
  secondApprover: 'second_approver', decidedAt: 'decided_at', proposedOutcome: 'proposed_outcome', proposedReason: 'proposed_reason',
  proposedBy: 'proposed_by', proposedAt: 'proposed_at', dueAt: 'due_at', reminderAt: 'reminder_at', remindedAt: 'reminded_at',
  escalatedAt: 'escalated_at', slaVersion: 'sla_version', reopenCount: 'reopen_count', closedAt: 'closed_at',
};

export interface CaseFilter {
  type?: CaseType;
  state?: CaseState;
  assignee?: string;
  playerId?: string;
  /** Only cases past their due time (`now` given) that are not closed. */
  overdueAt?: Date;
  /** The last case of the previous page. */
  afterId?: string;
  limit: number;
}

export function createCasesRepository(db: Db) {
  return {
    /** Inserts the case unless an open one of the same type and dedupe key exists; returns the one that is. */
    async insertOrExisting(c: {
      id: string; type: CaseType; subject: string; playerId: string | null; summary: string; data: Record<string, unknown>;
      dedupeKey: string | null; openedBy: string; dueAt: Date; reminderAt: Date; now: Date;
    }): Promise<{ record: CaseRecord; created: boolean }> {
      const inserted = await db.maybeOne(
        `insert into compliance.cases (id, type, state, subject, player_id, summary, data, dedupe_key, opened_by, due_at, reminder_at, created_at, updated_at)
         values ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         on conflict (type, dedupe_key) where state <> 'closed' and dedupe_key is not null do nothing
         returning *`,
        [c.id, c.type, c.subject, c.playerId, c.summary, JSON.stringify(c.data), c.dedupeKey, c.openedBy, c.dueAt, c.reminderAt, c.now],
      );
      if (inserted) return { record: toCase(inserted), created: true };
      const existing = await db.one(
        `select * from compliance.cases where type = $1 and dedupe_key = $2 and state <> 'closed' for update`,
        [c.type, c.dedupeKey],
      );
      return { record: toCase(existing), created: false };
    },

    async lock(id: string): Promise<CaseRecord | undefined> {
      const r = await db.maybeOne('select * from compliance.cases where id = $1 for update', [id]);
      return r ? toCase(r) : undefined;
    },

    async get(id: string): Promise<CaseRecord | undefined> {
      const r = await db.maybeOne('select * from compliance.cases where id = $1', [id]);
      return r ? toCase(r) : undefined;
    },

    /** The case and its whole history, evidence included, in one statement. */
    async withHistory(id: string): Promise<{ record: CaseRecord; history: HistoryRow[]; evidence: EvidenceRow[] } | undefined> {
      const r = await db.maybeOne(
        `select c.*,
                coalesce((select json_agg(h order by h.seq) from compliance.case_history h where h.case_id = c.id), '[]') as history,
                coalesce((select json_agg(e order by e.added_at, e.id) from compliance.case_evidence e where e.case_id = c.id), '[]') as evidence
           from compliance.cases c where c.id = $1`,
        [id],
      );
      if (!r) return undefined;
      const evidence = (r.evidence as Row[]).map((e) => toEvidence({ ...e, size_bytes: BigInt(e.size_bytes), added_at: new Date(e.added_at) }));
      return { record: toCase(r), history: (r.history as Row[]).map(toHistory), evidence };
    },

    async update(id: string, change: CaseChange, now: Date): Promise<CaseRecord> {
      const sets: string[] = [];
      const params: unknown[] = [id, now];
      for (const [key, value] of Object.entries(change) as [keyof CaseChange, unknown][]) {
        if (value === undefined) continue;
        params.push(value);
        sets.push(`${COLUMN[key]} = $${params.length}`);
      }
      return toCase(await db.one(`update compliance.cases set ${[...sets, 'updated_at = $2'].join(', ')} where id = $1 returning *`, params));
    },

    async insertHistory(h: { caseId: string; at: Date; actor: string; action: string; fromState: string | null; toState: string | null; detail: Record<string, unknown>; textEnc: string | null; audit: Record<string, unknown> | null }): Promise<void> {
      await db.query(
        `insert into compliance.case_history (case_id, at, actor, action, from_state, to_state, detail, text_enc, audit)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [h.caseId, h.at, h.actor, h.action, h.fromState, h.toState, JSON.stringify(h.detail), h.textEnc, h.audit ? JSON.stringify(h.audit) : null],
      );
    },

    async list(f: CaseFilter): Promise<CaseRecord[]> {
      const rows = await db.query(
        `select * from compliance.cases
          where ($1::text is null or type = $1) and ($2::text is null or state = $2) and ($3::text is null or assignee = $3)
            and ($4::text is null or player_id = $4)
            and ($5::timestamptz is null or (state <> 'closed' and due_at <= $5))
            and ($6::uuid is null or (created_at, id) < (select a.created_at, a.id from compliance.cases a where a.id = $6))
          order by created_at desc, id desc
          limit $7`,
        [f.type ?? null, f.state ?? null, f.assignee ?? null, f.playerId ?? null, f.overdueAt ?? null, f.afterId ?? null, f.limit],
      );
      return rows.map(toCase);
    },

    async casesOfPlayer(playerId: string, limit: number): Promise<CaseRecord[]> {
      return (await db.query('select * from compliance.cases where player_id = $1 order by created_at limit $2', [playerId, limit])).map(toCase);
    },

    async insertEvidence(e: Omit<EvidenceRow, 'addedAt'> & { addedAt: Date }): Promise<EvidenceRow> {
      return toEvidence(await db.one(
        `insert into compliance.case_evidence (id, case_id, filename_enc, content_type, size_bytes, sha256, object_key, encrypted, added_by, added_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *`,
        [e.id, e.caseId, e.filenameEnc, e.contentType, e.sizeBytes, e.sha256, e.objectKey, e.encrypted, e.addedBy, e.addedAt],
      ));
    },

    async evidence(caseId: string, evidenceId: string): Promise<EvidenceRow | undefined> {
      const r = await db.maybeOne('select * from compliance.case_evidence where case_id = $1 and id = $2', [caseId, evidenceId]);
      return r ? toEvidence(r) : undefined;
    },

    // ── audit copies ──

    async insertAuditCopy(a: { auditId: string; subject: string; sequence: bigint; record: Record<string, unknown> }): Promise<void> {
      await db.query(
        'insert into compliance.audit_copies (audit_id, subject, sequence, record) values ($1, $2, $3, $4) on conflict (audit_id) do nothing',
        [a.auditId, a.subject, a.sequence, JSON.stringify(a.record)],
      );
    },

    async auditCopiesOf(subject: string, limit: number): Promise<Record<string, unknown>[]> {
      const rows = await db.query<{ record: Record<string, unknown> }>('select record from compliance.audit_copies where subject = $1 order by sequence limit $2', [subject, limit]);
      return rows.map((r) => r.record);
    },

    // ── holds ──

    /** Places a hold unless the same one (player, kind, case) is active; true when placed. */
    async placeHold(h: { id: string; playerId: string; kind: HoldKind; caseId: string | null; reason: string; placedBy: string; at: Date }): Promise<boolean> {
      const rows = await db.query(
        `insert into compliance.holds (id, player_id, kind, case_id, reason, placed_by, placed_at) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (player_id, kind, coalesce(case_id, '00000000-0000-0000-0000-000000000000')) where lifted_at is null do nothing
         returning id`,
        [h.id, h.playerId, h.kind, h.caseId, h.reason, h.placedBy, h.at],
      );
      return rows.length === 1;
    },

    /** Lifts the active holds of that kind (of one case, when given); returns those lifted. */
    async liftHolds(h: { playerId: string; kind: HoldKind; caseId: string | null; alsoUnattached?: boolean; reason: string; liftedBy: string; at: Date }): Promise<HoldRow[]> {
      const rows = await db.query(
        `update compliance.holds set lifted_at = $5, lifted_by = $6, lift_reason = $4
          where player_id = $1 and kind = $2 and lifted_at is null
            and ($3::uuid is null or case_id = $3 or ($7 and case_id is null))
          returning *`,
        [h.playerId, h.kind, h.caseId, h.reason, h.at, h.liftedBy, h.alsoUnattached ?? false],
      );
      return rows.map(toHold);
    },

    async activeHoldKinds(playerId: string): Promise<HoldKind[]> {
      const rows = await db.query<{ kind: HoldKind }>('select distinct kind from compliance.holds where player_id = $1 and lifted_at is null order by kind', [playerId]);
      return rows.map((r) => r.kind);
    },

    async holdsOf(playerId: string, includeLifted: boolean, limit: number): Promise<HoldRow[]> {
      const rows = await db.query(
        `select * from compliance.holds where player_id = $1 and ($2 or lifted_at is null) order by placed_at desc limit $3`,
        [playerId, includeLifted, limit],
      );
      return rows.map(toHold);
    },
  };
}

export type CasesRepository = ReturnType<typeof createCasesRepository>;
