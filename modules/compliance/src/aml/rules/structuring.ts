/**
 * Structuring: several deposits each just under a threshold within a window, the pattern of
 * someone keeping every transaction below the amount that would draw attention.
 */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { hoursBefore, minor, type RuleDefinition } from './types.ts';

type Params = { thresholdEurMinor: number; marginPercent: number; minDeposits: number; windowHours: number };

export const structuring: RuleDefinition<Params> = {
  id: 'structuring',
  logicVersion: 1,
  title: 'Structuring below a threshold',
  description: 'At least minDeposits deposits, each between (100 − marginPercent) % of the threshold and the threshold, within the window.',
  triggers: ['deposit'],
  parameters: Strict({
    thresholdEurMinor: Type.Integer({ minimum: 100, maximum: 100_000_000, description: 'EUR cents' }),
    marginPercent: Type.Integer({ minimum: 1, maximum: 50, description: 'How far under the threshold still counts as "just under"' }),
    minDeposits: Type.Integer({ minimum: 2, maximum: 100 }),
    windowHours: Type.Integer({ minimum: 1, maximum: 720 }),
  }),
  defaults: { thresholdEurMinor: 200_000, marginPercent: 10, minDeposits: 3, windowHours: 72 },
  suppressHours: (p) => p.windowHours,
  async evaluate(trigger, p, q) {
    const threshold = BigInt(p.thresholdEurMinor);
    const floor = (threshold * BigInt(100 - p.marginPercent)) / 100n;
    if (trigger.eurMinor == null || trigger.eurMinor < floor || trigger.eurMinor >= threshold) return undefined;
    const amounts = await q.depositAmounts(trigger.playerId, hoursBefore(trigger.occurredAt, p.windowHours), trigger.occurredAt);
    const justUnder = amounts.filter((a) => a >= floor && a < threshold);
    if (justUnder.length < p.minDeposits) return undefined;
    return {
      dedupeKey: `player:${trigger.playerId}`,
      summary: `${justUnder.length} deposits between EUR ${Number(floor) / 100} and EUR ${p.thresholdEurMinor / 100} within ${p.windowHours} h`,
      facts: { depositsJustUnder: justUnder.length, totalEurMinor: minor(justUnder.reduce((s, a) => s + a, 0n)), floorEurMinor: minor(floor), thresholdEurMinor: String(p.thresholdEurMinor), windowHours: p.windowHours },
    };
  },
};
