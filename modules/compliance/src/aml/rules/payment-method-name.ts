/**
 * A payment method in someone else's name: the holder's name (reported by payments when the PSP
 * gives it) compared with the player's legal name by the sanctions name matcher when it was
 * recorded; the rule reads the stored score, so a back-test can try other cut-offs.
 */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import type { RuleDefinition } from './types.ts';

type Params = { minNameScorePercent: number };

export const paymentMethodName: RuleDefinition<Params> = {
  id: 'payment-method-name',
  logicVersion: 1,
  title: 'Payment method name not matching the player',
  description: 'The holder name of a new payment method scores under minNameScorePercent % against the player\'s legal name.',
  triggers: ['payment-method'],
  parameters: Strict({ minNameScorePercent: Type.Integer({ minimum: 1, maximum: 100 }) }),
  // Card and account names drop middle names and shorten given names to initials ("MRS A LOVELACE"
  // scores about 0.69 against "Ada Augusta Lovelace"), so the bar is the screening candidate cut-off,
  // not its hit threshold: another person's name scores near 0.
  defaults: { minNameScorePercent: 50 },
  // One alert per payment method, ever.
  suppressHours: () => 24 * 365 * 100,
  async evaluate(trigger, p) {
    if (trigger.nameScore === undefined || trigger.nameScore * 100 >= p.minNameScorePercent) return undefined;
    return {
      dedupeKey: `method:${trigger.methodKey}`,
      summary: `Payment method holder name scores ${trigger.nameScore} against the player's legal name (minimum ${p.minNameScorePercent / 100})`,
      facts: { nameScore: trigger.nameScore, minNameScore: p.minNameScorePercent / 100, paymentMethod: trigger.methodKey },
    };
  },
};
