/** Wire shapes of the withdrawal API (TypeBox): money as decimal strings, never floats. */
import { Strict } from '@verity/kernel';
import { Type } from 'typebox';
import { WITHDRAWAL_STATUSES } from './repository.ts';

export const TAG_WITHDRAWALS = 'Withdrawals';

export const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.Optional(Type.String()), instance: Type.Optional(Type.String()), code: Type.String() },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const AmountInput = Type.String({ pattern: '^[0-9]{1,15}$', maxLength: 15, description: 'Amount in minor units (pence) as a decimal string' });
export const CurrencyInput = Type.String({ pattern: '^[A-Z]{3}$', minLength: 3, maxLength: 3, default: 'GBP', description: 'ISO 4217 currency code' });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Status = Type.Enum(WITHDRAWAL_STATUSES);
const Cursor = Type.String({ minLength: 1, maxLength: 512 });

export const RequestWithdrawalBody = Strict({ amountMinor: AmountInput, currency: Type.Optional(CurrencyInput) });
export const OperatorPayoutBody = Strict({
  amountMinor: AmountInput,
  currency: Type.Optional(CurrencyInput),
  reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why finance pays this out (account closure, goodwill…); audited' }),
});
export const DecisionBody = Strict({ note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) });
export const RejectBody = Strict({ note: Type.String({ minLength: 3, maxLength: 500, description: 'Why it is refused (audited; the player is told the withdrawal was rejected)' }) });

export const WithdrawalParams = Strict({ withdrawalId: Uuid });
export const PlayerParams = Strict({ playerId: Uuid });
export const MyListQuery = Strict({ cursor: Type.Optional(Cursor), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) });
export const ListQuery = Strict({
  status: Type.Optional(Status),
  playerId: Type.Optional(Uuid),
  cursor: Type.Optional(Cursor),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

const common = {
  withdrawalId: Uuid,
  playerId: Uuid,
  amountMinor: Type.String({ pattern: '^[0-9]{1,19}$' }),
  currency: Type.String(),
  status: Status,
  approvalsRequired: Type.Integer({ minimum: 0, maximum: 2 }),
  approvals: Type.Integer({ minimum: 0 }),
  requestedBy: Type.Union([Type.Literal('player'), Type.Literal('operator')]),
  failureReason: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  paidAt: Type.Optional(Type.String({ format: 'date-time' })),
};

export const PlayerWithdrawal = Strict(common, { description: 'A withdrawal as its player sees it' });

export const OperatorWithdrawal = Strict({
  ...common,
  requesterId: Type.String(),
  reason: Type.Optional(Type.String()),
  provider: Type.String(),
  pspPayoutId: Type.Optional(Type.String()),
  attempts: Type.Integer({ minimum: 0 }),
  decisions: Type.Array(Strict({
    operatorId: Type.String(),
    decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
    note: Type.Optional(Type.String()),
    decidedAt: Type.String({ format: 'date-time' }),
  }), { maxItems: 10 }),
}, { description: 'A withdrawal as finance sees it' });

export const PlayerWithdrawalList = Strict({ items: Type.Array(PlayerWithdrawal, { maxItems: 200 }), nextCursor: Type.Optional(Type.String()) });
export const OperatorWithdrawalList = Strict({ items: Type.Array(OperatorWithdrawal, { maxItems: 200 }), nextCursor: Type.Optional(Type.String()) });
