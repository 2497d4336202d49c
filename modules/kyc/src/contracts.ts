/** TypeBox schemas of the kyc module's HTTP bodies and events (versioned). */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';
import { DOCUMENT_TYPES } from './domain/requirements.ts';
import { VERIFICATION_STATUSES } from './domain/status.ts';

export const TAG = 'KYC';
export const bearer = [{ bearer: [] }];

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const DateTime = Type.String({ format: 'date-time' });
const Status = Type.Enum(VERIFICATION_STATUSES);
const DocType = Type.Enum(DOCUMENT_TYPES);
const Reason = Type.Union([Type.String({ maxLength: 100 }), Type.Null()], { description: 'Stable code of why the status is what it is (under-age, identity-not-confirmed, operator-approved…)' });

export const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), code: Type.String(), detail: Type.Optional(Type.String()), instance: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

const RequirementItem = Strict({ id: Type.String(), title: Type.String(), when: Type.String(), why: Type.String() });
const DocumentRequirement = Strict({ type: DocType, title: Type.String(), examples: Type.String(), when: Type.String(), why: Type.String() });
export const Requirements = Strict(
  {
    version: Type.String(),
    effectiveFrom: Type.String(),
    basis: Type.String(),
    summary: Type.String(),
    checks: Type.Array(RequirementItem, { maxItems: 50 }),
    documents: Type.Array(DocumentRequirement, { maxItems: 20 }),
    howWeAsk: Type.String(),
    accepted: Strict({ contentTypes: Type.Array(Type.String(), { maxItems: 10 }), maxBytes: Type.Integer() }),
  },
  { description: 'What we may ask of you, when and why (UKGC LCCP licence condition 17.1.1); versioned.' },
);

export const Document = Strict({
  documentId: Uuid,
  type: DocType,
  contentType: Type.String({ maxLength: 40 }),
  sizeBytes: Type.Integer(),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the document as uploaded' }),
  uploadedAt: DateTime,
});
export const DocumentList = Strict({ items: Type.Array(Document, { maxItems: 1000 }) });

export const KycStatus = Strict({
  applicationId: Type.Union([Uuid, Type.Null()]),
  status: Status,
  reason: Reason,
  ageVerified: Type.Boolean(),
  attempt: Type.Integer(),
  canStart: Type.Boolean({ description: 'Whether POST /v1/kyc would start a new check now' }),
  nextStep: Type.String(),
  verificationUrl: Type.Optional(Type.String({ description: 'Where to complete the provider\'s capture flow, when it has one' })),
  updatedAt: Type.Union([DateTime, Type.Null()]),
  decidedAt: Type.Union([DateTime, Type.Null()]),
  documents: Type.Array(Document, { maxItems: 1000 }),
  requirements: Requirements,
});

export const UploadQuery = Strict({ type: DocType });
export const DocumentParams = Strict({ documentId: Uuid });
export const PlayerParams = Strict({ playerId: Uuid });
export const ApplicationParams = Strict({ applicationId: Uuid });

export const DECISIONS = ['approve', 'reject', 'request_resubmit'] as const;
export type Decision = (typeof DECISIONS)[number];
export const DecisionBody = Strict({
  decision: Type.Enum(DECISIONS),
  reason: Type.String({ minLength: 3, maxLength: 2000, description: 'Why (kept in the application history and the audit log)' }),
});

export const ReviewQuery = Strict({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
});
const ReviewItem = Strict({
  applicationId: Uuid,
  playerId: Uuid,
  attempt: Type.Integer(),
  reason: Reason,
  queuedAt: DateTime,
  reviewCaseId: Type.Union([Type.String(), Type.Null()]),
  vendor: Type.Union([Type.String(), Type.Null()]),
  vendorStatus: Type.Union([Type.String(), Type.Null()]),
  vendorReasons: Type.Array(Type.String(), { maxItems: 20 }),
  documentCount: Type.Integer(),
});
export const ReviewPage = Strict({ items: Type.Array(ReviewItem, { maxItems: 200 }), nextCursor: Type.Union([Type.String(), Type.Null()]) });

const CheckView = Strict({
  checkId: Uuid,
  attempt: Type.Integer(),
  vendor: Type.String(),
  vendorCheckId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  vendorStatus: Type.Union([Type.String(), Type.Null()]),
  reasons: Type.Array(Type.String(), { maxItems: 20 }),
  startedAt: DateTime,
  deadlineAt: DateTime,
  completedAt: Type.Union([DateTime, Type.Null()]),
});
const HistoryView = Strict({
  from: Status,
  to: Status,
  reason: Reason,
  actor: Type.String(),
  checkId: Type.Union([Uuid, Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
  at: DateTime,
});
export const Application = Strict({
  applicationId: Uuid,
  playerId: Uuid,
  status: Status,
  reason: Reason,
  ageVerified: Type.Boolean(),
  attempt: Type.Integer(),
  reviewCaseId: Type.Union([Type.String(), Type.Null()]),
  openedAt: DateTime,
  updatedAt: DateTime,
  decidedAt: Type.Union([DateTime, Type.Null()]),
  checks: Type.Array(CheckView, { maxItems: 1000 }),
  history: Type.Array(HistoryView, { maxItems: 10_000 }),
  documents: Type.Array(Document, { maxItems: 1000 }),
});

export const WebhookParams = Strict({ provider: Type.String({ pattern: '^[a-z][a-z0-9_-]{1,30}$', maxLength: 31 }) });
export const WebhookAck = Strict({ received: Type.Literal(true), outcome: Type.String({ description: 'applied, unchanged, duplicate, superseded, unknown-reference or ignored' }) });

// ---- events ---------------------------------------------------------------------------------------
export const VERIFICATION_CHANGED_V1 = 'kyc.verification-changed.v1';
export const DOCUMENT_UPLOADED_V1 = 'kyc.document-uploaded.v1';

/** Every status change of a player's verification. No personal data. */
export const VerificationChangedV1 = Strict({
  playerId: Uuid,
  applicationId: Uuid,
  status: Status,
  previousStatus: Status,
  reason: Reason,
  ageVerified: Type.Boolean(),
  /** When the change was made (database time). */
  decidedAt: DateTime,
});
export const DocumentUploadedV1 = Strict({ playerId: Uuid, documentId: Uuid, type: DocType, uploadedAt: DateTime });

export type VerificationChangedV1Data = Static<typeof VerificationChangedV1>;
export type DocumentUploadedV1Data = Static<typeof DocumentUploadedV1>;
export type KycStatusDto = Static<typeof KycStatus>;
export type DocumentDto = Static<typeof Document>;
export type ApplicationDto = Static<typeof Application>;
export type ReviewPageDto = Static<typeof ReviewPage>;
