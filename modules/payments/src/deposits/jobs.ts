/**
 * The jobs that settle what the request could not: the status query of a deposit still open (an
 * outcome unknown after a timeout, a lost webhook, a challenge never completed), and the refund of
 * a payment we refused. PSP errors make a run fail; the queue retries it with backoff and, when
 * the retries are spent, parks it in the dead-letter queue (`verity replay` brings it back).
 */
import type { Db, JobDefinition, JobQueue, Logger } from '@verity/kernel';
import type { ResilientPsp } from '../psp/resilient.ts';
import { FINAL, REFUND_JOB, type Outcome, type Outcomes, outcomeOfSession } from './outcomes.ts';
import type { DepositRepository } from './repository.ts';
import { STATUS_JOB } from './service.ts';

/** Status checks per deposit; the delay doubles each time, up to an hour (about 10 h in all). */
const STATUS_CHECKS_MAX = 14;
const STATUS_DELAY_MAX_S = 3_600;
/** A 3-D Secure challenge not completed within this is abandoned (a later success still credits). */
export const CHALLENGE_ABANDON_S = 3_600;

export interface DepositJobDeps {
  db: Db;
  log: Logger;
  repo: DepositRepository;
  psp: ResilientPsp;
  outcomes: Outcomes;
  jobs: JobQueue;
  statusCheckS: number;
  unknownGraceS: number;
}

export function depositJobs(deps: DepositJobDeps): JobDefinition<any>[] {
  const { db, log, repo, psp, outcomes } = deps;

  const statusCheck: JobDefinition<{ depositId: string; check?: number }> = {
    name: STATUS_JOB,
    retryLimit: 6,
    retryDelayS: deps.statusCheckS,
    timeoutS: 120,
    concurrency: 4,
    async handle({ depositId, check = 1 }) {
      const d = await repo.get(depositId);
      if (!d || FINAL.has(d.status) || d.status === 'failed') return;
      // Outside the transaction: a PSP call never holds a database connection.
      const found = d.pspPaymentId ? await psp.getPayment(d.pspPaymentId) : await psp.findPaymentByReference(d.depositId);
      await db.tx(async () => {
        const locked = await repo.get(depositId, { forUpdate: true });
        if (!locked || FINAL.has(locked.status) || locked.status === 'failed') return;
        let outcome: Outcome | undefined;
        if (found) outcome = { ...outcomeOfSession(found), amountMinor: found.amountMinor, currency: found.currency };
        else if (locked.ageS >= deps.unknownGraceS) outcome = { status: 'failed', failureReason: 'psp-no-record' };
        if (outcome) await outcomes.apply(locked, outcome, 'status-query');
        const now = (await repo.get(depositId))!;
        if (FINAL.has(now.status) || now.status === 'failed') return;
        if (now.status === 'requires_action' && now.ageS >= CHALLENGE_ABANDON_S) {
          await outcomes.apply(now, { status: 'failed', failureReason: 'challenge-abandoned' }, 'status-query');
          return;
        }
        if (check >= STATUS_CHECKS_MAX) {
          log.error({ depositId, status: now.status, checks: check }, 'deposit still open after every status check; reconciliation will raise it');
          return;
        }
        const delayS = Math.min(STATUS_DELAY_MAX_S, deps.statusCheckS * 2 ** check);
        await deps.jobs.enqueue(STATUS_JOB, { depositId, check: check + 1 }, { startAfter: delayS });
      });
    },
  };

  const refund: JobDefinition<{ depositId: string }> = {
    name: REFUND_JOB,
    retryLimit: 8,
    retryDelayS: 30,
    timeoutS: 120,
    async handle({ depositId }) {
      const d = await repo.get(depositId);
      if (!d || d.status !== 'refused_credit_card' || d.refundStatus === 'succeeded' || !d.pspPaymentId) return;
      // The same key on every run: the PSP refunds once however often this runs.
      const r = await psp.refundPayment({ idempotencyKey: `deposit-refund-${depositId}`, pspPaymentId: d.pspPaymentId, amountMinor: d.amountMinor, reason: 'credit-card-refused', reference: depositId });
      await db.tx(async () => {
        const locked = (await repo.get(depositId, { forUpdate: true }))!;
        if (r.status === 'succeeded') await outcomes.refunded(locked, r.pspRefundId);
        else if (locked.refundStatus !== 'succeeded') await repo.setRefund(depositId, r.status, r.pspRefundId);
      });
      if (r.status === 'failed') log.error({ depositId, pspRefundId: r.pspRefundId }, 'refund of a refused deposit failed at the PSP');
    },
  };

  return [statusCheck, refund];
}
