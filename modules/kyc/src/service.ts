/**
 * Verification use cases: open an application, start (or resume) a check, apply a vendor result,
 * poll a check no webhook settled, and an operator's review decision. Every status change goes
 * through `moveTo`, which records the history, publishes `kyc.verification-changed.v1` and, on
 * entering manual review, schedules the compliance case — all in the caller's transaction.
 */
import { DomainError, Problems, uuidv7, type AuditLog, type Clock, type Config, type Db, type EventPublisher, type JobQueue, type Logger } from '@verity/kernel';
import { VERIFICATION_CHANGED_V1, type Decision, type VerificationChangedV1Data } from './contracts.ts';
import { canMove, canStart, isAdult, isFinal, Reasons, type CheckOutcome, type VerificationStatus } from './domain/status.ts';
import type { ApplicationRow, CheckRow, KycRepository } from './repository.ts';
import { splitName, type KycVendor, type VendorCheck, type VendorPerson } from './vendors/types.ts';

/** The part of identity's service kyc uses (`getPlayerIdentity`, service-to-service only). */
export interface IdentityLookup {
  getPlayerIdentity(playerId: string): Promise<{ playerId: string; legalName: string; dateOfBirth: string; country: string; address: VendorPerson['address'] }>;
}

export interface VerificationDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  config: Config;
  events: EventPublisher;
  jobs: JobQueue;
  audit: AuditLog;
  repo: KycRepository;
  vendor: KycVendor;
  identity: () => IdentityLookup;
}

export const POLL_JOB = 'poll-check';
export const REVIEW_CASE_JOB = 'open-review-case';

export const underAge = () =>
  new DomainError('under-age', 403, 'Verification refused: under 18', 'You must be 18 or over to take part. Your verification has been refused and cannot be retried.', { verificationStatus: 'rejected_final', reason: Reasons.underAge });

const notInReview = (status: string) =>
  new DomainError('kyc-not-in-review', 409, 'Application is not waiting for review', `The application is ${status}; only an application in manual_review can be decided.`, { verificationStatus: status });

const DECIDED: Record<Decision, { to: CheckOutcome; reason: string }> = {
  approve: { to: 'approved', reason: Reasons.operatorApproved },
  reject: { to: 'rejected_final', reason: Reasons.operatorRejected },
  request_resubmit: { to: 'resubmit', reason: Reasons.operatorResubmit },
};

interface Move {
  reason: string | null;
  actor: string;
  checkId: string | null;
  note?: string;
  attempt?: number;
  currentCheckId?: string;
}

