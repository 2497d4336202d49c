/**
 * Rule versions: every rule has version 1 with its default parameters from the first start; a
 * change of parameters is a new (draft) version, activating it retires the previous one; nothing is
 * deleted. When the code of a rule changes meaning (its logic version), a new version carrying the
 * previous parameters is made and activated at start, so every alert names the logic it ran.
 */
import { Value } from 'typebox/value';
import type { PartContext } from '../contract.ts';
import { AmlProblems } from './errors.ts';
import type { AmlRepository, RuleVersionRow } from './repository.ts';
import { RULES, ruleById } from './rules/catalogue.ts';
import type { RuleDefinition } from './rules/types.ts';

const REASON_SEED = 'Built-in defaults';

export function validateParameters(rule: RuleDefinition<any>, parameters: unknown, pointer = '/body/parameters'): Record<string, number> {
  if (Value.Check(rule.parameters, parameters)) return parameters as Record<string, number>;
  const errors = [...Value.Errors(rule.parameters, parameters)].slice(0, 20).map((e) => ({ pointer: `${pointer}${e.instancePath}`, detail: e.message }));
  throw AmlProblems.parametersInvalid(errors);
}

export function createRuleVersions(ctx: PartContext, repo: AmlRepository) {
  let seeded: Promise<void> | undefined;

  async function seedRule(rule: RuleDefinition<any>, active: RuleVersionRow | undefined): Promise<void> {
    if (active && active.logicVersion >= rule.logicVersion) return;
    await ctx.db.tx(async () => {
      await repo.lockRule(rule.id);
      const current = (await repo.versions(rule.id)).find((v) => v.status === 'active');
      if (current && current.logicVersion >= rule.logicVersion) return;
      // Keep what operators tuned; parameters the new code added take their defaults.
      const carried = current ? { ...rule.defaults, ...current.parameters } : rule.defaults;
      const parameters = Value.Check(rule.parameters, carried) ? carried : rule.defaults;
      await repo.retireActive(rule.id);
      const reason = current ? `Rule logic ${current.logicVersion} → ${rule.logicVersion}` : REASON_SEED;
      const version = await repo.insertVersion({ ruleId: rule.id, logicVersion: rule.logicVersion, parameters, status: 'active', reason, createdBy: 'system' });
      await ctx.audit.record({ actor: 'system', action: 'compliance.aml-rule-version-activated', subject: `aml-rule:${rule.id}`, reason, data: { ruleId: rule.id, version, logicVersion: rule.logicVersion, parameters } });
    });
  }

  /** Makes sure every rule of this build has an active version of its current logic (once per process). */
  function ensure(): Promise<void> {
    seeded ??= (async () => {
      const active = new Map((await repo.active()).map((v) => [v.ruleId, v]));
      for (const rule of RULES) await seedRule(rule, active.get(rule.id));
    })().catch((err) => {
      seeded = undefined;
      throw err;
    });
    return seeded;
  }

  function ruleOf(ruleId: string): RuleDefinition<any> {
    const rule = ruleById(ruleId);
    if (!rule) throw AmlProblems.unknownRule(ruleId);
    return rule;
  }

  /** A new draft version: the given parameters over those of the latest version. */
  async function create(ruleId: string, input: { parameters: Record<string, unknown>; reason: string }, actor: string): Promise<RuleVersionRow> {
    const rule = ruleOf(ruleId);
    await ensure();
    return ctx.db.tx(async () => {
      await repo.lockRule(ruleId);
      const latest = (await repo.versions(ruleId)).at(-1);
      const parameters = validateParameters(rule, { ...(latest?.parameters ?? rule.defaults), ...input.parameters });
      const version = await repo.insertVersion({ ruleId, logicVersion: rule.logicVersion, parameters, status: 'draft', reason: input.reason, createdBy: actor });
      await ctx.audit.record({ actor, action: 'compliance.aml-rule-version-created', subject: `aml-rule:${ruleId}`, reason: input.reason, data: { ruleId, version, parameters } });
      return (await repo.version(ruleId, version))!;
    });
  }

  async function activate(ruleId: string, version: number, reason: string, actor: string): Promise<RuleVersionRow> {
    const rule = ruleOf(ruleId);
    await ensure();
    return ctx.db.tx(async () => {
      await repo.lockRule(ruleId);
      const target = await repo.version(ruleId, version, true);
      if (!target) throw AmlProblems.unknownVersion(ruleId, version);
      if (target.status === 'active') throw AmlProblems.alreadyActive(ruleId, version);
      if (target.logicVersion !== rule.logicVersion) throw AmlProblems.staleLogic(ruleId, version);
      const previous = (await repo.versions(ruleId)).find((v) => v.status === 'active');
      await repo.retireActive(ruleId);
      await repo.activate(ruleId, version, actor);
      await ctx.audit.record({
        actor, action: 'compliance.aml-rule-version-activated', subject: `aml-rule:${ruleId}`, reason,
        data: { ruleId, version, previousVersion: previous?.version ?? null, parameters: target.parameters },
      });
      return (await repo.version(ruleId, version))!;
    });
  }

  async function list(): Promise<{ rule: RuleDefinition<any>; versions: RuleVersionRow[] }[]> {
    await ensure();
    const all = await repo.versions();
    return RULES.map((rule) => ({ rule, versions: all.filter((v) => v.ruleId === rule.id) }));
  }

  async function get(ruleId: string): Promise<{ rule: RuleDefinition<any>; versions: RuleVersionRow[] }> {
    const rule = ruleOf(ruleId);
    await ensure();
    return { rule, versions: await repo.versions(ruleId) };
  }

  return { ensure, create, activate, list, get, ruleOf };
}

export type RuleVersions = ReturnType<typeof createRuleVersions>;
