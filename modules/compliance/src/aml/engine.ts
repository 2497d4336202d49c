/**
 * Live evaluation: each event stored in the aggregates is a trigger; every active rule that reacts
 * to its kind is evaluated as of the event's time; a hit becomes an alert (unless the rule's dedupe
 * key alerted within its window) and the alert an `aml-alert` case. All in the transaction of the
 * delivery that stored the event, so an event raises its alerts exactly once.
 */
import { uuidv7 } from '@verity/kernel';
import type { Cases, PartContext } from '../contract.ts';
import type { AmlQueries, AmlRepository, RuleVersionRow } from './repository.ts';
import { ruleById } from './rules/catalogue.ts';
import { HOUR_MS, type Hit, type RuleDefinition, type Trigger } from './rules/types.ts';
import type { RuleVersions } from './rule-versions.ts';

export const ALERT_RAISED_EVENT = 'compliance.aml-alert-raised.v1';
/**
 * A deposit stored after later ones (deliveries run in parallel and retry) changes what those later
 * deposits and withdrawals saw: they are evaluated again, so live alerts match an in-order replay.
 */
const REEVALUATE_HOURS = 7 * 24;
const REEVALUATE_MAX = 50;

export interface EngineDeps {
  ctx: PartContext;
  repo: AmlRepository;
  queries: AmlQueries;
  versions: RuleVersions;
  cases: Cases;
}

export function createEngine(deps: EngineDeps) {
  const { ctx, repo, queries, cases } = deps;

  async function raise(rule: RuleDefinition<any>, version: RuleVersionRow, trigger: Trigger, hit: Hit): Promise<string | undefined> {
    await repo.lockDedupe(rule.id, hit.dedupeKey);
    const suppressMs = rule.suppressHours(version.parameters) * HOUR_MS;
    const [from, to] = [new Date(trigger.occurredAt.getTime() - suppressMs), new Date(trigger.occurredAt.getTime() + suppressMs)];
    if (await repo.alertWithin(rule.id, hit.dedupeKey, from, to)) return undefined;
    const alertId = uuidv7();
    const facts = { ...hit.facts, summary: hit.summary };
    const inserted = await repo.insertAlert({
      id: alertId, ruleId: rule.id, ruleVersion: version.version, logicVersion: version.logicVersion, playerId: trigger.playerId,
      dedupeKey: hit.dedupeKey, triggerRef: trigger.ref, facts, triggeredAt: trigger.occurredAt,
    });
    if (!inserted) return undefined;
    const opened = await cases.open({
      type: 'aml-alert',
      subject: `player:${trigger.playerId}`,
      summary: `${rule.title}: ${hit.summary}`.slice(0, 500),
      data: { playerId: trigger.playerId, alertId, ruleId: rule.id, ruleVersion: version.version, logicVersion: version.logicVersion, trigger: trigger.ref, facts },
      dedupeKey: `aml:${rule.id}:${hit.dedupeKey}`,
    });
    if (opened.caseId) await repo.setAlertCase(alertId, opened.caseId);
    await ctx.events.publish({
      type: ALERT_RAISED_EVENT, subject: alertId,
      data: { alertId, ruleId: rule.id, ruleVersion: version.version, playerId: trigger.playerId, caseId: opened.caseId || null, triggeredAt: trigger.occurredAt.toISOString() },
    });
    ctx.log.info({ alertId, ruleId: rule.id, ruleVersion: version.version, playerId: trigger.playerId, caseId: opened.caseId }, 'AML alert raised');
    return alertId;
  }

  async function evaluate(trigger: Trigger, active: RuleVersionRow[]): Promise<string[]> {
    const raised: string[] = [];
    for (const version of active) {
      const rule = ruleById(version.ruleId);
      if (!rule || !rule.triggers.includes(trigger.kind)) continue;
      const hit = await rule.evaluate(trigger, version.parameters, queries);
      if (!hit) continue;
      const id = await raise(rule, version, trigger, hit);
      if (id) raised.push(id);
    }
    return raised;
  }

  /** Evaluates the active rules for one stored event (as of its time); returns the ids of the alerts raised. */
  async function onTrigger(trigger: Trigger): Promise<string[]> {
    await deps.versions.ensure();
    const active = await repo.active();
    const raised = await evaluate(trigger, active);
    if (trigger.kind === 'deposit') {
      const until = new Date(trigger.occurredAt.getTime() + REEVALUATE_HOURS * HOUR_MS);
      for (const later of await repo.laterMoneyTriggers(trigger.playerId, trigger.occurredAt, until, REEVALUATE_MAX)) raised.push(...(await evaluate(later, active)));
    }
    return raised;
  }

  return { onTrigger };
}

export type Engine = ReturnType<typeof createEngine>;
