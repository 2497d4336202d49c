/**
 * The retention part: account closure, legal holds, the erasure job (`compliance.job.retention`,
 * daily), and signed evidence packages.
 */
import type { Cases, ModulePart, PartContext } from '../contract.ts';
import { createEvidencePackages, type CoreParts } from './evidence.ts';
import { createRetentionRepository } from './repository.ts';
import { registerRetentionRoutes } from './routes.ts';
import { createRetention } from './service.ts';
import { createSigningKeys } from './signing.ts';

export function setupRetention(ctx: PartContext, deps: { cases: Cases; core: CoreParts }): ModulePart {
  const repo = createRetentionRepository(ctx.db);
  const years = ctx.config.complianceRetentionYears;
  const retention = createRetention(ctx, { repo, trail: deps.core.cases.trail, years, batchMax: ctx.config.complianceRetentionBatchMax });
  const keys = createSigningKeys(ctx, repo);
  const evidence = createEvidencePackages(ctx, { repo, core: deps.core, keys, retentionYears: years });
  return {
    routes: (app) => registerRetentionRoutes(app, { ctx, retention, evidence, keys, players: deps.core.eligibility.repo, years }),
    jobs: [{
      name: 'retention',
      cron: '41 2 * * *',
      retryLimit: 3,
      retryDelayS: 600,
      timeoutS: 3_600,
      async handle() {
        await retention.run('system');
      },
    }],
  };
}
