/** The only file with SQL for the `kyc` schema. */
import type { Db } from '@verity/kernel';
import type { DocumentContentType, DocumentType } from './domain/requirements.ts';
import type { CheckOutcome, VerificationStatus } from './domain/status.ts';

export interface ApplicationRow {
  id: string;
  playerId: string;
  status: VerificationStatus;
  reason: string | null;
  ageVerified: boolean;
  attempt: number;
  currentCheckId: string | null;
  vendor: string | null;
  vendorApplicantId: string | null;
  reviewCaseId: string | null;
  reviewQueuedAt: Date | null;
  openedAt: Date;
  updatedAt: Date;
  decidedAt: Date | null;
}

export interface CheckRow {
  id: string;
  applicationId: string;
  attempt: number;
  vendor: string;
  vendorCheckId: string | null;
  status: CheckOutcome;
  vendorStatus: string | null;
  reasons: string[];
  verificationUrl: string | null;
  startedAt: Date;
  deadlineAt: Date;
  completedAt: Date | null;
}

export interface HistoryRow {
  fromStatus: VerificationStatus;
  toStatus: VerificationStatus;
  reason: string | null;
  actor: string;
  checkId: string | null;
  note: string | null;
  at: Date;
}

export interface DocumentRow {
  id: string;
  playerId: string;
  applicationId: string;
  type: DocumentType;
  contentType: DocumentContentType;
  sizeBytes: number;
  sha256: string;
  objectKey: string;
  uploadedAt: Date;
}

const APP_COLUMNS = `id, player_id, status, reason, age_verified, attempt, current_check_id, vendor, vendor_applicant_id, review_case_id,
  review_queued_at, opened_at, updated_at, decided_at`;
const CHECK_COLUMNS = 'id, application_id, attempt, vendor, vendor_check_id, status, vendor_status, reasons, verification_url, started_at, deadline_at, completed_at';
const DOC_COLUMNS = 'id, player_id, application_id, type, content_type, size_bytes, sha256, object_key, uploaded_at';

const toApplication = (r: Record<string, any>): ApplicationRow => ({
  id: r.id,
  playerId: r.player_id,
  status: r.status,
  reason: r.reason,
  ageVerified: r.age_verified,
  attempt: r.attempt,
  currentCheckId: r.current_check_id,
  vendor: r.vendor,
  vendorApplicantId: r.vendor_applicant_id,
  reviewCaseId: r.review_case_id,
  reviewQueuedAt: r.review_queued_at,
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  decidedAt: r.decided_at,
});

const toCheck = (r: Record<string, any>): CheckRow => ({
  id: r.id,
  applicationId: r.application_id,
  attempt: r.attempt,
  vendor: r.vendor,
  vendorCheckId: r.vendor_check_id,
  status: r.status,
  vendorStatus: r.vendor_status,
  reasons: r.reasons,
  verificationUrl: r.verification_url,
  startedAt: r.started_at,
  deadlineAt: r.deadline_at,
  completedAt: r.completed_at,
});

const toDocument = (r: Record<string, any>): DocumentRow => ({
  id: r.id,
  playerId: r.player_id,
  applicationId: r.application_id,
  type: r.type,
  contentType: r.content_type,
  sizeBytes: r.size_bytes,
  sha256: r.sha256,
  objectKey: r.object_key,
  uploadedAt: r.uploaded_at,
});

