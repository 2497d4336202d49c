/** Wire contracts of competitions: HTTP bodies and replies (events are in ../events.ts). */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_COMPETITIONS = 'Competitions';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Time = Type.String({ format: 'date-time', maxLength: 40 });
export const MinorString = (description: string) => Type.String({ pattern: '^[0-9]{1,15}$', maxLength: 15, description });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', minLength: 3, maxLength: 3, description: 'ISO 4217 code' });
const DrawKind = Type.Union([Type.Literal('random'), Type.Literal('spot-the-ball')], { description: '`random`: winners drawn from public randomness; `spot-the-ball`: judged' });
const StateSchema = Type.Union(['draft', 'scheduled', 'on_sale', 'closed', 'drawn', 'settled', 'cancelled'].map((s) => Type.Literal(s)));
const PublicState = Type.Union(['scheduled', 'on_sale', 'closed', 'drawn', 'settled', 'cancelled'].map((s) => Type.Literal(s)));

export const CompetitionParams = Strict({ competitionId: Uuid });
export const OverrideParams = Strict({ competitionId: Uuid, overrideId: Uuid });

export const ListCompetitionsQuery = Strict({
  state: Type.Optional(PublicState),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
});
export type ListCompetitionsQuery = Static<typeof ListCompetitionsQuery>;

const PrizeTier = Strict({
  tier: Type.Integer({ minimum: 1, maximum: 100 }),
  description: Type.String({ minLength: 1, maxLength: 500 }),
  winners: Type.Integer({ minimum: 1, maximum: 100_000 }),
  cashMinor: Type.Optional(MinorString('A cash prize per winner, in minor units')),
  cashAlternativeMinor: Type.Optional(MinorString('The cash a winner may take instead of the prize, in minor units')),
});

const FreeEntry = Strict({
  postalAddress: Type.String({ minLength: 5, maxLength: 500, description: 'Where to send a free entry' }),
  instructions: Type.String({ minLength: 10, maxLength: 2000, description: 'What to write on the entry, and that it is treated like a paid ticket' }),
});

export const CompetitionBody = Strict({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  drawKind: DrawKind,
  currency: Type.Optional(Currency),
  priceMinor: Type.Optional(MinorString('Price of one ticket, in minor units')),
  maxTickets: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Numbers in the pool: paid and free entries together' })),
  perPlayerCap: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Tickets one player (or one postal entrant) may hold' })),
  opensAt: Type.Optional(Time),
  closesAt: Type.Optional(Time),
  prizeTiers: Type.Optional(Type.Array(PrizeTier, { maxItems: 20 })),
  freeEntry: Type.Optional(FreeEntry),
}, { description: 'A draft: every field may be completed later; publishing lists what is missing.' });
export type CompetitionBody = Static<typeof CompetitionBody>;

export const ReadinessBody = Strict({
  kind: Type.Union([Type.Literal('owned'), Type.Literal('contracted')]),
  documentSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', minLength: 64, maxLength: 64, description: 'SHA-256 of a document in the object store' })),
  externalReference: Type.Optional(Type.String({ minLength: 3, maxLength: 200, description: 'A reference to a document held elsewhere' })),
  cashAlternativeReservedMinor: MinorString('Cash reserved for every cash prize and cash alternative'),
  notes: Type.Optional(Type.String({ maxLength: 1000 })),
}, { description: 'The prize-readiness attestation (until the assets module checks readiness itself).' });
export type ReadinessBody = Static<typeof ReadinessBody>;

export const CancelBody = Strict({ reason: Type.String({ minLength: 3, maxLength: 500 }) });
export const OverrideBody = Strict({ newClosesAt: Time, reason: Type.String({ minLength: 3, maxLength: 1000 }) });

export const CompetitionDto = Strict({
  competitionId: Uuid,
  state: StateSchema,
  title: Type.String({ maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  drawKind: DrawKind,
  currency: Currency,
  priceMinor: Type.Optional(Type.String({ maxLength: 20 })),
  maxTickets: Type.Optional(Type.Integer()),
  perPlayerCap: Type.Optional(Type.Integer()),
  opensAt: Type.Optional(Time),
  closesAt: Type.Optional(Time),
  prizeTiers: Type.Array(PrizeTier, { maxItems: 20 }),
  freeEntry: Type.Optional(FreeEntry),
  skillTest: Type.Optional(Strict({ kind: Type.Optional(Type.String({ maxLength: 40 })), summary: Type.Optional(Type.String({ maxLength: 2000 })) })),
  prizeReadiness: Type.Optional(Strict({
    kind: Type.String({ maxLength: 20 }), documentSha256: Type.Optional(Type.String({ maxLength: 64 })), externalReference: Type.Optional(Type.String({ maxLength: 200 })),
    cashAlternativeReservedMinor: Type.String({ maxLength: 20 }), attestedAt: Time,
  })),
  ticketsSold: Type.Optional(Type.Integer({ description: 'Paid and free entries holding a number (from a cache: may lag by seconds)' })),
  ticketsRemaining: Type.Optional(Type.Integer({ description: 'Numbers left (from a cache: may lag by seconds)' })),
  drawManifest: Type.Optional(Strict({ drawId: Type.String({ maxLength: 64 }), manifestHash: Type.String({ maxLength: 128 }), logIndex: Type.Integer() })),
  createdAt: Time,
  publishedAt: Type.Optional(Time),
  openedAt: Type.Optional(Time),
  closedAt: Type.Optional(Time),
  cancelledAt: Type.Optional(Time),
  cancelReason: Type.Optional(Type.String({ maxLength: 500 })),
});

export const CompetitionPage = Strict({
  items: Type.Array(CompetitionDto, { maxItems: 100 }),
  nextCursor: Type.Optional(Type.String({ maxLength: 64 })),
});

export const OverrideDto = Strict({
  overrideId: Uuid,
  competitionId: Uuid,
  state: Type.Union([Type.Literal('requested'), Type.Literal('approved'), Type.Literal('superseded')]),
  oldClosesAt: Time,
  newClosesAt: Time,
  reason: Type.String({ maxLength: 1000 }),
  requestedBy: Type.String({ maxLength: 200 }),
  requestedAt: Time,
  approvedBy: Type.Optional(Type.String({ maxLength: 200 })),
  approvedAt: Type.Optional(Time),
});
