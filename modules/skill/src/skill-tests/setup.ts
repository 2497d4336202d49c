/** The skill tests part: per-competition configuration, images, readiness, postal grading, competition lifecycle. */
import type { BankService } from '../bank/service.ts';
import type { ModulePart, PartContext } from '../contract.ts';
import type { SkillSettings } from '../settings.ts';
import { competitionSubscriber } from './handlers.ts';
import { createTestsRepository } from './repository.ts';
import { registerTestRoutes } from './routes.ts';
import { createTestsService, type TestsInternals } from './service.ts';

export interface TestsPart extends ModulePart {
  internals: TestsInternals;
}

export function setupSkillTests(ctx: PartContext, deps: { settings: SkillSettings; bank: BankService }): TestsPart {
  const repo = createTestsRepository(ctx.db);
  const service = createTestsService(ctx, { repo, bank: deps.bank, settings: deps.settings });
  return {
    internals: { service, repo },
    routes: (app) => registerTestRoutes(app, { ctx, tests: service, settings: deps.settings }),
    subscribers: [competitionSubscriber(ctx, repo)],
  };
}
