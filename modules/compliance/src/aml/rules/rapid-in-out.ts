/**
 * Rapid in and out: money deposited, hardly played, and asked back within a day: the wallet used to
 * pass funds through rather than to play.
 */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { hoursBefore, minor, type RuleDefinition } from './types.ts';

type Params = { windowHours: number; minDepositEurMinor: number; maxPlayPercent: number; minWithdrawPercent: number };

export const rapidInOut: RuleDefinition<Params> = {
  id: 'rapid-in-out',
  logicVersion: 1,
  title: 'Rapid in and out',
  description: 'A withdrawal of at least minWithdrawPercent % of what was deposited within the window, with play (purchases not voided) of at most maxPlayPercent % of it.',
  triggers: ['withdrawal'],
  parameters: Strict({
    windowHours: Type.Integer({ minimum: 1, maximum: 168 }),
    minDepositEurMinor: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'EUR cents: smaller deposits are not looked at' }),
    maxPlayPercent: Type.Integer({ minimum: 0, maximum: 100 }),
    minWithdrawPercent: Type.Integer({ minimum: 1, maximum: 100 }),
  }),
  defaults: { windowHours: 24, minDepositEurMinor: 10_000, maxPlayPercent: 10, minWithdrawPercent: 50 },
  suppressHours: (p) => p.windowHours,
  async evaluate(trigger, p, q) {
    if (trigger.eurMinor == null) return undefined;
    const from = hoursBefore(trigger.occurredAt, p.windowHours);
    const deposited = (await q.depositTotals(trigger.playerId, from, trigger.occurredAt)).eurMinor;
    if (deposited === 0n || deposited < BigInt(p.minDepositEurMinor)) return undefined;
    const played = await q.playTotal(trigger.playerId, from, trigger.occurredAt);
    if (played * 100n > deposited * BigInt(p.maxPlayPercent)) return undefined;
    if (trigger.eurMinor * 100n < deposited * BigInt(p.minWithdrawPercent)) return undefined;
    return {
      dedupeKey: `player:${trigger.playerId}`,
      summary: `Withdrawal of EUR ${Number(trigger.eurMinor) / 100} within ${p.windowHours} h of depositing EUR ${Number(deposited) / 100}, with EUR ${Number(played) / 100} played`,
      facts: { depositedEurMinor: minor(deposited), playedEurMinor: minor(played), withdrawalEurMinor: minor(trigger.eurMinor), windowHours: p.windowHours, withdrawal: trigger.ref },
    };
  },
};
