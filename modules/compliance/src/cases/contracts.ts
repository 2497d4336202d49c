/** Wire contracts of the cases part: HTTP bodies and replies (events are listed in ADR 0010). */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_CASES = 'Compliance cases';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const CaseTypeSchema = Type.Union(['kyc-review', 'aml-alert', 'sanctions-hit', 'payout-exception', 'operator-override', 'complaint'].map((t) => Type.Literal(t)));
const CaseStateSchema = Type.Union(['open', 'in_progress', 'pending_second_approval', 'closed'].map((t) => Type.Literal(t)));
const Time = Type.String({ format: 'date-time' });
const Json = Type.Object({}, { additionalProperties: true });

export const CaseParams = Strict({ caseId: Uuid });
export const EvidenceParams = Strict({ caseId: Uuid, evidenceId: Uuid });

export const ListCasesQuery = Strict({
  type: Type.Optional(CaseTypeSchema),
  state: Type.Optional(CaseStateSchema),
  assignee: Type.Optional(Type.String({ pattern: '^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$', maxLength: 36, description: 'An operator id, or `me`' })),
  playerId: Type.Optional(Uuid),
  overdue: Type.Optional(Type.Boolean({ description: 'Only cases past their due time and not closed' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
});
export type ListCasesQuery = Static<typeof ListCasesQuery>;

export const OpenCaseBody = Strict({
  type: Type.Union([Type.Literal('complaint'), Type.Literal('operator-override'), Type.Literal('payout-exception'), Type.Literal('aml-alert')], {
    description: 'Cases operators open by hand (the others are opened by KYC, AML and sanctions)',
  }),
  subject: Type.String({ minLength: 3, maxLength: 200, pattern: '^[a-z][a-z-]{0,30}:[A-Za-z0-9._:-]{1,160}$', description: '`player:<id>`, `withdrawal:<id>`…' }),
  summary: Type.String({ minLength: 1, maxLength: 500, description: 'Facts and ids only: no personal data (use a note for that)' }),
  data: Type.Optional(Json),
});

export const AssignBody = Strict({
  assignee: Type.Union([Type.String({ minLength: 1, maxLength: 64, description: 'An operator id, or `me`' }), Type.Null()], { description: 'null: unassign' }),
});

export const NoteBody = Strict({ text: Type.String({ minLength: 1, maxLength: 4000 }) });

export const EvidenceBody = Strict({
  filename: Type.String({ minLength: 1, maxLength: 200 }),
  contentType: Type.String({ minLength: 3, maxLength: 100, pattern: '^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$' }),
  contentBase64: Type.String({ minLength: 4, maxLength: 14_000_000, pattern: '^[A-Za-z0-9+/]+={0,2}$' }),
});

export const DecideBody = Strict(
  {
    outcome: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'For an open or in-progress case: the decision (allowed outcomes depend on the case type)' })),
    approval: Type.Optional(Type.Union([Type.Literal('approve'), Type.Literal('reject')], { description: 'For a case pending second approval (another operator than the proposer)' })),
    reason: Type.String({ minLength: 3, maxLength: 2000 }),
  },
  { description: 'Decisions that release money or override a control wait for a second operator’s approval (four eyes).' },
);

export const ReopenBody = Strict({ reason: Type.String({ minLength: 3, maxLength: 2000 }) });

export const CaseDto = Strict({
  caseId: Uuid,
  type: CaseTypeSchema,
  state: CaseStateSchema,
  subject: Type.String({ maxLength: 200 }),
  playerId: Type.Optional(Type.String({ maxLength: 64 })),
  summary: Type.String({ maxLength: 500 }),
  data: Json,
  assignee: Type.Optional(Type.String({ maxLength: 64 })),
  openedBy: Type.String({ maxLength: 200 }),
  outcome: Type.Optional(Type.String({ maxLength: 64 })),
  decidedBy: Type.Optional(Type.String({ maxLength: 64 })),
  secondApprover: Type.Optional(Type.String({ maxLength: 64 })),
  decidedAt: Type.Optional(Time),
  proposedOutcome: Type.Optional(Type.String({ maxLength: 64 })),
  proposedBy: Type.Optional(Type.String({ maxLength: 64 })),
  allowedOutcomes: Type.Array(Type.Object({ outcome: Type.String(), fourEyes: Type.Boolean(), description: Type.String() }, { additionalProperties: false }), { maxItems: 10 }),
  dueAt: Time,
  overdue: Type.Boolean(),
  remindedAt: Type.Optional(Time),
  escalatedAt: Type.Optional(Time),
  reopenCount: Type.Integer(),
  closedAt: Type.Optional(Time),
  createdAt: Time,
  updatedAt: Time,
});

const HistoryItem = Strict({
  seq: Type.String({ maxLength: 20 }),
  at: Time,
  actor: Type.String({ maxLength: 200 }),
  action: Type.String({ maxLength: 64 }),
  fromState: Type.Optional(Type.String({ maxLength: 40 })),
  toState: Type.Optional(Type.String({ maxLength: 40 })),
  detail: Json,
  text: Type.Optional(Type.String({ maxLength: 4000 })),
  textErased: Type.Optional(Type.Literal(true)),
  auditId: Type.Optional(Type.String({ maxLength: 36 })),
  auditHash: Type.Optional(Type.String({ maxLength: 64 })),
});

export const EvidenceDto = Strict({
  evidenceId: Uuid,
  filename: Type.Optional(Type.String({ maxLength: 200 })),
  filenameErased: Type.Optional(Type.Literal(true)),
  contentType: Type.String({ maxLength: 100 }),
  sizeBytes: Type.String({ maxLength: 20 }),
  sha256: Type.String({ maxLength: 64 }),
  addedBy: Type.String({ maxLength: 200 }),
  addedAt: Time,
});

export const CaseWithHistory = Strict({
  case: CaseDto,
  history: Type.Array(HistoryItem, { maxItems: 100_000 }),
  evidence: Type.Array(EvidenceDto, { maxItems: 10_000 }),
});

export const CasePage = Strict({ items: Type.Array(CaseDto, { maxItems: 100 }), nextCursor: Type.Optional(Type.String({ maxLength: 200 })) });

export const HoldsQuery = Strict({ playerId: Uuid, includeLifted: Type.Optional(Type.Boolean()) });
export const HoldDto = Strict({
  holdId: Uuid,
  playerId: Type.String({ maxLength: 64 }),
  kind: Type.Union([Type.Literal('sanctions'), Type.Literal('investigation'), Type.Literal('payout')]),
  caseId: Type.Optional(Uuid),
  reason: Type.String({ maxLength: 500 }),
  placedBy: Type.String({ maxLength: 200 }),
  placedAt: Time,
  liftedBy: Type.Optional(Type.String({ maxLength: 200 })),
  liftedAt: Type.Optional(Time),
});
export const HoldList = Strict({ items: Type.Array(HoldDto, { maxItems: 200 }) });
