/**
 * The reconciliation part: a daily job (`payments.job.reconciliation`, 02:30 UTC, after the PSP's
 * day has closed) that proves the ledger and compares yesterday's settlement report, and finance's
 * routes for exceptions and runs on demand.
 */
import type { Ledger, ModulePart, PartContext, PspAdapter } from '../contract.ts';
import { createFinanceExceptions } from './exceptions.ts';
import { createReconciliationRepository } from './repository.ts';
import { registerReconciliationRoutes } from './routes.ts';
import { createReconciliation } from './run.ts';

const DAILY_CRON = '30 2 * * *';

export function setupReconciliation(ctx: PartContext, deps: { ledger: Ledger; psp: PspAdapter }): ModulePart {
  const repo = createReconciliationRepository(ctx.db);
  // Reconciliation's own discrepancies open no compliance case (payout exceptions do, in the payouts part).
  const exceptions = createFinanceExceptions(ctx, repo);
  const reconciliation = createReconciliation({ ctx, repo, psp: deps.psp, exceptions });
  return {
    routes: (app) => registerReconciliationRoutes(app, ctx, exceptions, reconciliation),
    jobs: [
      {
        name: 'reconciliation',
        cron: DAILY_CRON,
        retryLimit: 3,
        retryDelayS: 600,
        timeoutS: 3_600,
        async handle() {
          const report = await reconciliation.run({ trigger: 'scheduled', requestedBy: 'system' });
          // A report that could not be read is retried (the PSP may publish it late).
          if (report.status === 'failed') throw new Error(`reconciliation ${report.runId}: ${report.settlement.error ?? 'failed'}`);
        },
      },
    ],
  };
}