export function createRepository(db: Db) {
  const lock = (forUpdate: boolean) => (forUpdate ? ' for update' : '');
  return {
    /** The player's application, created when absent (the registration event and the player may race). */
    async ensureApplication(id: string, playerId: string): Promise<{ row: ApplicationRow; created: boolean }> {
      const inserted = await db.maybeOne(`insert into kyc.applications (id, player_id) values ($1, $2) on conflict (player_id) do nothing returning ${APP_COLUMNS}`, [id, playerId]);
      if (inserted) return { row: toApplication(inserted), created: true };
      return { row: toApplication(await db.one(`select ${APP_COLUMNS} from kyc.applications where player_id = $1`, [playerId])), created: false };
    },
    async applicationByPlayer(playerId: string, forUpdate = false): Promise<ApplicationRow | undefined> {
      const r = await db.maybeOne(`select ${APP_COLUMNS} from kyc.applications where player_id = $1${lock(forUpdate)}`, [playerId]);
      return r ? toApplication(r) : undefined;
    },
    async application(id: string, forUpdate = false): Promise<ApplicationRow | undefined> {
      const r = await db.maybeOne(`select ${APP_COLUMNS} from kyc.applications where id = $1${lock(forUpdate)}`, [id]);
      return r ? toApplication(r) : undefined;
    },
    async setStatus(id: string, s: { status: VerificationStatus; reason: string | null; ageVerified: boolean; attempt?: number; currentCheckId?: string; reviewQueued: boolean; decided: boolean }): Promise<ApplicationRow> {
      const r = await db.one(
        `update kyc.applications set status = $2, reason = $3, age_verified = $4, attempt = coalesce($5, attempt), current_check_id = coalesce($6, current_check_id),
           review_queued_at = case when $7 then now() else null end, decided_at = case when $8 then now() else decided_at end, updated_at = now()
         where id = $1 returning ${APP_COLUMNS}`,
        [id, s.status, s.reason, s.ageVerified, s.attempt ?? null, s.currentCheckId ?? null, s.reviewQueued, s.decided],
      );
      return toApplication(r);
    },
    async setApplicant(id: string, vendor: string, applicantId: string): Promise<void> {
      await db.query('update kyc.applications set vendor = $2, vendor_applicant_id = $3 where id = $1', [id, vendor, applicantId]);
    },
    async setReviewCase(id: string, caseId: string): Promise<void> {
      await db.query('update kyc.applications set review_case_id = $2 where id = $1', [id, caseId]);
    },
    async insertCheck(c: { id: string; applicationId: string; attempt: number; vendor: string; expiryS: number }): Promise<CheckRow> {
      const r = await db.one(
        `insert into kyc.checks (id, application_id, attempt, vendor, deadline_at) values ($1, $2, $3, $4, now() + make_interval(secs => $5)) returning ${CHECK_COLUMNS}`,
        [c.id, c.applicationId, c.attempt, c.vendor, c.expiryS],
      );
      return toCheck(r);
    },
    async check(id: string, forUpdate = false): Promise<CheckRow | undefined> {
      const r = await db.maybeOne(`select ${CHECK_COLUMNS} from kyc.checks where id = $1${lock(forUpdate)}`, [id]);
      return r ? toCheck(r) : undefined;
    },
    async checkByVendorId(vendor: string, vendorCheckId: string): Promise<CheckRow | undefined> {
      const r = await db.maybeOne(`select ${CHECK_COLUMNS} from kyc.checks where vendor = $1 and vendor_check_id = $2`, [vendor, vendorCheckId]);
      return r ? toCheck(r) : undefined;
    },
    async checks(applicationId: string): Promise<CheckRow[]> {
      return (await db.query(`select ${CHECK_COLUMNS} from kyc.checks where application_id = $1 order by attempt`, [applicationId])).map(toCheck);
    },
    async setCheckVendor(id: string, v: { vendorCheckId: string; vendorStatus: string; verificationUrl?: string }): Promise<void> {
      await db.query('update kyc.checks set vendor_check_id = $2, vendor_status = $3, verification_url = $4 where id = $1', [id, v.vendorCheckId, v.vendorStatus.slice(0, 60), v.verificationUrl ?? null]);
    },
    async setCheckVendorStatus(id: string, vendorStatus: string): Promise<void> {
      await db.query('update kyc.checks set vendor_status = $2 where id = $1', [id, vendorStatus.slice(0, 60)]);
    },
    async completeCheck(id: string, c: { status: CheckOutcome; vendorStatus?: string; reasons: string[] }): Promise<void> {
      await db.query('update kyc.checks set status = $2, vendor_status = coalesce($3, vendor_status), reasons = $4, completed_at = now() where id = $1', [id, c.status, c.vendorStatus?.slice(0, 60) ?? null, c.reasons.slice(0, 20)]);
    },
    async insertHistory(h: { applicationId: string; from: VerificationStatus; to: VerificationStatus; reason: string | null; actor: string; checkId: string | null; note?: string }): Promise<Date> {
      const r = await db.one<{ at: Date }>(
        'insert into kyc.status_history (application_id, from_status, to_status, reason, actor, check_id, note) values ($1, $2, $3, $4, $5, $6, $7) returning at',
        [h.applicationId, h.from, h.to, h.reason, h.actor, h.checkId, h.note ?? null],
      );
      return r.at;
    },
    async history(applicationId: string): Promise<HistoryRow[]> {
      const rows = await db.query<Record<string, any>>('select from_status, to_status, reason, actor, check_id, note, at from kyc.status_history where application_id = $1 order by id', [applicationId]);
      return rows.map((r) => ({ fromStatus: r.from_status, toStatus: r.to_status, reason: r.reason, actor: r.actor, checkId: r.check_id, note: r.note, at: r.at }));
    },
    /**
     * Applications waiting for a reviewer, oldest first, after `after` (a position from an earlier
     * page: the queue time as PostgreSQL text, exact to the microsecond, and the id).
     */
    async reviewQueue(q: { limit: number; after?: { queuedAt: string; id: string } }): Promise<{ row: ApplicationRow; position: { queuedAt: string; id: string } }[]> {
      const rows = await db.query<Record<string, any>>(
        `select ${APP_COLUMNS}, review_queued_at::text as queued_text from kyc.applications where status = 'manual_review'
           and ($1::timestamptz is null or (review_queued_at, id) > ($1::timestamptz, $2::uuid))
         order by review_queued_at, id limit $3`,
        [q.after?.queuedAt ?? null, q.after?.id ?? null, q.limit],
      );
      return rows.map((r) => ({ row: toApplication(r), position: { queuedAt: r.queued_text as string, id: r.id as string } }));
    },
    async insertDocument(d: Omit<DocumentRow, 'uploadedAt'>): Promise<DocumentRow> {
      const r = await db.one(
        `insert into kyc.documents (id, player_id, application_id, type, content_type, size_bytes, sha256, object_key) values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${DOC_COLUMNS}`,
        [d.id, d.playerId, d.applicationId, d.type, d.contentType, d.sizeBytes, d.sha256, d.objectKey],
      );
      return toDocument(r);
    },
    async documents(playerId: string): Promise<DocumentRow[]> {
      return (await db.query(`select ${DOC_COLUMNS} from kyc.documents where player_id = $1 order by uploaded_at, id`, [playerId])).map(toDocument);
    },
    async document(id: string): Promise<DocumentRow | undefined> {
      const r = await db.maybeOne(`select ${DOC_COLUMNS} from kyc.documents where id = $1`, [id]);
      return r ? toDocument(r) : undefined;
    },
    async documentCount(playerId: string): Promise<number> {
      return Number((await db.one<{ n: bigint }>('select count(*) as n from kyc.documents where player_id = $1', [playerId])).n);
    },
    async documentTypes(playerId: string): Promise<DocumentType[]> {
      return (await db.query<{ type: DocumentType }>('select distinct type from kyc.documents where player_id = $1 order by type', [playerId])).map((r) => r.type);
    },
    async webhookSeen(provider: string, eventId: string): Promise<boolean> {
      return (await db.query('select 1 from kyc.webhook_events where provider = $1 and event_id = $2', [provider, eventId])).length > 0;
    },
    /** The dedupe row; false when the event was recorded before (a concurrent twin waits on it, then sees it). */
    async recordWebhook(provider: string, eventId: string, vendorCheckId: string): Promise<boolean> {
      const r = await db.query('insert into kyc.webhook_events (provider, event_id, vendor_check_id) values ($1, $2, $3) on conflict do nothing returning 1', [provider, eventId, vendorCheckId]);
      return r.length === 1;
    },
    async setWebhookOutcome(provider: string, eventId: string, outcome: string): Promise<void> {
      await db.query('update kyc.webhook_events set outcome = $3 where provider = $1 and event_id = $2', [provider, eventId, outcome]);
    },
    async purgeWebhookEvents(olderThanDays: number): Promise<number> {
      return (await db.query("delete from kyc.webhook_events where received_at < now() - make_interval(days => $1) returning 1", [olderThanDays])).length;
    },
  };
}

export type KycRepository = ReturnType<typeof createRepository>;
