/** Wire contracts of purchases and tickets. */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';
import { QUANTITY_MAX } from '../domain/purchase.ts';
import { Time, Uuid } from '../competitions/contracts.ts';

export const TAG_TICKETS = 'Tickets';

export const PurchaseBody = Strict({
  quantity: Type.Integer({ minimum: 1, maximum: QUANTITY_MAX }),
  numbers: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 10_000_000 }), { minItems: 1, maxItems: QUANTITY_MAX, description: 'Chosen numbers (as many as quantity); absent: lucky dip' })),
  skillToken: Type.String({ minLength: 1, maxLength: 4096, description: 'The pass token answerSkillTest gave (one purchase per pass)' }),
});
export type PurchaseBody = Static<typeof PurchaseBody>;

export const TicketDto = Strict({
  ticketId: Uuid,
  competitionId: Uuid,
  number: Type.Integer(),
  kind: Type.Union([Type.Literal('paid'), Type.Literal('postal')]),
  holderSalt: Type.String({ maxLength: 64, description: 'Your salt of the holder commitment: holder = SHA-256("verity/holder/v1" ‖ 0x00 ‖ salt ‖ your player id)' }),
  holder: Type.String({ maxLength: 64, description: 'The holder commitment the draw evidence shows for this entry' }),
  state: Type.Union([Type.Literal('valid'), Type.Literal('voided')]),
  purchaseId: Type.Optional(Uuid),
  issuedAt: Time,
  voidedAt: Type.Optional(Time),
  voidReason: Type.Optional(Type.String({ maxLength: 100 })),
});

export const PurchaseDto = Strict({
  purchaseId: Uuid,
  competitionId: Uuid,
  state: Type.Union(['issued', 'posted', 'voided', 'refunded'].map((s) => Type.Literal(s)), { description: '`issued`: tickets yours, payment completing; `posted`: paid' }),
  quantity: Type.Integer(),
  amountMinor: Type.String({ maxLength: 20 }),
  currency: Type.String({ maxLength: 3 }),
  tickets: Type.Array(TicketDto, { maxItems: QUANTITY_MAX }),
  createdAt: Time,
});

export const MyTicketsQuery = Strict({
  competitionId: Type.Optional(Uuid),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});
export type MyTicketsQuery = Static<typeof MyTicketsQuery>;

export const TicketPage = Strict({
  items: Type.Array(TicketDto, { maxItems: 200 }),
  nextCursor: Type.Optional(Type.String({ maxLength: 64 })),
});
