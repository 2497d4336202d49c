/**
 * The payouts part: withdrawals with four-eyes approval, the payout jobs (send, settle, sweep) and
 * the handler of payout webhooks. Jobs are `payments.job.payout`, `payments.job.payout-settle`
 * (both retried with backoff, then dead-lettered for `verity replay --dlq`) and the cron
 * `payments.job.payout-sweep`.
 */
import type { JobDefinition } from '@verity/kernel';
import type { ComplianceGate, Ledger, ModulePart, PartContext, PspAdapter } from '../contract.ts';
import { createFinanceExceptions } from '../reconciliation/exceptions.ts';
import { createReconciliationRepository } from '../reconciliation/repository.ts';
import { createPayoutsRepository } from './repository.ts';
import { registerPayoutRoutes } from './routes.ts';
import { createPayoutRunner, SETTLE_JOB } from './runner.ts';
import { createSweeper } from './sweeper.ts';
import { PAYOUT_JOB, createWithdrawals, type PayoutSettings } from './withdrawals.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A PSP call is bounded by the resilience wrapper's timeout; this bounds the whole run. */
const JOB_TIMEOUT_S = 120;

function withdrawalIdOf(data: { withdrawalId?: unknown }): string {
  if (typeof data.withdrawalId !== 'string' || !UUID.test(data.withdrawalId)) throw new Error('payout job without a withdrawal id');
  return data.withdrawalId;
}

export function payoutSettings(ctx: PartContext): PayoutSettings {
  const c = ctx.config;
  return {
    approvalThresholdMinor: BigInt(c.paymentsWithdrawalApprovalThresholdMinor),
    secondApprovalThresholdMinor: BigInt(c.paymentsWithdrawalSecondApprovalThresholdMinor),
    maxMinor: BigInt(c.paymentsWithdrawalMaxMinor),
    holdTimeoutS: c.paymentsWithdrawalHoldTimeoutS,
  };
}

export function setupPayouts(ctx: PartContext, deps: { ledger: Ledger; psp: PspAdapter; gate: ComplianceGate }): ModulePart {
  const { config } = ctx;
  const repo = createPayoutsRepository(ctx.db);
  const exceptions = createFinanceExceptions(ctx, createReconciliationRepository(ctx.db), deps.gate);
  const withdrawals = createWithdrawals({
    ctx, repo, ledger: deps.ledger, gate: deps.gate, settings: payoutSettings(ctx), provider: deps.psp.name,
    destinationFor: (playerId, currency) => repo.payoutDestination(playerId, currency, deps.psp.name),
  });
  const runner = createPayoutRunner({ ctx, repo, ledger: deps.ledger, psp: deps.psp, withdrawals, exceptions, settleDelayS: config.paymentsPayoutSettleDelayS, sendGraceS: JOB_TIMEOUT_S });
  const sweeper = createSweeper({
    ctx, repo, runner, withdrawals, exceptions,
    settleDelayS: config.paymentsPayoutSettleDelayS, unknownAlertS: config.paymentsPayoutUnknownAlertS, holdTimeoutS: config.paymentsWithdrawalHoldTimeoutS,
  });
  const retry = { retryLimit: config.paymentsPayoutRetryLimit, retryDelayS: config.paymentsPayoutRetryDelayS, timeoutS: JOB_TIMEOUT_S };
  const jobs: JobDefinition<{ withdrawalId?: unknown }>[] = [
    { name: PAYOUT_JOB, ...retry, concurrency: 4, handle: (data) => runner.submit(withdrawalIdOf(data)) },
    { name: SETTLE_JOB, ...retry, concurrency: 4, handle: (data) => runner.settle(withdrawalIdOf(data)) },
    { name: 'payout-sweep', cron: '* * * * *', retryLimit: 1, retryDelayS: 30, timeoutS: 300, handle: () => sweeper.sweep() },
  ];
  return {
    routes: (app) => registerPayoutRoutes(app, ctx, withdrawals),
    jobs,
    // Verified webhooks (the PSP part's route, inside its dedupe transaction).
    pspEvents: { types: ['payout.paid', 'payout.failed'], apply: (_provider, event) => runner.onPayoutEvent(event) },
  };
}
