/**
 * Test cards of the sandbox PSP, as real sandboxes publish them: the number decides the funding type
 * the PSP reports and how the payment goes. Any other number is refused as an invalid request.
 */
import type { FundingType } from '../../contract.ts';

export interface TestCard {
  funding: FundingType;
  /** `challenge`: 3-D Secure-like step the player completes; `frictionless`: succeeds at once; `decline`: fails at once. */
  flow: 'challenge' | 'frictionless' | 'decline';
  description: string;
}

export const TEST_CARDS: Readonly<Record<string, TestCard>> = {
  '4000000000000002': { funding: 'debit', flow: 'challenge', description: 'Debit card, 3-D Secure challenge' },
  '4000000000000010': { funding: 'credit', flow: 'challenge', description: 'Credit card, 3-D Secure challenge' },
  '4000000000000028': { funding: 'prepaid', flow: 'challenge', description: 'Prepaid card, 3-D Secure challenge' },
  '4000000000000036': { funding: 'debit', flow: 'frictionless', description: 'Debit card, no challenge' },
  '4000000000000044': { funding: 'debit', flow: 'decline', description: 'Debit card, declined by the issuer' },
  '4000000000000051': { funding: 'credit', flow: 'frictionless', description: 'Credit card, no challenge' },
  '4000000000000069': { funding: 'unknown', flow: 'frictionless', description: 'Card whose funding type the issuer does not report' },
};

/** What a payment without a payment method uses. */
export const DEFAULT_TEST_CARD = '4000000000000002';
