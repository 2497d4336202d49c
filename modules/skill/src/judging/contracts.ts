/** Wire contracts of spot-the-ball judging. */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { Time, Uuid } from '../bank/contracts.ts';

export const TAG_JUDGING = 'Spot-the-ball judging';

const Pixel = Type.Integer({ minimum: 0, maximum: 9999 });
export const JudgementBody = Strict({ x: Pixel, y: Pixel });
export const JudgingParams = Strict({ competitionId: Uuid });
export const RankingQuery = Strict({
  afterRank: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_000_000_000, description: 'The last rank of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const Winner = Strict({ rank: Type.Integer(), ticketId: Uuid, ticketNumber: Type.Integer(), distanceSq: Type.Integer() });

export const JudgingDto = Strict({
  competitionId: Uuid,
  state: Type.Union(['not-spot-the-ball', 'awaiting-close', 'awaiting-judges', 'needs-third-judge', 'judged', 'cancelled'].map((s) => Type.Literal(s))),
  rules: Strict({ judgedPoint: Type.String(), tieBreak: Type.String(), tolerancePx: Type.Integer(), rankingHash: Type.String({ description: 'How rankingHash is computed' }) }),
  imageSha256: Type.Optional(Type.String()),
  image: Type.Optional(Strict({ imageId: Uuid, width: Type.Integer(), height: Type.Integer() })),
  roundsRecorded: Type.Integer(),
  judgements: Type.Optional(Type.Array(Strict({ round: Type.Integer(), judge: Type.Optional(Type.String()), x: Type.Integer(), y: Type.Integer(), recordedAt: Time }), { maxItems: 3, description: 'Shown once judging is complete' })),
  result: Type.Optional(Strict({
    judgedPoint: Strict({ x: Type.Integer(), y: Type.Integer() }),
    method: Type.Union([Type.Literal('midpoint'), Type.Literal('median-of-three')]),
    entries: Type.Integer({ description: 'Placements on valid tickets that were ranked' }),
    rankingHash: Type.String(),
    winners: Type.Array(Winner, { maxItems: 1000 }),
    auditId: Uuid,
    judgedAt: Time,
  })),
});

export const RankingPage = Strict({
  items: Type.Array(Strict({ rank: Type.Integer(), ticketId: Uuid, ticketNumber: Type.Integer(), x: Type.Integer(), y: Type.Integer(), distanceSq: Type.Integer(), placementSeq: Type.String() }), { maxItems: 1000 }),
  nextAfterRank: Type.Optional(Type.Integer()),
});
