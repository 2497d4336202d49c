/**
 * AML routes: rules and their versions (read with cases:read; create, activate and back-test with
 * aml-rules:manage; activation also needs a fresh sign-in), alerts (cases:read). Every change is
 * audited by the use case.
 */
import { OperatorPermissions, actorFromContext, type HttpApp } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { decodeCursor, page } from '../sanctions/paging.ts';
import type { Backtest } from './backtest.ts';
import {
  ActivateBody, AlertList, AlertsQuery, BacktestBody, BacktestReply, CreateVersionBody, Problem, RuleDto, RuleList, RuleParams, RuleVersionDto, TAG_AML, VersionParams,
} from './contracts.ts';
import type { AlertRow, AmlRepository, RuleVersionRow } from './repository.ts';
import type { RuleDefinition } from './rules/types.ts';
import type { RuleVersions } from './rule-versions.ts';

const bearer = [{ bearer: [] }];
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const versionView = (v: RuleVersionRow) => ({
  version: v.version, logicVersion: v.logicVersion, parameters: v.parameters, status: v.status, reason: v.reason, createdBy: v.createdBy,
  createdAt: v.createdAt.toISOString(), activatedBy: v.activatedBy, activatedAt: iso(v.activatedAt), retiredAt: iso(v.retiredAt),
});
const ruleView = ({ rule, versions }: { rule: RuleDefinition<any>; versions: RuleVersionRow[] }) => {
  const active = versions.find((v) => v.status === 'active');
  return {
    ruleId: rule.id, title: rule.title, description: rule.description, logicVersion: rule.logicVersion, triggers: [...rule.triggers],
    parameterSchema: JSON.parse(JSON.stringify(rule.parameters)) as Record<string, unknown>, activeVersion: active ? versionView(active) : null, versions: versions.map(versionView),
  };
};
const alertView = (a: AlertRow) => ({
  alertId: a.id, ruleId: a.ruleId, ruleVersion: a.ruleVersion, logicVersion: a.logicVersion, playerId: a.playerId, dedupeKey: a.dedupeKey,
  trigger: a.triggerRef, facts: a.facts, caseId: a.caseId, triggeredAt: a.triggeredAt.toISOString(), createdAt: a.createdAt.toISOString(),
});

export interface AmlRouteDeps {
  ctx: PartContext;
  repo: AmlRepository;
  versions: RuleVersions;
  backtest: Backtest;
}

export function registerAmlRoutes(app: HttpApp, deps: AmlRouteDeps): void {
  const { ctx, repo, versions, backtest } = deps;
  const P = OperatorPermissions;
  const reader = ctx.auth.require([P.casesRead], { mfa: true, kinds: ['operator'] });
  const manager = ctx.auth.require([P.amlRulesManage], { mfa: true, kinds: ['operator'] });
  const activator = ctx.auth.require([P.amlRulesManage], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.get('/v1/aml/rules', {
    preHandler: reader,
    schema: { operationId: 'listAmlRules', tags: [TAG_AML], security: bearer, summary: 'AML rules with their active version and version history', response: { 200: RuleList, '4xx': Problem } },
  }, async () => ({ items: (await versions.list()).map(ruleView) }));

  app.get('/v1/aml/rules/:ruleId', {
    preHandler: reader,
    schema: { operationId: 'getAmlRule', tags: [TAG_AML], security: bearer, summary: 'One AML rule with every version', params: RuleParams, response: { 200: RuleDto, '4xx': Problem } },
  }, async (req) => ruleView(await versions.get((req.params as { ruleId: string }).ruleId)));

  app.post('/v1/aml/rules/:ruleId/versions', {
    preHandler: manager,
    schema: {
      operationId: 'createAmlRuleVersion', tags: [TAG_AML], security: bearer,
      summary: 'A new draft version of a rule: the given parameters over the latest version\'s (back-test it, then activate it)',
      params: RuleParams, body: CreateVersionBody, response: { 201: RuleVersionDto, '4xx': Problem },
    },
  }, async (req, reply) => {
    const body = req.body as { parameters: Record<string, number>; reason: string };
    const created = await versions.create((req.params as { ruleId: string }).ruleId, body, actorFromContext());
    return reply.code(201).send(versionView(created));
  });

  app.post('/v1/aml/rules/:ruleId/versions/:version/activate', {
    preHandler: activator,
    schema: {
      operationId: 'activateAmlRuleVersion', tags: [TAG_AML], security: bearer,
      summary: 'Make a version the live one (the previous active version is retired; needs a recent sign-in)',
      params: VersionParams, body: ActivateBody, response: { 200: RuleVersionDto, '4xx': Problem },
    },
  }, async (req) => {
    const { ruleId, version } = req.params as { ruleId: string; version: number };
    return versionView(await versions.activate(ruleId, version, (req.body as { reason: string }).reason, actorFromContext()));
  });

  app.post('/v1/aml/rules/:ruleId/backtest', {
    preHandler: manager,
    schema: {
      operationId: 'backtestAmlRule', tags: [TAG_AML], security: bearer,
      summary: 'Replay a rule with candidate parameters over stored history: the alerts it would have raised (nothing is raised)',
      params: RuleParams, body: BacktestBody, response: { 200: BacktestReply, '4xx': Problem },
    },
  }, async (req) => {
    const body = req.body as { parameters?: Record<string, number>; version?: number; from?: string; to?: string };
    const ruleId = (req.params as { ruleId: string }).ruleId;
    const result = await backtest({
      ruleId, ...(body.parameters ? { parameters: body.parameters } : {}), ...(body.version !== undefined ? { version: body.version } : {}),
      ...(body.from ? { from: new Date(body.from) } : {}), ...(body.to ? { to: new Date(body.to) } : {}),
    });
    await ctx.db.tx(() => ctx.audit.record({
      actor: actorFromContext(), action: 'compliance.aml-rule-backtested', subject: `aml-rule:${ruleId}`,
      data: { parameters: result.parameters, from: result.from.toISOString(), to: result.to.toISOString(), alertCount: result.alertCount, triggersReplayed: result.triggersReplayed },
    }));
    return {
      ...result, from: result.from.toISOString(), to: result.to.toISOString(),
      alerts: result.alerts.map((a) => ({ ...a, triggeredAt: a.triggeredAt.toISOString() })),
    };
  });

  app.get('/v1/aml/alerts', {
    preHandler: reader,
    schema: { operationId: 'listAmlAlerts', tags: [TAG_AML], security: bearer, summary: 'AML alerts, newest first, with the case each opened', querystring: AlertsQuery, response: { 200: AlertList, '4xx': Problem } },
  }, async (req) => {
    const q = req.query as { ruleId?: string; playerId?: string; cursor?: string; limit?: number };
    const limit = q.limit ?? 50;
    const beforeId = decodeCursor(q.cursor);
    const rows = await repo.alerts({ limit: limit + 1, ...(q.ruleId ? { ruleId: q.ruleId } : {}), ...(q.playerId ? { playerId: q.playerId } : {}), ...(beforeId ? { beforeId } : {}) });
    const p = page(rows, limit);
    return { items: p.items.map(alertView), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
  });
}
