/** Wire contracts of the entrant's attempts. */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { Time, Uuid } from '../bank/contracts.ts';
import { ImageDto } from '../skill-tests/contracts.ts';

export const TAG_ATTEMPTS = 'Skill test attempts';

export const StartParams = Strict({ competitionId: Uuid });
export const AttemptParams = Strict({ attemptId: Uuid });

const Pixel = Type.Integer({ minimum: 0, maximum: 9999 });

export const AnswerBody = Type.Union([
  Strict({ optionId: Type.String({ maxLength: 1, pattern: '^[a-f]$', description: 'The chosen option (multiple choice)' }) }),
  Strict({ placements: Type.Array(Strict({ x: Pixel, y: Pixel }), { minItems: 1, maxItems: 100, description: 'Spot-the-ball: whole-pixel points on the image, one per ticket' }) }),
]);

export const AttemptDto = Strict({
  attemptId: Uuid,
  competitionId: Uuid,
  kind: Type.Union([Type.Literal('multiple-choice'), Type.Literal('spot-the-ball')]),
  question: Type.Optional(Strict({
    text: Type.String(),
    options: Type.Array(Strict({ id: Type.String({ maxLength: 1 }), text: Type.String() }), { maxItems: 6 }),
  }, { description: 'The question and its options; which option is correct never leaves the server' })),
  image: Type.Optional(ImageDto),
  maxPlacements: Type.Optional(Type.Integer()),
  startedAt: Time,
  expiresAt: Time,
  attemptsLeft: Type.Integer({ description: 'Unsuccessful attempts still allowed in the window if this one does not pass' }),
});

export const AnswerDto = Strict({
  attemptId: Uuid,
  outcome: Type.Union([Type.Literal('passed'), Type.Literal('failed')]),
  token: Type.Optional(Type.String({ description: 'Pass token: give it to the purchase (single use, bound to you and this competition)' })),
  tokenId: Type.Optional(Uuid),
  tokenExpiresAt: Type.Optional(Time),
  placements: Type.Optional(Type.Integer({ description: 'Spot-the-ball: tickets this token covers' })),
  attemptsLeft: Type.Optional(Type.Integer()),
});
