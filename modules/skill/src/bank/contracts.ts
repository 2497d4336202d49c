/** Wire contracts of the question bank (operator API). */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_BANK = 'Skill question bank';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;
export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Time = Type.String({ format: 'date-time' });

export const QuestionDraftBody = Strict({
  text: Type.String({ minLength: 5, maxLength: 500 }),
  options: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 3, maxItems: 6, description: 'Shown in this order, labelled A to F' }),
  correctOption: Type.Integer({ minimum: 0, maximum: 5, description: 'Index of the correct option (0 = A)' }),
  category: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$', maxLength: 40 }),
  difficulty: Type.Union([Type.Literal('easy'), Type.Literal('medium'), Type.Literal('hard')]),
});

export const QuestionParams = Strict({ questionId: Uuid });
export const VersionParams = Strict({ questionId: Uuid, versionId: Uuid });

export const DecisionBody = Strict({
  decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500, description: 'Required to reject' })),
});

export const RetireBody = Strict({ reason: Type.String({ minLength: 3, maxLength: 500 }) });

export const ListQuestionsQuery = Strict({
  category: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$', maxLength: 40 })),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pending'), Type.Literal('retired')])),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
});

const Option = Strict({ id: Type.String({ maxLength: 1 }), text: Type.String({ maxLength: 200 }) });

export const StatsDto = Strict({
  answers: Type.Integer(),
  passes: Type.Integer(),
  passRateBp: Type.Integer({ description: 'Passes per 10 000 answers' }),
  firstTryAnswers: Type.Integer({ description: 'Answers that were the entrant\'s first attempt on the competition' }),
  firstTryPasses: Type.Integer(),
  firstTryPassRateBp: Type.Integer(),
});

export const VersionDto = Strict({
  versionId: Uuid,
  version: Type.Integer(),
  state: Type.Union(['pending', 'approved', 'rejected', 'superseded', 'suspended'].map((s) => Type.Literal(s))),
  text: Type.String(),
  options: Type.Array(Option, { maxItems: 6 }),
  correctOptionId: Type.String({ maxLength: 1 }),
  category: Type.String(),
  difficulty: Type.String(),
  authoredBy: Type.String(),
  authoredAt: Time,
  decidedBy: Type.Optional(Type.String()),
  decidedAt: Type.Optional(Time),
  decisionReason: Type.Optional(Type.String()),
  suspendedAt: Type.Optional(Time),
  alertedAt: Type.Optional(Time),
  stats: StatsDto,
});

export const QuestionDto = Strict({
  questionId: Uuid,
  status: Type.Union([Type.Literal('active'), Type.Literal('awaiting-approval'), Type.Literal('suspended'), Type.Literal('retired')]),
  activeVersionId: Type.Optional(Uuid),
  createdBy: Type.String(),
  createdAt: Time,
  retiredAt: Type.Optional(Time),
  retiredBy: Type.Optional(Type.String()),
  retireReason: Type.Optional(Type.String()),
  versions: Type.Array(VersionDto, { maxItems: 200 }),
});

export const QuestionPage = Strict({ items: Type.Array(QuestionDto, { maxItems: 100 }), nextCursor: Type.Optional(Type.String()) });

export const AlertDto = Strict({
  alertId: Uuid,
  questionId: Uuid,
  questionVersionId: Uuid,
  answers: Type.Integer(),
  passes: Type.Integer(),
  passRateBp: Type.Integer(),
  maxPassRateBp: Type.Integer(),
  minAnswers: Type.Integer(),
  suspended: Type.Boolean(),
  raisedAt: Time,
});
export const AlertsQuery = Strict({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
});
export const AlertPage = Strict({ items: Type.Array(AlertDto, { maxItems: 100 }), nextCursor: Type.Optional(Type.String()) });
