/**
 * Prizes of the winners: which tier pays cash (credited to the wallet) and which is handed to
 * fulfilment, and the deterministic ids that make paying a prize idempotent. Pure.
 */
import { createHash } from 'node:crypto';

export interface PrizeTierTerms {
  tier: number;
  description: string;
  winners: number;
  cashMinor?: string;
  currency?: string;
}

export type PrizeKind = 'cash' | 'fulfilment';

export interface Prize {
  kind: PrizeKind;
  cashMinor?: bigint;
  currency?: string;
}

/** A tier with a positive cash amount and a currency is paid into the wallet; anything else is goods. */
export function prizeOf(tier: PrizeTierTerms): Prize {
  if (tier.cashMinor !== undefined && tier.currency && /^[0-9]{1,19}$/.test(tier.cashMinor) && BigInt(tier.cashMinor) > 0n) {
    return { kind: 'cash', cashMinor: BigInt(tier.cashMinor), currency: tier.currency };
  }
  return { kind: 'fulfilment' };
}

/**
 * The ledger transfer id of a winner's prize: a UUID (version 8, RFC 9562 "custom") derived from the
 * draw and the draw position, so every retry, redelivery or replay names the same transfer and the
 * ledger credits it once.
 */
export function prizeTransferId(drawId: string, position: number): string {
  const h = createHash('sha256').update(`verity/draws/prize/v1\u0000${drawId}\u0000${position}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Winners a manifest asks for, tier by tier (the protocol draws min(this, entries)). */
export const winnerCount = (tiers: readonly PrizeTierTerms[]): number => tiers.reduce((n, t) => n + t.winners, 0);
