/**
 * The kyc module: KYC applications (age 18+, identity checked through a vendor port), documents in
 * the object store (encrypted), the operator review queue, vendor webhooks. This file is its only
 * import surface: the module definition, the service other modules call, and its event contracts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, Problems } from '@verity/kernel';
import type { Decision } from './contracts.ts';
import { createDocuments } from './documents.ts';
import type { VerificationStatus } from './domain/status.ts';
import { kycJobs, kycSubscribers, type ComplianceCases } from './handlers.ts';
import { createRepository } from './repository.ts';
import { registerRoutes } from './routes.ts';
import { createVerification, type IdentityLookup } from './service.ts';
import { setupVendor } from './vendors/setup.ts';
import { createViews } from './views.ts';
import { registerWebhookRoute } from './webhooks.ts';

export type { VerificationStatus } from './domain/status.ts';
export { REQUIREMENTS_VERSION, DOCUMENT_TYPES, type DocumentType } from './domain/requirements.ts';
export {
  VERIFICATION_CHANGED_V1,
  DOCUMENT_UPLOADED_V1,
  type VerificationChangedV1Data,
  type DocumentUploadedV1Data,
  type KycStatusDto,
  type ApplicationDto,
  type Decision,
} from './contracts.ts';

export interface KycStatusSummary {
  playerId: string;
  status: VerificationStatus;
  /** True once a vendor or a reviewer confirmed the player's identity, date of birth (18+) included. */
  ageVerified: boolean;
  /** Stable reason code of the status (`under-age`, `identity-not-confirmed`, `operator-approved`…). */
  reason: string | null;
  applicationId: string | null;
  updatedAt: Date | null;
}

/** What other modules may ask kyc, in process or over HTTP. */
export interface KycService {
  getStatus(input: { playerId: string }): Promise<KycStatusSummary>;
  /**
   * A reviewer's decision on an application in manual review, taken elsewhere (a compliance case of
   * type kyc-review): the same effect and audit as POST /v1/kyc/applications/{id}/decision.
   */
  decideReview(input: { applicationId: string; decision: Decision; reason: string; operatorId: string }): Promise<{ applicationId: string; status: VerificationStatus }>;
}

export const kycModule = defineModule<KycService>({
  name: 'kyc',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['getStatus', 'decideReview'],
  setup(ctx) {
    const repo = createRepository(ctx.db);
    const vendors = setupVendor(ctx.config, ctx.log);
    const verification = createVerification({ ...ctx, repo, vendor: vendors.vendor, identity: () => ctx.service<IdentityLookup>('identity') });
    const documents = createDocuments({ ...ctx, repo });
    const views = createViews(repo, ctx.config.kycDocumentMaxBytes);
    const handlerDeps = { log: ctx.log, repo, verification, compliance: () => ctx.service<ComplianceCases>('compliance') };
    return {
      service: {
        async getStatus({ playerId }) {
          const app = await repo.applicationByPlayer(playerId);
          return { playerId, status: app?.status ?? 'not_started', ageVerified: app?.ageVerified ?? false, reason: app?.reason ?? null, applicationId: app?.id ?? null, updatedAt: app?.updatedAt ?? null };
        },
        async decideReview({ applicationId, decision, reason, operatorId }) {
          if (!reason || reason.length > 2000) throw Problems.validation([{ pointer: '/reason', detail: 'must be 1..2000 characters' }]);
          const app = await verification.decide({ applicationId, decision, reason, actor: `operator:${operatorId}` });
          return { applicationId: app.id, status: app.status };
        },
      },
      async routes(app) {
        vendors.attach(app);
        await registerRoutes(app, { auth: ctx.auth, idempotency: ctx.idempotency, verification, documents, views, documentMaxBytes: ctx.config.kycDocumentMaxBytes });
        await registerWebhookRoute(app, { db: ctx.db, log: ctx.log, repo, vendor: vendors.vendor, verification });
      },
      subscribers: kycSubscribers(handlerDeps),
      jobs: kycJobs(handlerDeps),
      start: () => vendors.start(),
      stop: () => vendors.stop(),
    };
  },
});
