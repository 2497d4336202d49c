/** Wire contracts of deposits and deposit limits: what the API accepts and answers. */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_WALLET = 'Wallet';

export const AmountMinor = Type.String({ pattern: '^[0-9]{1,15}$', maxLength: 15, description: 'Minor units (pence) as a decimal string' });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', maxLength: 3, description: 'ISO 4217 currency code' });
/** Deposits are in pounds: limits are per currency, so a second currency needs FX-aware limits first. */
export const DEPOSIT_CURRENCIES: readonly string[] = ['GBP'];
export const DEFAULT_CURRENCY = 'GBP';

export const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.Optional(Type.String()), instance: Type.Optional(Type.String()), code: Type.String() },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const CreateDepositBody = Strict({
  amountMinor: AmountMinor,
  currency: Type.Optional(Currency),
  paymentMethod: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_]{1,100}$',
    maxLength: 100,
    description: 'A PSP payment-method token (Stripe `pm_…`), or a sandbox test card number (GET /sandbox/cards on the sandbox PSP). Default: the PSP\'s default test debit card.',
  })),
  cardholderName: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 100,
    pattern: '^[^\\u0000-\\u001F\\u007F]+$',
    description: 'The name on the card, passed to the PSP with the payment (the sandbox PSP\'s `billing_details.name`). With Stripe the PaymentMethod already carries it. Not stored by Verity; compliance checks it against your legal name.',
  })),
});

export const DepositStatus = Type.Union(
  [
    Type.Literal('pending'), Type.Literal('unknown'), Type.Literal('requires_action'), Type.Literal('processing'),
    Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('refused_credit_card'),
  ],
  { description: '`unknown`: the PSP did not answer in time; a status query or webhook settles it. `refused_credit_card`: credit cards cannot fund gambling (UK LCCP 6.1.2); the payment is refunded.' },
);

export const Deposit = Type.Object({
  depositId: Type.String({ format: 'uuid' }),
  status: DepositStatus,
  amountMinor: AmountMinor,
  currency: Currency,
  provider: Type.String(),
  actionUrl: Type.Optional(Type.String({ description: 'Open this page to complete 3-D Secure (status requires_action).' })),
  fundingType: Type.Optional(Type.String()),
  failureReason: Type.Optional(Type.String()),
  refundStatus: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const DepositParams = Strict({ depositId: Type.String({ format: 'uuid', maxLength: 36 }) });

export const NullableAmount = Type.Union([AmountMinor, Type.Null()]);

export const SetDepositLimitsBody = Strict(
  {
    currency: Type.Optional(Currency),
    daily: Type.Optional(NullableAmount),
    weekly: Type.Optional(NullableAmount),
    monthly: Type.Optional(NullableAmount),
  },
  { minProperties: 1, description: 'Each period given is set (a string) or removed (null); periods left out stay as they are. Lower limits apply at once, higher ones and removals after 24 hours.' },
);

export const DepositLimitsQuery = Strict({ currency: Type.Optional(Currency) });

const LimitView = Type.Object({
  windowHours: Type.Integer({ description: 'Rolling window the limit applies to, ending now.' }),
  amountMinor: Type.Union([AmountMinor, Type.Null()], { description: 'The limit in force; null: none.' }),
  usedMinor: AmountMinor,
  remainingMinor: Type.Union([AmountMinor, Type.Null()]),
  pending: Type.Union([
    Type.Object({ amountMinor: Type.Union([AmountMinor, Type.Null()]), effectiveAt: Type.String({ format: 'date-time' }) }),
    Type.Null(),
  ], { description: 'A higher limit (or removal) waiting for its 24-hour cooling-off.' }),
});

export const DepositLimits = Type.Object({
  currency: Currency,
  daily: LimitView,
  weekly: LimitView,
  monthly: LimitView,
});
