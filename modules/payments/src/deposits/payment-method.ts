/**
 * Reporting the card behind a succeeded deposit to compliance, whose AML rule compares the holder
 * name with the player's legal name (a card in someone else's name). The report is a job enqueued
 * in the transaction that moved the deposit to succeeded, so it is made once the success commits
 * and never by the webhook itself: another module is never called inside that transaction, and a
 * compliance outage cannot fail (and so replay) a PSP delivery.
 *
 * The holder name is personal data: it travels in the job only encrypted under the player's data
 * key (an erased player's report can no longer be read and is dropped), and never into events or
 * logs. Payments keeps no copy of it.
 */
import { isDomainError, type FieldCrypto, type JobDefinition, type JobQueue, type Logger } from '@verity/kernel';
import type { CompliancePaymentsService } from '../contract.ts';
import type { ResilientPsp } from '../psp/resilient.ts';
import type { DepositRepository, DepositRow } from './repository.ts';

export const PAYMENT_METHOD_JOB = 'deposit-payment-method';
/** What compliance accepts (AML keeps the name under 300 characters). */
const HOLDER_NAME_MAX = 300;

export interface PaymentMethodJob {
  depositId: string;
  methodRef?: string;
  /** The holder name, encrypted under the player's data key. Absent: ask the PSP (its webhooks lack it). */
  holderNameEnc?: string;
}

export interface PaymentMethodDeps {
  log: Logger;
  repo: DepositRepository;
  psp: ResilientPsp;
  jobs: JobQueue;
  crypto: FieldCrypto;
  /** `ctx.service('compliance')`: throws when no compliance module runs. */
  compliance: () => Pick<CompliancePaymentsService, 'recordPaymentMethod'>;
}

const clean = (name: string | undefined) => name?.trim().replace(/\s+/g, ' ').slice(0, HOLDER_NAME_MAX) || undefined;

export function createPaymentMethodReports(deps: PaymentMethodDeps) {
  const { log, repo, psp, crypto } = deps;

  /**
   * Inside the transaction that moved `d` to succeeded: enqueues the report of the card the PSP
   * named, or a report that asks the PSP first when its webhooks leave the name out.
   */
  async function enqueue(d: DepositRow, method: { holderName?: string; methodRef?: string }, source: string): Promise<void> {
    const holderName = clean(method.holderName);
    if (holderName && method.methodRef) {
      const job: PaymentMethodJob = { depositId: d.depositId, methodRef: method.methodRef, holderNameEnc: await crypto.encrypt(d.playerId, holderName) };
      await deps.jobs.enqueue(PAYMENT_METHOD_JOB, job);
    } else if (source === 'webhook' && psp.paymentEventsLackHolderName) {
      await deps.jobs.enqueue(PAYMENT_METHOD_JOB, { depositId: d.depositId } satisfies PaymentMethodJob);
    }
  }

  /** Compliance's recordPaymentMethod; undefined when no compliance module runs (or one without it). */
  function recorder(): Required<CompliancePaymentsService>['recordPaymentMethod'] | undefined {
    try {
      const s = deps.compliance();
      return typeof s.recordPaymentMethod === 'function' ? s.recordPaymentMethod.bind(s) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The holder name and method id, from the job or from the PSP; undefined when there is none to report. */
  async function methodOf(d: DepositRow, job: PaymentMethodJob): Promise<{ holderName: string; methodRef: string } | undefined> {
    if (job.holderNameEnc && job.methodRef) {
      try {
        return { holderName: await crypto.decrypt(d.playerId, job.holderNameEnc), methodRef: job.methodRef };
      } catch (err) {
        if (isDomainError(err) && err.code === 'personal-data-erased') return undefined;
        throw err;
      }
    }
    if (!d.pspPaymentId) return undefined;
    const s = await psp.getPayment(d.pspPaymentId);
    const holderName = clean(s.holderName);
    return holderName && s.methodRef ? { holderName, methodRef: s.methodRef } : undefined;
  }

  const job: JobDefinition<PaymentMethodJob> = {
    name: PAYMENT_METHOD_JOB,
    // 30 s doubling, capped at an hour: about six hours of compliance outage is ridden out; then
    // the dead-letter queue keeps the report (`verity replay`).
    retryLimit: 12,
    retryDelayS: 30,
    timeoutS: 120,
    concurrency: 2,
    async handle(data) {
      const record = recorder();
      if (!record) {
        log.warn({ depositId: data.depositId }, 'no compliance module takes payment-method reports; this deposit\'s card is not checked against the player\'s name');
        return;
      }
      const d = await repo.get(data.depositId);
      if (!d || d.status !== 'succeeded') return;
      const method = await methodOf(d, data);
      if (!method) {
        log.info({ depositId: d.depositId }, 'no holder name for the card of this deposit; nothing to report');
        return;
      }
      try {
        const r = await record({ playerId: d.playerId, provider: d.provider, methodRef: method.methodRef, holderName: method.holderName });
        log.info({ depositId: d.depositId, recorded: r.recorded, alerts: r.alertIds.length }, 'payment method reported to compliance');
      } catch (err) {
        // A report compliance refuses (invalid, the player erased) stays refused however often it is sent.
        if (isDomainError(err) && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
          log.warn({ depositId: d.depositId, problem: err.code }, 'compliance refused the payment-method report; not retried');
          return;
        }
        throw err;
      }
    },
  };

  return { enqueue, job };
}

export type PaymentMethodReports = ReturnType<typeof createPaymentMethodReports>;
