/** The attempts part: entrants' timed attempts, pass tokens, and what purchases tell about them. */
import type { BankService } from '../bank/service.ts';
import type { ModulePart, PartContext } from '../contract.ts';
import type { SkillSettings } from '../settings.ts';
import type { TestsInternals } from '../skill-tests/service.ts';
import { purchaseSubscriber } from './handlers.ts';
import { createAttemptsRepository } from './repository.ts';
import { registerAttemptRoutes } from './routes.ts';
import { createAttemptsService, type AttemptsService } from './service.ts';

export interface AttemptsPart extends ModulePart {
  internals: AttemptsService;
}

export function setupAttempts(ctx: PartContext, deps: { settings: SkillSettings; bank: BankService; tests: TestsInternals }): AttemptsPart {
  const repo = createAttemptsRepository(ctx.db);
  const attempts = createAttemptsService(ctx, { repo, bank: deps.bank, tests: deps.tests, settings: deps.settings });
  return {
    internals: attempts,
    routes: (app) => registerAttemptRoutes(app, { ctx, attempts, tests: deps.tests.service }),
    subscribers: [purchaseSubscriber(ctx, repo)],
  };
}
