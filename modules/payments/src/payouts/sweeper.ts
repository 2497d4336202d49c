/**
 * The payout sweeper (every minute): the safety net under the jobs. It raises a payout exception
 * (and a compliance case) for a payout in flight too long, asks the PSP again about in-flight
 * payouts nobody has looked at for a while, cancels withdrawals whose hold lapsed while they waited
 * for approval, and retries compliance cases that could not be opened.
 */
import type { Logger } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import type { FinanceExceptions } from '../reconciliation/exceptions.ts';
import { IN_FLIGHT, type PayoutsRepository } from './repository.ts';
import type { PayoutRunner } from './runner.ts';
import type { Withdrawals } from './withdrawals.ts';

const BATCH = 50;
/** An in-flight payout untouched this long gets a status query even if its settle job was lost. */
const IDLE_FLOOR_S = 300;

export interface SweeperDeps {
  ctx: PartContext;
  repo: PayoutsRepository;
  runner: PayoutRunner;
  withdrawals: Withdrawals;
  exceptions: FinanceExceptions;
  settleDelayS: number;
  unknownAlertS: number;
  holdTimeoutS: number;
}

export function createSweeper(deps: SweeperDeps) {
  const { ctx, repo, runner, withdrawals, exceptions } = deps;
  const log: Logger = ctx.log.child({ component: 'payout-sweeper' });

  async function raiseStuck(): Promise<number> {
    const stuck = await repo.stuck(deps.unknownAlertS, BATCH);
    for (const w of stuck) {
      await runner.withCases(async (raise) => {
        const locked = await repo.lock(w.id);
        if (!locked || locked.exceptionAt || !(locked.status === 'approved' || IN_FLIGHT.includes(locked.status))) return;
        await repo.update(w.id, locked.status, { exceptionAt: await ctx.db.now() });
        await raise({
          kind: 'payout-unknown', subject: w.id, currency: w.currency,
          details: { withdrawalId: w.id, status: locked.status, amountMinor: w.amountMinor, attempts: locked.attempts, submittedAt: locked.submittedAt },
        });
      });
    }
    return stuck.length;
  }

  async function requeueIdle(): Promise<number> {
    const idle = await repo.idle(IN_FLIGHT, Math.max(IDLE_FLOOR_S, deps.settleDelayS * 10), BATCH);
    for (const w of idle) await runner.scheduleSettle(w.id, 0);
    return idle.length;
  }

  async function cancelLapsedHolds(): Promise<number> {
    let cancelled = 0;
    for (const w of await repo.idle(['awaiting_approval'], deps.holdTimeoutS, BATCH)) {
      await ctx.db.tx(async () => {
        const locked = await repo.lock(w.id);
        if (locked?.status !== 'awaiting_approval' || (await withdrawals.holdIsPending(locked))) return;
        await withdrawals.cancelLapsed(locked);
        cancelled++;
      });
    }
    return cancelled;
  }

  return {
    async sweep(): Promise<void> {
      const raised = await raiseStuck();
      const requeued = await requeueIdle();
      const cancelled = await cancelLapsedHolds();
      await exceptions.openMissingCases();
      if (raised || requeued || cancelled) log.info({ raised, requeued, cancelled }, 'payout sweep');
    },
  };
}
