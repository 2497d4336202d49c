/** Wire contracts of free postal entries and the entry report. */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { Time, Uuid } from '../competitions/contracts.ts';

export const TAG_POSTAL = 'Free postal entries';

export const PostalBody = Strict({
  envelopeRef: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:/-]+$', description: 'The reference written on the envelope when opened: one entry per envelope' }),
  name: Type.String({ minLength: 1, maxLength: 200, description: 'As written on the entry (stored encrypted)' }),
  address: Type.String({ minLength: 1, maxLength: 500, description: 'As written on the entry (stored encrypted)' }),
  answer: Type.String({ minLength: 1, maxLength: 200, description: 'The answer to the published postal question, as written' }),
  receivedAt: Type.String({ format: 'date-time', maxLength: 40, description: 'When the envelope was received: after the closing time it is late' }),
});

export const PostalEntryDto = Strict({
  postalEntryId: Uuid,
  competitionId: Uuid,
  envelopeRef: Type.String({ maxLength: 100 }),
  status: Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('voided')]),
  reason: Type.Optional(Type.String({ maxLength: 40, description: 'late, early, wrong-answer, duplicate-person, sold-out, competition-cancelled' })),
  duplicateOf: Type.Optional(Uuid),
  ticketId: Type.Optional(Uuid),
  number: Type.Optional(Type.Integer()),
  receivedAt: Time,
  recordedAt: Time,
});

const Holds = (description: string) => Type.Boolean({ description });

export const EntryReportDto = Strict({
  competitionId: Uuid,
  state: Type.String({ maxLength: 20 }),
  opensAt: Time,
  closesAt: Time,
  maxTickets: Type.Integer(),
  paid: Strict({ purchases: Type.Integer(), tickets: Type.Integer() }),
  free: Strict({ entries: Type.Integer() }),
  voided: Strict({ paidTickets: Type.Integer(), postalEntries: Type.Integer() }),
  invalid: Type.Record(Type.String({ maxLength: 40 }), Type.Integer(), { description: 'Invalid postal entries by reason' }),
  equalTreatment: Strict({
    sameCutoff: Holds('No paid ticket issued at or after the closing time, no valid postal entry received after it, none before the opening'),
    sameWeight: Holds('Every valid entry, paid or free, holds exactly one number'),
    samePool: Holds('Paid and free entries hold distinct numbers of the one pool'),
    statement: Type.String({ maxLength: 1000 }),
    lastPaidTicketAt: Type.Optional(Time),
    lastValidPostalReceivedAt: Type.Optional(Time),
  }),
});
