/**
 * Deposit velocity jump: what a player deposited in the recent window is many times (×10 by
 * default) their usual amount for a window of that length, measured over the days before it.
 */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { HOUR_MS, hoursBefore, minor, type RuleDefinition } from './types.ts';

type Params = { recentHours: number; baselineDays: number; minBaselineDays: number; multiplier: number; minRecentEurMinor: number };

export const depositVelocity: RuleDefinition<Params> = {
  id: 'deposit-velocity',
  logicVersion: 1,
  title: 'Deposit velocity jump',
  description: 'Deposits in the recent window ≥ multiplier × the player\'s average for a window of that length over the baseline days before it (needs minBaselineDays of history).',
  triggers: ['deposit'],
  parameters: Strict({
    recentHours: Type.Integer({ minimum: 1, maximum: 168 }),
    baselineDays: Type.Integer({ minimum: 2, maximum: 365 }),
    minBaselineDays: Type.Integer({ minimum: 1, maximum: 365, description: 'A player with less history than this has no baseline yet' }),
    multiplier: Type.Integer({ minimum: 2, maximum: 1000 }),
    minRecentEurMinor: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'EUR cents: small jumps are not alerts' }),
  }),
  defaults: { recentHours: 24, baselineDays: 30, minBaselineDays: 7, multiplier: 10, minRecentEurMinor: 50_000 },
  suppressHours: (p) => p.recentHours,
  async evaluate(trigger, p, q) {
    const windowStart = hoursBefore(trigger.occurredAt, p.recentHours);
    const recent = (await q.depositTotals(trigger.playerId, windowStart, trigger.occurredAt)).eurMinor;
    if (recent < BigInt(p.minRecentEurMinor)) return undefined;
    const first = await q.firstDepositAt(trigger.playerId, windowStart);
    if (!first) return undefined;
    const historyDays = Math.min(p.baselineDays, (windowStart.getTime() - first.getTime()) / (24 * HOUR_MS));
    if (historyDays < p.minBaselineDays) return undefined;
    const baseline = (await q.depositTotals(trigger.playerId, hoursBefore(windowStart, historyDays * 24), windowStart)).eurMinor;
    if (baseline === 0n) return undefined;
    // Average per recent-window-length, in exact integer arithmetic: baseline × recentHours / (historyDays × 24).
    const historyHours = BigInt(Math.round(historyDays * 24));
    if (recent * historyHours < BigInt(p.multiplier) * baseline * BigInt(p.recentHours)) return undefined;
    const averageEurMinor = (baseline * BigInt(p.recentHours)) / historyHours;
    return {
      dedupeKey: `player:${trigger.playerId}`,
      summary: `Deposits of EUR ${Number(recent) / 100} in ${p.recentHours} h against a usual EUR ${Number(averageEurMinor) / 100} (≥ ×${p.multiplier})`,
      facts: { recentEurMinor: minor(recent), baselineEurMinor: minor(baseline), baselineDays: Math.round(historyDays * 10) / 10, averagePerWindowEurMinor: minor(averageEurMinor), multiplier: p.multiplier, recentHours: p.recentHours },
    };
  },
};
