/** Wire contracts of skill tests and images. */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { Time, Uuid } from '../bank/contracts.ts';

export const TAG_TESTS = 'Skill tests';

export const ConfigureBody = Type.Union([
  Strict({
    competitionId: Uuid,
    kind: Type.Literal('multiple-choice'),
    questionIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 200, description: 'Questions to draw from (their approved versions)' })),
    category: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$', maxLength: 40, description: 'Or: every approved question of this category' })),
    postalQuestionId: Type.Optional(Uuid),
  }),
  Strict({
    competitionId: Uuid,
    kind: Type.Literal('spot-the-ball'),
    imageId: Uuid,
    maxPlacementsPerToken: Type.Integer({ minimum: 1, maximum: 100, description: 'Balls one pass may place: one ticket each' }),
  }),
], { description: 'Multiple choice (questionIds or category, and an optional postal question) or spot-the-ball (an uploaded image)' });

export const TestParams = Strict({ testId: Uuid });
export const CompetitionParams = Strict({ competitionId: Uuid });
export const ImageParams = Strict({ imageId: Uuid });

export const ImageDto = Strict({
  imageId: Uuid,
  sha256: Type.String({ maxLength: 64 }),
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  width: Type.Integer(),
  height: Type.Integer(),
  uploadedBy: Type.Optional(Type.String()),
  uploadedAt: Type.Optional(Time),
});

const Readiness = Strict({ configured: Type.Boolean(), ready: Type.Boolean(), problems: Type.Array(Type.String(), { maxItems: 20 }), summary: Type.Optional(Type.String()) });

export const TestDto = Strict({
  testId: Uuid,
  competitionId: Uuid,
  kind: Type.Union([Type.Literal('multiple-choice'), Type.Literal('spot-the-ball')]),
  questionIds: Type.Optional(Type.Array(Uuid, { maxItems: 200 })),
  category: Type.Optional(Type.String()),
  postalQuestionVersionId: Type.Optional(Uuid),
  image: Type.Optional(ImageDto),
  maxPlacementsPerToken: Type.Optional(Type.Integer()),
  revision: Type.Integer(),
  configuredBy: Type.String(),
  configuredAt: Time,
  frozenAt: Type.Optional(Time),
  readiness: Readiness,
});

export const EntrantTestDto = Strict({
  competitionId: Uuid,
  kind: Type.Union([Type.Literal('multiple-choice'), Type.Literal('spot-the-ball')]),
  ready: Type.Boolean(),
  summary: Type.Optional(Type.String()),
  timeLimitSeconds: Type.Integer(),
  attemptsPerWindow: Type.Integer(),
  attemptWindowSeconds: Type.Integer(),
  image: Type.Optional(ImageDto),
  maxPlacementsPerToken: Type.Optional(Type.Integer()),
});
