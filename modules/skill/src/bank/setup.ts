/** The question bank part: questions, versions with four-eyes approval, statistics and pass-rate alerts. */
import type { ModulePart, PartContext } from '../contract.ts';
import type { SkillSettings } from '../settings.ts';
import { registerBankMetrics } from './metrics.ts';
import { createBankRepository } from './repository.ts';
import { registerBankRoutes } from './routes.ts';
import { createBankService, type BankService } from './service.ts';

export interface BankPart extends ModulePart {
  internals: BankService;
}

export function setupBank(ctx: PartContext, settings: SkillSettings): BankPart {
  const bank = createBankService(ctx, { repo: createBankRepository(ctx.db), settings });
  return {
    internals: bank,
    routes(app) {
      registerBankRoutes(app, { ctx, bank });
      registerBankMetrics(app, ctx.db);
    },
  };
}
