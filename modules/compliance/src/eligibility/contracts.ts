/** Wire contracts of eligibility and safer gambling (events: ADR 0010). */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_ELIGIBILITY = 'Eligibility';
export const TAG_SAFER = 'Safer gambling';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const Currency = Type.String({ pattern: '^[A-Z]{3}$', minLength: 3, maxLength: 3, description: 'ISO 4217 (default GBP)' });
const AmountMinor = Type.String({ pattern: '^[0-9]{1,15}$', maxLength: 15, description: 'Minor units as a decimal string' });
const Time = Type.String({ format: 'date-time' });

const Reason = Type.Union(
  ['not-verified', 'under-age', 'self-excluded', 'time-out', 'limit-reached', 'sanctions-hold', 'open-investigation', 'account-closed'].map((r) => Type.Literal(r)),
);

export const EligibilityQuery = Strict({
  playerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]{1,64}$', description: 'Operators: the player to check. Players: omit (or your own id)' })),
  amountMinor: Type.Optional(AmountMinor),
  currency: Type.Optional(Currency),
});
export type EligibilityQuery = Static<typeof EligibilityQuery>;

const Decision = Strict({
  allowed: Type.Boolean(),
  reasons: Type.Array(Reason, { maxItems: 10, description: 'Stable reason codes when refused' }),
  remainingMinor: Type.Optional(Type.String({ maxLength: 20, description: 'Purchase: what is left in the tightest spend-limit window' })),
});

export const EligibilityReply = Strict({
  playerId: Type.String({ maxLength: 64 }),
  checkedAt: Time,
  deposit: Decision,
  purchase: Decision,
  withdraw: Decision,
});

export const SelfExclusionBody = Strict({
  months: Type.Integer({ minimum: 6, maximum: 60, description: '6 months to 5 years. Takes effect at once and cannot be ended early; a later request can only extend it.' }),
});
export const SelfExclusionReply = Strict({
  exclusionId: Type.String({ maxLength: 36 }),
  startsAt: Time,
  endsAt: Time,
  extended: Type.Boolean(),
});

export const TimeOutBody = Strict({ hours: Type.Integer({ minimum: 24, maximum: 1008, description: '24 hours to 6 weeks; cannot be ended early' }) });
export const TimeOutReply = Strict({ timeOutId: Type.String({ maxLength: 36 }), startsAt: Time, endsAt: Time, extended: Type.Boolean() });

export const SaferGamblingReply = Strict({
  selfExclusion: Type.Optional(Strict({ startsAt: Time, endsAt: Time })),
  nationalRegister: Type.Optional(Type.Union([Type.Literal('excluded'), Type.Literal('not-excluded'), Type.Literal('previously-excluded')])),
  timeOut: Type.Optional(Strict({ startsAt: Time, endsAt: Time })),
  marketingSuppressed: Type.Boolean(),
});

const NullableAmount = Type.Union([AmountMinor, Type.Null()]);
export const SetSpendLimitsBody = Strict(
  { currency: Type.Optional(Currency), daily: Type.Optional(NullableAmount), weekly: Type.Optional(NullableAmount), monthly: Type.Optional(NullableAmount) },
  { minProperties: 1, description: 'Each period given is set (a string, 0 allowed) or removed (null). Lower limits apply at once; higher ones and removals after 24 hours. The lowest remaining limit wins.' },
);
export const SpendLimitsQuery = Strict({ currency: Type.Optional(Currency) });

const LimitView = Strict({
  windowHours: Type.Integer({ description: 'Rolling window ending now' }),
  amountMinor: Type.Union([AmountMinor, Type.Null()], { description: 'The limit in force; null: none' }),
  usedMinor: Type.String({ maxLength: 20 }),
  remainingMinor: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
  pending: Type.Optional(Strict({ amountMinor: Type.Union([AmountMinor, Type.Null()]), effectiveAt: Time })),
});
export const SpendLimitsReply = Strict({ currency: Currency, daily: LimitView, weekly: LimitView, monthly: LimitView });
