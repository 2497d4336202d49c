/**
 * Customer due diligence threshold: EUR 2,000 or more deposited in one transaction or in several
 * linked ones within 24 hours (the linked-transactions test of EU AMLD / the UK MLRs for casinos).
 */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { hoursBefore, minor, type RuleDefinition } from './types.ts';

type Params = { thresholdEurMinor: number; windowHours: number; realertAfterDays: number };

export const cddThreshold: RuleDefinition<Params> = {
  id: 'cdd-threshold',
  logicVersion: 1,
  title: 'Customer due diligence threshold',
  description: 'Deposits (one, or several linked) reaching the threshold in EUR within the window: customer due diligence is required.',
  triggers: ['deposit'],
  parameters: Strict({
    thresholdEurMinor: Type.Integer({ minimum: 100, maximum: 100_000_000, description: 'EUR cents (200000 = EUR 2,000)' }),
    windowHours: Type.Integer({ minimum: 1, maximum: 720 }),
    realertAfterDays: Type.Integer({ minimum: 1, maximum: 365, description: 'No new alert for the same player within this many days' }),
  }),
  defaults: { thresholdEurMinor: 200_000, windowHours: 24, realertAfterDays: 30 },
  suppressHours: (p) => p.realertAfterDays * 24,
  async evaluate(trigger, p, q) {
    const totals = await q.depositTotals(trigger.playerId, hoursBefore(trigger.occurredAt, p.windowHours), trigger.occurredAt);
    if (totals.eurMinor < BigInt(p.thresholdEurMinor)) return undefined;
    return {
      dedupeKey: `player:${trigger.playerId}`,
      summary: `Deposits of EUR ${Number(totals.eurMinor) / 100} in ${totals.count} transaction(s) within ${p.windowHours} h reach the CDD threshold of EUR ${p.thresholdEurMinor / 100}`,
      facts: { depositCount: totals.count, totalEurMinor: minor(totals.eurMinor), thresholdEurMinor: String(p.thresholdEurMinor), windowHours: p.windowHours, unconvertedDeposits: totals.unconverted },
    };
  },
};
