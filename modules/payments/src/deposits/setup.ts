/** The deposits part: card deposits through the PSP port, their webhooks and jobs, deposit limits. */
import type { ComplianceGate, Ledger, ModulePart, PartContext } from '../contract.ts';
import type { ResilientPsp } from '../psp/resilient.ts';
import { depositJobs } from './jobs.ts';
import { createOutcomes } from './outcomes.ts';
import { createPaymentMethodReports } from './payment-method.ts';
import { depositRepository } from './repository.ts';
import { registerDepositRoutes } from './routes.ts';
import { createDepositService } from './service.ts';

export function setupDeposits(ctx: PartContext, deps: { ledger: Ledger; psp: ResilientPsp; gate: ComplianceGate }): ModulePart {
  const repo = depositRepository(ctx.db);
  const paymentMethods = createPaymentMethodReports({ log: ctx.log, repo, psp: deps.psp, jobs: ctx.jobs, crypto: ctx.crypto, compliance: () => ctx.service('compliance') });
  const outcomes = createOutcomes({ repo, ledger: deps.ledger, events: ctx.events, jobs: ctx.jobs, log: ctx.log, paymentMethods });
  const deposits = createDepositService({
    db: ctx.db,
    log: ctx.log,
    repo,
    psp: deps.psp,
    gate: deps.gate,
    outcomes,
    jobs: ctx.jobs,
    maxAmountMinor: BigInt(ctx.config.paymentsDepositMaxMinor),
    statusCheckS: ctx.config.paymentsDepositStatusCheckS,
    crypto: ctx.crypto,
  });
  return {
    routes(app) {
      registerDepositRoutes(app, { db: ctx.db, auth: ctx.auth, audit: ctx.audit, events: ctx.events, repo, deposits });
    },
    jobs: [
      ...depositJobs({ db: ctx.db, log: ctx.log, repo, psp: deps.psp, outcomes, jobs: ctx.jobs, statusCheckS: ctx.config.paymentsDepositStatusCheckS, unknownGraceS: ctx.config.paymentsDepositUnknownGraceS }),
      paymentMethods.job,
    ],
    pspEvents: deposits.pspEvents,
  };
}
