/**
 * Back-testing a candidate version of a rule: its code with the candidate's parameters replayed
 * over the stored history (every trigger of the window, oldest first, each evaluated as of its own
 * time, with the rule's dedupe applied among the would-be alerts). It runs in a READ ONLY
 * transaction: it cannot raise an alert, open a case or change anything.
 */
import type { PartContext } from '../contract.ts';
import { AmlProblems } from './errors.ts';
import type { AmlQueries, AmlRepository } from './repository.ts';
import { hoursBefore, HOUR_MS } from './rules/types.ts';
import { validateParameters, type RuleVersions } from './rule-versions.ts';

/** Triggers one back-test replays at most (the answer says when the window held more). */
export const BACKTEST_TRIGGERS_MAX = 5_000;
/** Would-be alerts returned at most. */
const ALERTS_LISTED_MAX = 500;
const WINDOW_DAYS_DEFAULT = 30;
const WINDOW_DAYS_MAX = 366;

export interface BacktestInput {
  ruleId: string;
  /** Parameters to try, over those of the active version; or `version` to replay a stored one. */
  parameters?: Record<string, unknown>;
  version?: number;
  from?: Date;
  to?: Date;
}

export interface WouldBeAlert {
  playerId: string;
  dedupeKey: string;
  trigger: string;
  triggeredAt: Date;
  summary: string;
  facts: Record<string, unknown>;
  /** The active rule did raise an alert for this same trigger. */
  alreadyRaised: boolean;
}

export function createBacktest(ctx: PartContext, repo: AmlRepository, queries: AmlQueries, versions: RuleVersions) {
  async function resolveParameters(input: BacktestInput): Promise<{ parameters: Record<string, number>; basedOn: number | null }> {
    const { rule, versions: all } = await versions.get(input.ruleId);
    if (input.version !== undefined) {
      const stored = all.find((v) => v.version === input.version);
      if (!stored) throw AmlProblems.unknownVersion(input.ruleId, input.version);
      return { parameters: validateParameters(rule, { ...rule.defaults, ...stored.parameters, ...(input.parameters ?? {}) }), basedOn: stored.version };
    }
    const active = all.find((v) => v.status === 'active');
    return { parameters: validateParameters(rule, { ...(active?.parameters ?? rule.defaults), ...(input.parameters ?? {}) }), basedOn: active?.version ?? null };
  }

  return async function backtest(input: BacktestInput) {
    const rule = versions.ruleOf(input.ruleId);
    const { parameters, basedOn } = await resolveParameters(input);
    const to = input.to ?? (await ctx.clock.now());
    const from = input.from ?? hoursBefore(to, WINDOW_DAYS_DEFAULT * 24);
    if (from >= to) throw AmlProblems.backtestWindow('from must be before to');
    if (to.getTime() - from.getTime() > WINDOW_DAYS_MAX * 24 * HOUR_MS) throw AmlProblems.backtestWindow(`the window may span at most ${WINDOW_DAYS_MAX} days`);
    return ctx.db.tx(async () => {
      const triggers = await repo.triggersBetween(rule.triggers, from, to, BACKTEST_TRIGGERS_MAX + 1);
      const truncated = triggers.length > BACKTEST_TRIGGERS_MAX;
      const replayed = triggers.slice(0, BACKTEST_TRIGGERS_MAX);
      const lastAlert = new Map<string, number>();
      const alerts: Omit<WouldBeAlert, 'alreadyRaised'>[] = [];
      const suppressMs = rule.suppressHours(parameters) * HOUR_MS;
      for (const trigger of replayed) {
        const hit = await rule.evaluate(trigger, parameters, queries);
        if (!hit) continue;
        const previous = lastAlert.get(hit.dedupeKey);
        if (previous !== undefined && trigger.occurredAt.getTime() - previous < suppressMs) continue;
        lastAlert.set(hit.dedupeKey, trigger.occurredAt.getTime());
        alerts.push({ playerId: trigger.playerId, dedupeKey: hit.dedupeKey, trigger: trigger.ref, triggeredAt: trigger.occurredAt, summary: hit.summary, facts: hit.facts });
      }
      const raised = await repo.raisedFor(rule.id, alerts.map((a) => a.trigger));
      return {
        ruleId: rule.id, logicVersion: rule.logicVersion, basedOnVersion: basedOn, parameters, from, to,
        triggersReplayed: replayed.length, truncated, alertCount: alerts.length,
        players: new Set(alerts.map((a) => a.playerId)).size,
        alerts: alerts.slice(0, ALERTS_LISTED_MAX).map((a) => ({ ...a, alreadyRaised: raised.has(a.trigger) })),
      };
    }, { readOnly: true, isolation: 'repeatable read' });
  };
}

export type Backtest = ReturnType<typeof createBacktest>;
