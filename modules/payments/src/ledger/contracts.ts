/**
 * Wire contracts of the ledger part: its events (ids and amounts only, no personal data) and the
 * operator route listing ledger accounts.
 */
import { Type, type Static } from 'typebox';
import { Strict } from '@verity/kernel';

export const LedgerEvents = {
  fundsReserved: 'payments.funds-reserved.v1',
  transferPosted: 'payments.transfer-posted.v1',
  transferVoided: 'payments.transfer-voided.v1',
  reservationExpired: 'payments.reservation-expired.v1',
  prizeCredited: 'payments.prize-credited.v1',
  refunded: 'payments.refunded.v1',
} as const;

/** Amounts are decimal strings in events, as on the HTTP API. */
export interface FundsReservedV1 { transferId: string; playerId: string; competitionId: string; amountMinor: string; currency: string; expiresAt: string }
export interface TransferPostedV1 { transferId: string; pendingTransferId: string; amountMinor: string; currency: string }
export interface TransferVoidedV1 { transferId: string; pendingTransferId: string; amountMinor: string; currency: string }
export interface ReservationExpiredV1 { pendingTransferId: string; amountMinor: string; currency: string; expiresAt: string }
export interface PrizeCreditedV1 { transferId: string; playerId: string; competitionId: string; drawId?: string; amountMinor: string; currency: string }
export interface RefundedV1 { transferId: string; originalTransferId: string; amountMinor: string; currency: string }

export const TAG_LEDGER = 'Ledger';

const AccountType = Type.Union([
  Type.Literal('player_wallet'), Type.Literal('house_sales'), Type.Literal('prize_liability'), Type.Literal('psp_clearing'),
  Type.Literal('payout_clearing'), Type.Literal('refunds'), Type.Literal('fees'), Type.Literal('house_cash'),
]);
const Minor = (description: string) => Type.String({ pattern: '^-?[0-9]{1,19}$', maxLength: 20, description });

export const ListLedgerAccountsQuery = Strict({
  type: Type.Optional(AccountType),
  ownerId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]+$', minLength: 1, maxLength: 128, description: 'A player or competition id, a PSP name, or `house`' })),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', minLength: 3, maxLength: 3 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});
export type ListLedgerAccountsQuery = Static<typeof ListLedgerAccountsQuery>;

export const LedgerAccountDto = Strict({
  type: AccountType,
  ownerId: Type.String({ maxLength: 128 }),
  currency: Type.String({ maxLength: 3 }),
  shards: Type.Integer({ description: 'Rows the account is spread over (hot house accounts are sharded)' }),
  postedDebitsMinor: Minor('Sum of posted debits'),
  postedCreditsMinor: Minor('Sum of posted credits'),
  pendingDebitsMinor: Minor('Held by pending reservations on the debit side'),
  pendingCreditsMinor: Minor('Pending reservations on the credit side'),
  balanceMinor: Minor('Posted credits − posted debits'),
  availableMinor: Minor('Balance − pending debits'),
  createdAt: Type.String({ format: 'date-time' }),
});

export const LedgerAccountPage = Strict({
  items: Type.Array(LedgerAccountDto, { maxItems: 200 }),
  nextCursor: Type.Optional(Type.String({ maxLength: 512 })),
});
export type LedgerAccountPage = Static<typeof LedgerAccountPage>;
