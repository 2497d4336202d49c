/**
 * kyc's reactions and jobs: an application for every registered player; the poll of checks no
 * webhook settled; the compliance case of a manual review; the retention of webhook dedupe rows.
 */
import type { CloudEvent, JobDefinition, Logger, SubscriberDefinition } from '@verity/kernel';
import type { KycRepository } from './repository.ts';
import type { Decision } from './contracts.ts';
import { POLL_JOB, REVIEW_CASE_JOB, type Verification } from './service.ts';

/** The part of the compliance service kyc uses (its module may not run; then the KYC queue is the only queue). */
export interface ComplianceCases {
  openCase(input: { type: 'kyc-review'; subject: string; summary: string; data: Record<string, unknown>; dedupeKey?: string }): Promise<{ caseId: string }>;
}

export interface HandlerDeps {
  log: Logger;
  repo: KycRepository;
  verification: Verification;
  compliance: () => ComplianceCases;
}

const PLAYER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Dedupe rows outlive any vendor's redelivery window many times over. */
const WEBHOOK_EVENT_RETENTION_DAYS = 90;

export function kycSubscribers(deps: HandlerDeps): SubscriberDefinition[] {
  return [
    {
      name: 'player-registered',
      events: ['identity.player-registered.v1'],
      async handle(event: CloudEvent) {
        const playerId = (event.data as { playerId?: unknown }).playerId;
        if (typeof playerId !== 'string' || !PLAYER_ID.test(playerId)) {
          deps.log.warn({ eventId: event.id }, 'identity.player-registered.v1 without a player id; ignored');
          return;
        }
        await deps.verification.openApplication(playerId);
      },
    },
    {
      // A kyc-review case decided in the compliance console settles the application it was opened for.
      name: 'review-case-decided',
      events: ['compliance.case-decided.v1'],
      async handle(event: CloudEvent) {
        const d = event.data as { caseId?: unknown; type?: unknown; playerId?: unknown; outcome?: unknown; decidedBy?: unknown };
        if (d.type !== 'kyc-review' || typeof d.playerId !== 'string' || typeof d.caseId !== 'string') return;
        const decision = REVIEW_CASE_OUTCOMES[String(d.outcome)];
        if (!decision) {
          deps.log.warn({ eventId: event.id, outcome: d.outcome }, 'kyc-review case decided with an outcome kyc does not know; ignored');
          return;
        }
        const app = await deps.repo.applicationByPlayer(d.playerId);
        // Only the application this case is about, and only while it still waits for its review
        // (a reviewer may already have decided it in the KYC queue).
        if (!app || app.reviewCaseId !== d.caseId || app.status !== 'manual_review') return;
        await deps.verification.decide({
          applicationId: app.id,
          decision,
          reason: `Decided on compliance case ${d.caseId} (${String(d.outcome)})`,
          actor: typeof d.decidedBy === 'string' ? `operator:${d.decidedBy}` : 'service:compliance',
        });
      },
    },
  ];
}

/** Outcomes of a compliance kyc-review case → the KYC decision they mean. */
const REVIEW_CASE_OUTCOMES: Readonly<Record<string, Decision>> = {
  approved: 'approve',
  'override-approved': 'approve',
  rejected: 'reject',
  'resubmission-requested': 'request_resubmit',
};

async function openReviewCase(deps: HandlerDeps, data: { applicationId?: string; attempt?: number }): Promise<void> {
  const app = data.applicationId ? await deps.repo.application(data.applicationId) : undefined;
  // Decided already, or a later attempt is in review (its own job opens its case).
  if (!app || app.status !== 'manual_review' || app.attempt !== data.attempt || app.reviewCaseId) return;
  let compliance: ComplianceCases;
  try {
    compliance = deps.compliance();
  } catch {
    deps.log.info({ applicationId: app.id }, 'no compliance module: the review waits in the KYC review queue only');
    return;
  }
  const check = app.currentCheckId ? await deps.repo.check(app.currentCheckId) : undefined;
  const { caseId } = await compliance.openCase({
    type: 'kyc-review',
    subject: `player:${app.playerId}`,
    summary: 'Identity verification needs a manual review',
    data: { applicationId: app.id, attempt: app.attempt, reason: app.reason, vendor: check?.vendor ?? null, vendorCheckId: check?.vendorCheckId ?? null, vendorStatus: check?.vendorStatus ?? null, vendorReasons: check?.reasons ?? [] },
    dedupeKey: `kyc-review:${app.id}:${app.attempt}`,
  });
  if (caseId) await deps.repo.setReviewCase(app.id, caseId);
}

export function kycJobs(deps: HandlerDeps): JobDefinition<any>[] {
  return [
    {
      name: POLL_JOB,
      retryLimit: 8,
      retryDelayS: 30,
      timeoutS: 120,
      concurrency: 2,
      handle: (data: { checkId?: string; delayS?: number }) => (data.checkId ? deps.verification.pollCheck(data.checkId, Math.max(1, data.delayS ?? 60)) : Promise.resolve()),
    },
    { name: REVIEW_CASE_JOB, retryLimit: 10, retryDelayS: 10, timeoutS: 60, handle: (data: { applicationId?: string; attempt?: number }) => openReviewCase(deps, data) },
    {
      name: 'webhook-event-retention',
      cron: '37 4 * * *',
      retryLimit: 3,
      async handle() {
        const purged = await deps.repo.purgeWebhookEvents(WEBHOOK_EVENT_RETENTION_DAYS);
        if (purged) deps.log.info({ purged }, 'old KYC webhook event ids purged');
      },
    },
  ];
}
