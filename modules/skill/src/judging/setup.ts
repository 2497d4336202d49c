/** The judging part: spot-the-ball judged points, ranking and result. */
import type { ModulePart, PartContext } from '../contract.ts';
import type { SkillSettings } from '../settings.ts';
import type { TestsInternals } from '../skill-tests/service.ts';
import { createJudgingRepository } from './repository.ts';
import { registerJudgingRoutes } from './routes.ts';
import { createJudgingService } from './service.ts';

export function setupJudging(ctx: PartContext, deps: { settings: SkillSettings; tests: TestsInternals }): ModulePart {
  const judging = createJudgingService(ctx, { repo: createJudgingRepository(ctx.db), tests: deps.tests, settings: deps.settings });
  return { routes: (app) => registerJudgingRoutes(app, { ctx, judging }) };
}
