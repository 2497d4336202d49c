/**
 * The eligibility part: canDeposit / canPurchase / canWithdraw, safer-gambling controls, the player
 * read model fed by events, and the national self-exclusion register (sandbox server or GAMSTOP).
 */
import { randomBytes } from 'node:crypto';
import { createAuditTrail } from '../cases/history.ts';
import { createCasesRepository } from '../cases/repository.ts';
import type { Cases, GateDecision, Holds, ModulePart, PartContext } from '../contract.ts';
import { eligibilitySubscribers, registerRecheckJob } from './handlers.ts';
import { gamstopRegister, type SelfExclusionRegister } from './register.ts';
import { RegisterSandbox } from './register-sandbox.ts';
import { createEligibilityRepository, type EligibilityRepository } from './repository.ts';
import { registerEligibilityRoutes } from './routes.ts';
import { createEligibility, type CheckInput, type Eligibility } from './service.ts';

type Check = (input: CheckInput) => Promise<GateDecision>;

export interface EligibilityPart extends ModulePart {
  canDeposit: Check;
  canPurchase: Check;
  canWithdraw: Check;
  internals: { eligibility: Eligibility; repo: EligibilityRepository; sandbox?: RegisterSandbox };
}

function registerFromConfig(ctx: PartContext): { register?: SelfExclusionRegister; sandbox?: RegisterSandbox } {
  const { config } = ctx;
  const timeoutMs = config.complianceRegisterTimeoutMs;
  switch (config.complianceSelfExclusionRegister) {
    case 'none':
      ctx.log.warn('no national self-exclusion register is checked (COMPLIANCE_SELF_EXCLUSION_REGISTER=none)');
      return {};
    case 'gamstop':
      if (!config.complianceGamstopApiKey) throw new Error('COMPLIANCE_SELF_EXCLUSION_REGISTER=gamstop needs COMPLIANCE_GAMSTOP_API_KEY');
      return { register: gamstopRegister({ baseUrl: config.complianceGamstopApiUrl, apiKey: config.complianceGamstopApiKey, timeoutMs }) };
    case 'sandbox': {
      if (config.env === 'production') throw new Error('COMPLIANCE_SELF_EXCLUSION_REGISTER=sandbox is refused in production; use gamstop');
      const sandbox = new RegisterSandbox({ host: config.host, port: config.complianceRegisterSandboxPort, apiKey: randomBytes(16).toString('hex'), log: ctx.log.child({ component: 'register-sandbox' }) });
      return { sandbox, register: gamstopRegister({ name: 'sandbox', baseUrl: () => sandbox.url, apiKey: sandbox.apiKey, timeoutMs }) };
    }
  }
}

export function setupEligibility(ctx: PartContext, _deps: { cases: Cases; holds: Holds }): EligibilityPart {
  const repo = createEligibilityRepository(ctx.db);
  const trail = createAuditTrail(ctx, createCasesRepository(ctx.db));
  const { register, sandbox } = registerFromConfig(ctx);
  const eligibility = createEligibility(ctx, repo, trail, { registerRequired: register !== undefined });
  const handlerDeps = { ctx, repo, eligibility, trail, ...(register ? { register } : {}) };
  return {
    canDeposit: eligibility.canDeposit,
    canPurchase: eligibility.canPurchase,
    canWithdraw: eligibility.canWithdraw,
    internals: { eligibility, repo, ...(sandbox ? { sandbox } : {}) },
    routes: (app) => registerEligibilityRoutes(app, ctx, eligibility),
    subscribers: eligibilitySubscribers(handlerDeps),
    jobs: [registerRecheckJob(handlerDeps)],
    start: async () => sandbox?.start(),
    stop: async () => sandbox?.stop(),
  };
}