export function createVerification(deps: VerificationDeps) {
  const { db, repo, vendor, config, log } = deps;

  /** The one way a status changes (inside db.tx, application row locked). */
  async function moveTo(app: ApplicationRow, to: VerificationStatus, m: Move): Promise<ApplicationRow> {
    if (!canMove(app.status, to)) throw new Error(`kyc: ${app.status} → ${to} is not a transition`);
    const updated = await repo.setStatus(app.id, {
      status: to,
      reason: m.reason,
      ageVerified: to === 'approved',
      ...(m.attempt !== undefined ? { attempt: m.attempt } : {}),
      ...(m.currentCheckId ? { currentCheckId: m.currentCheckId } : {}),
      reviewQueued: to === 'manual_review',
      decided: isFinal(to),
    });
    const at = await repo.insertHistory({ applicationId: app.id, from: app.status, to, reason: m.reason, actor: m.actor, checkId: m.checkId, ...(m.note ? { note: m.note } : {}) });
    const data: VerificationChangedV1Data = { playerId: app.playerId, applicationId: app.id, status: to, previousStatus: app.status, reason: m.reason, ageVerified: updated.ageVerified, decidedAt: at.toISOString() };
    await deps.events.publish({ type: VERIFICATION_CHANGED_V1, subject: app.playerId, data });
    if (to === 'manual_review') await deps.jobs.enqueue(REVIEW_CASE_JOB, { applicationId: app.id, attempt: updated.attempt });
    return updated;
  }

  const ensure = (playerId: string) => repo.ensureApplication(uuidv7(), playerId);

  async function lookupIdentity(playerId: string) {
    let identity: IdentityLookup;
    try {
      identity = deps.identity();
    } catch {
      throw Problems.unavailable('The identity service is not reachable; verification cannot start.');
    }
    return identity.getPlayerIdentity(playerId);
  }

  async function refuseUnderAge(playerId: string, actor: string): Promise<void> {
    await db.tx(async () => {
      const app = await repo.applicationByPlayer(playerId, true);
      if (app && !isFinal(app.status)) await moveTo(app, 'rejected_final', { reason: Reasons.underAge, actor, checkId: null });
    });
  }

  /** On registration: the application, refused at once when the date of birth is under 18. */
  async function openApplication(playerId: string): Promise<void> {
    const { row } = await ensure(playerId);
    if (row.status !== 'not_started') return;
    let dateOfBirth: string;
    try {
      dateOfBirth = (await lookupIdentity(playerId)).dateOfBirth;
    } catch (err) {
      // Erased or unknown: nothing to check; a start will say so.
      if ((err as DomainError).status === 404 || (err as DomainError).status === 410) return;
      throw err;
    }
    if (!isAdult(dateOfBirth, await deps.clock.now())) await refuseUnderAge(playerId, 'system');
  }

  /** The player's start (or resume): the age rule, then a vendor check. Returns when the check is under way. */
  async function start(playerId: string): Promise<void> {
    const { row } = await ensure(playerId);
    if (row.status === 'rejected_final' && row.reason === Reasons.underAge) throw underAge();
    if (!canStart(row.status)) return;
    const person = await lookupIdentity(playerId);
    if (!isAdult(person.dateOfBirth, await deps.clock.now())) {
      await refuseUnderAge(playerId, `player:${playerId}`);
      throw underAge();
    }
    const claim = await claimAttempt(playerId);
    if (claim) await runVendorCheck(claim, person);
  }

  /** Marks the attempt pending before any vendor call, so a second start does not start a second check. */
  async function claimAttempt(playerId: string): Promise<{ app: ApplicationRow; check: CheckRow; previous: VerificationStatus } | undefined> {
    return db.tx(async () => {
      const app = await repo.applicationByPlayer(playerId, true);
      if (!app || !canStart(app.status)) return undefined;
      const check = await repo.insertCheck({ id: uuidv7(), applicationId: app.id, attempt: app.attempt + 1, vendor: vendor.name, expiryS: config.kycCheckExpiryS });
      const updated = await moveTo(app, 'pending', { reason: null, actor: `player:${playerId}`, checkId: check.id, attempt: check.attempt, currentCheckId: check.id });
      // The safety net: if no webhook settles the check, the job asks the vendor (and expires it at the deadline).
      await deps.jobs.enqueue(POLL_JOB, { checkId: check.id, delayS: config.kycCheckPollS }, { startAfter: config.kycCheckPollS, singletonKey: `${POLL_JOB}:${check.id}` });
      return { app: updated, check, previous: app.status };
    });
  }

  async function runVendorCheck(claim: { app: ApplicationRow; check: CheckRow; previous: VerificationStatus }, person: Awaited<ReturnType<typeof lookupIdentity>>): Promise<void> {
    const { app, check } = claim;
    try {
      let applicantId = app.vendor === vendor.name ? app.vendorApplicantId : null;
      if (!applicantId) {
        const vendorPerson: VendorPerson = { ...splitName(person.legalName), dateOfBirth: person.dateOfBirth, country: person.country, address: person.address };
        applicantId = (await vendor.createApplicant({ reference: app.id, person: vendorPerson })).applicantId;
        await repo.setApplicant(app.id, vendor.name, applicantId);
      }
      const result = await vendor.startCheck({ applicantId, reference: check.id, documentTypes: await repo.documentTypes(app.playerId) });
      await db.tx(async () => {
        const locked = await repo.check(check.id, true);
        if (!locked || locked.status !== 'pending' || locked.vendorCheckId) return;
        await repo.setCheckVendor(check.id, { vendorCheckId: result.vendorCheckId, vendorStatus: result.vendorStatus, ...(result.verificationUrl ? { verificationUrl: result.verificationUrl } : {}) });
        if (result.outcome !== 'pending') await applyResult(locked, result, `vendor:${vendor.name}`);
      });
    } catch (err) {
      await releaseClaim(claim);
      throw err;
    }
  }

  /** The vendor never took the check: the player is back where they were and may try again. */
  async function releaseClaim(claim: { app: ApplicationRow; check: CheckRow; previous: VerificationStatus }): Promise<void> {
    await db.tx(async () => {
      const check = await repo.check(claim.check.id, true);
      if (!check || check.status !== 'pending' || check.vendorCheckId) return;
      await repo.completeCheck(check.id, { status: 'expired', reasons: [Reasons.vendorUnavailable] });
      const app = await repo.application(check.applicationId, true);
      if (app?.currentCheckId === check.id && app.status === 'pending') await moveTo(app, claim.previous, { reason: Reasons.vendorUnavailable, actor: 'system', checkId: check.id });
    });
  }

  /**
   * A vendor's answer for one of our checks (inside db.tx, check row locked). Safe against
   * duplicates and any order: only a pending check settles, once; a result for a check that is no
   * longer the application's current one is recorded on the check but moves nothing.
   */
  async function applyResult(check: CheckRow, result: VendorCheck, actor: string): Promise<'applied' | 'unchanged' | 'superseded'> {
    if (result.outcome === 'pending') {
      if (result.vendorStatus !== check.vendorStatus) await repo.setCheckVendorStatus(check.id, result.vendorStatus);
      return 'unchanged';
    }
    // A result that comes after our deadline still counts: the vendor did check the person.
    const timedOut = check.status === 'expired' && check.reasons.includes(Reasons.checkTimedOut);
    if (check.status !== 'pending' && !(timedOut && result.outcome !== 'expired')) return 'unchanged';
    await repo.completeCheck(check.id, { status: result.outcome, vendorStatus: result.vendorStatus, reasons: result.reasons });
    const app = await repo.application(check.applicationId, true);
    if (!app || app.currentCheckId !== check.id || !canMove(app.status, result.outcome)) return 'superseded';
    await moveTo(app, result.outcome, { reason: result.reasons[0] ?? null, actor, checkId: check.id });
    return 'applied';
  }

  /** A verified webhook's check, re-read from the vendor (the caller holds the dedupe row in this transaction). */
  async function applyVendorCheck(result: VendorCheck): Promise<'applied' | 'unchanged' | 'superseded' | 'unknown-reference'> {
    const known = await repo.checkByVendorId(vendor.name, result.vendorCheckId);
    if (!known) return 'unknown-reference';
    const check = await repo.check(known.id, true);
    return applyResult(check!, result, `vendor:${vendor.name}`);
  }

  async function expireCheck(checkId: string, reason: string): Promise<void> {
    await db.tx(async () => {
      const check = await repo.check(checkId, true);
      if (!check || check.status !== 'pending') return;
      await repo.completeCheck(check.id, { status: 'expired', reasons: [reason] });
      const app = await repo.application(check.applicationId, true);
      if (app?.currentCheckId === check.id && canMove(app.status, 'expired')) await moveTo(app, 'expired', { reason, actor: 'system', checkId: check.id });
    });
  }

  /** The poll job: ask the vendor about a check still pending; expire it at its deadline. */
  async function pollCheck(checkId: string, delayS: number): Promise<void> {
    const check = await repo.check(checkId);
    if (!check || check.status !== 'pending') return;
    const now = await deps.clock.now();
    const overdue = now >= check.deadlineAt;
    if (!check.vendorCheckId) {
      // The start is still talking to the vendor, or its process died mid-way.
      if (overdue || now.getTime() - check.startedAt.getTime() > 2 * config.kycVendorTimeoutMs + 5_000) return expireCheck(check.id, Reasons.vendorUnavailable);
      return reschedule(check, now, delayS);
    }
    let result: VendorCheck;
    try {
      result = await vendor.getCheck(check.vendorCheckId);
    } catch (err) {
      const code = (err as DomainError).code;
      if (code === 'kyc-vendor-rejected') return expireCheck(check.id, Reasons.vendorExpired); // the vendor no longer knows it
      if (overdue) return expireCheck(check.id, Reasons.checkTimedOut);
      throw err;
    }
    if (result.outcome !== 'pending') {
      await db.tx(async () => applyResult((await repo.check(check.id, true))!, result, `vendor:${vendor.name}`));
      return;
    }
    if (overdue) return expireCheck(check.id, Reasons.checkTimedOut);
    return reschedule(check, now, delayS);
  }

  async function reschedule(check: CheckRow, now: Date, delayS: number): Promise<void> {
    const untilDeadlineS = Math.max(1, Math.ceil((check.deadlineAt.getTime() - now.getTime()) / 1000));
    const next = Math.min(delayS * 2, 6 * 3600, untilDeadlineS);
    await deps.jobs.enqueue(POLL_JOB, { checkId: check.id, delayS: next }, { startAfter: Math.min(delayS, untilDeadlineS), singletonKey: `${POLL_JOB}:${check.id}` });
  }

  /** An operator's decision on an application in manual review (audited with the reason). */
  async function decide(input: { applicationId: string; decision: Decision; reason: string; actor: string }): Promise<ApplicationRow> {
    const decided = Object.hasOwn(DECIDED, input.decision) ? DECIDED[input.decision] : undefined;
    if (!decided) throw Problems.validation([{ pointer: '/body/decision', detail: `must be one of ${Object.keys(DECIDED).join(', ')}` }]);
    return db.tx(async () => {
      const app = await repo.application(input.applicationId, true);
      if (!app) throw Problems.notFound('KYC application');
      if (app.status !== 'manual_review') throw notInReview(app.status);
      const { to, reason } = decided;
      const updated = await moveTo(app, to, { reason, actor: input.actor, checkId: app.currentCheckId, note: input.reason });
      await deps.audit.record({
        actor: input.actor,
        action: 'kyc.application-decided',
        subject: `player:${app.playerId}`,
        reason: input.reason,
        data: { applicationId: app.id, decision: input.decision, from: app.status, to, attempt: app.attempt, reviewCaseId: app.reviewCaseId },
      });
      log.info({ applicationId: app.id, decision: input.decision }, 'KYC review decided');
      return updated;
    });
  }

  return { openApplication, start, applyVendorCheck, pollCheck, expireCheck, decide };
}

export type Verification = ReturnType<typeof createVerification>;
