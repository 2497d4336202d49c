/**
 * The cases part: cases with their history, evidence and decisions, holds on players, and the SLA
 * timers (jobs `compliance.job.case-sla-reminder` and `compliance.job.case-sla-escalation`).
 */
import type { ModulePart, PartContext } from '../contract.ts';
import { createDecisions, type Decisions } from './decisions.ts';
import { createAuditTrail, createHistory, type AuditTrail, type History } from './history.ts';
import { createHolds, type HoldsEngine } from './holds.ts';
import { createCasesRepository, type CasesRepository } from './repository.ts';
import { registerCaseRoutes } from './routes.ts';
import { createCaseService, type CaseService, type CaseSettings } from './service.ts';
import { slaJobs } from './sla.ts';

export interface CasesPart extends ModulePart {
  cases: { open: CaseService['open'] };
  holds: HoldsEngine;
  /** For the evidence packages and retention (same module). */
  internals: { service: CaseService; decisions: Decisions; repo: CasesRepository; history: History; trail: AuditTrail };
}

export function caseSettings(ctx: PartContext): CaseSettings {
  return {
    slaOverridesS: ctx.config.complianceCaseSlaSeconds,
    reopenWindowDays: ctx.config.complianceCaseReopenDays,
    evidenceMaxBytes: ctx.config.complianceEvidenceMaxBytes,
  };
}

export function setupCases(ctx: PartContext): CasesPart {
  const repo = createCasesRepository(ctx.db);
  const history = createHistory(ctx, repo);
  const trail = createAuditTrail(ctx, repo);
  const holds = createHolds(ctx, repo, trail);
  const settings = caseSettings(ctx);
  const service = createCaseService(ctx, { repo, history, settings });
  const decisions = createDecisions(ctx, { repo, history, holds, cases: service, settings });
  return {
    cases: { open: service.open },
    holds,
    internals: { service, decisions, repo, history, trail },
    routes: (app) => registerCaseRoutes(app, { ctx, cases: service, decisions, repo }),
    jobs: slaJobs(ctx, repo, history),
  };
}
