/**
 * Moving a deposit forward, whoever learned the news first: the PSP's answer to createPayment, a
 * webhook, or the status-query job. Runs inside the caller's transaction with the deposit row
 * locked, so the state change, the ledger transfer, the outbox event and any job commit together.
 * Deliveries come out of order and more than once, so a move is taken only if it goes forward.
 */
import { createHash } from 'node:crypto';
import type { EventPublisher, JobQueue, Logger } from '@verity/kernel';
import type { AccountRef, FundingType, Ledger, PaymentSession } from '../contract.ts';
import type { PaymentMethodReports } from './payment-method.ts';
import type { DepositRepository, DepositRow, DepositStatus, DepositUpdate } from './repository.ts';

export const FINAL: ReadonlySet<DepositStatus> = new Set(['succeeded', 'refused_credit_card']);
const OPEN: ReadonlySet<DepositStatus> = new Set(['pending', 'unknown', 'requires_action', 'processing']);
/** Order of the open states: news only moves a deposit to a later one. */
const OPEN_RANK: Partial<Record<DepositStatus, number>> = { pending: 0, unknown: 0, requires_action: 1, processing: 2 };
/** Funding types that may pay for gambling (LCCP 6.1.2 bans credit; an unreported type is not shown to be debit). */
const ALLOWED_FUNDING: ReadonlySet<FundingType> = new Set(['debit', 'prepaid', 'bank_transfer']);

export const REFUND_JOB = 'deposit-refund';

export interface Outcome {
  status: 'unknown' | 'requires_action' | 'processing' | 'succeeded' | 'failed';
  pspPaymentId?: string;
  actionUrl?: string;
  fundingType?: FundingType;
  failureReason?: string;
  /** When the PSP reports amounts (webhooks, status queries), they must match the deposit. */
  amountMinor?: bigint;
  currency?: string;
  occurredAt?: Date;
  /** Succeeded payments: the card's holder name and fingerprint, for the AML report (never stored here). */
  holderName?: string;
  methodRef?: string;
}

export function canMove(from: DepositStatus, to: DepositStatus): boolean {
  if (from === to || FINAL.has(from)) return false;
  // The PSP's word that money arrived beats our own inference that it did not (timeout, abandoned challenge).
  if (from === 'failed') return to === 'succeeded' || to === 'refused_credit_card';
  if (to === 'unknown') return from === 'pending';
  if (OPEN.has(to)) return (OPEN_RANK[to] ?? 0) > (OPEN_RANK[from] ?? 0);
  return true;
}

export function outcomeOfSession(s: PaymentSession): Outcome {
  const out: Outcome = { status: s.status, pspPaymentId: s.pspPaymentId };
  if (s.actionUrl) out.actionUrl = s.actionUrl;
  if (s.fundingType) out.fundingType = s.fundingType;
  if (s.failureReason) out.failureReason = s.failureReason;
  if (s.holderName) out.holderName = s.holderName;
  if (s.methodRef) out.methodRef = s.methodRef;
  return out;
}

/** A UUID derived from a deposit id and a purpose: ledger transfer ids that a retry finds again. */
export function derivedId(depositId: string, purpose: string): string {
  const h = createHash('sha256').update(`${depositId}:${purpose}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface OutcomeDeps {
  repo: DepositRepository;
  ledger: Ledger;
  events: EventPublisher;
  jobs: JobQueue;
  log: Logger;
  paymentMethods: Pick<PaymentMethodReports, 'enqueue'>;
}

const clearing = (d: DepositRow): AccountRef => ({ type: 'psp_clearing', ownerId: d.provider, currency: d.currency });
const refundsOwed = (d: DepositRow): AccountRef => ({ type: 'refunds', ownerId: 'house', currency: d.currency });
const eventData = (d: DepositRow) => ({ depositId: d.depositId, playerId: d.playerId, amountMinor: d.amountMinor.toString(), currency: d.currency, provider: d.provider });

export function createOutcomes(deps: OutcomeDeps) {
  const { repo, ledger, events, jobs, log } = deps;

  /** Applies `outcome` to the locked deposit; 'ignored' when it would not move it forward. */
  async function apply(d: DepositRow, outcome: Outcome, source: string): Promise<'applied' | 'ignored'> {
    let target: DepositStatus = outcome.status;
    let failureReason = outcome.failureReason;
    if (outcome.status === 'succeeded') {
      if ((outcome.amountMinor !== undefined && outcome.amountMinor !== d.amountMinor) || (outcome.currency !== undefined && outcome.currency !== d.currency)) {
        // Never credit what we did not ask for; reconciliation raises the mismatch.
        log.error({ depositId: d.depositId, source, pspAmountMinor: String(outcome.amountMinor), pspCurrency: outcome.currency }, 'PSP reports a different amount for a deposit; not credited');
        return 'ignored';
      }
      const funding = outcome.fundingType ?? d.fundingType ?? 'unknown';
      if (!ALLOWED_FUNDING.has(funding)) {
        target = 'refused_credit_card';
        failureReason = funding === 'credit' ? 'credit-card' : 'funding-not-debit';
      }
    }
    if (!canMove(d.status, target)) {
      await learn(d, outcome);
      return 'ignored';
    }
    const updated = await repo.update(d.depositId, {
      status: target,
      ...(outcome.pspPaymentId ? { pspPaymentId: outcome.pspPaymentId } : {}),
      actionUrl: target === 'requires_action' ? (outcome.actionUrl ?? d.actionUrl) : null,
      ...(outcome.fundingType ? { fundingType: outcome.fundingType } : {}),
      ...(failureReason !== undefined || target === 'succeeded' ? { failureReason: target === 'succeeded' ? null : (failureReason ?? null) } : {}),
      ...(outcome.occurredAt ? { lastEventAt: outcome.occurredAt } : {}),
      settled: FINAL.has(target) || target === 'failed',
    });
    await effects(updated, outcome, source);
    log.info({ depositId: d.depositId, from: d.status, to: target, source }, 'deposit moved');
    return 'applied';
  }

  /**
   * News that does not move the deposit may still complete it: a webhook can overtake the answer to
   * createPayment, and only that answer carries the challenge URL.
   */
  async function learn(d: DepositRow, outcome: Outcome): Promise<void> {
    const update: DepositUpdate = {};
    if (outcome.pspPaymentId && !d.pspPaymentId) update.pspPaymentId = outcome.pspPaymentId;
    if (outcome.actionUrl && !d.actionUrl && d.status === 'requires_action' && outcome.status === 'requires_action') update.actionUrl = outcome.actionUrl;
    if (outcome.fundingType && !d.fundingType) update.fundingType = outcome.fundingType;
    if (Object.keys(update).length) await repo.update(d.depositId, update);
  }

  async function effects(d: DepositRow, outcome: Outcome, source: string): Promise<void> {
    if (d.status === 'succeeded') {
      await ledger.transfer({ transferId: d.depositId, kind: 'deposit', debit: clearing(d), credit: { type: 'player_wallet', ownerId: d.playerId, currency: d.currency }, amountMinor: d.amountMinor, metadata: { depositId: d.depositId, pspPaymentId: d.pspPaymentId, provider: d.provider } });
      await events.publish({ type: 'payments.deposit-succeeded.v1', subject: d.depositId, data: { ...eventData(d), fundingType: d.fundingType } });
      await deps.paymentMethods.enqueue(d, outcome, source);
    } else if (d.status === 'refused_credit_card') {
      // The money is at the PSP and owed back to the card: it never reaches the wallet.
      await ledger.transfer({ transferId: derivedId(d.depositId, 'refused'), kind: 'deposit-refused', debit: clearing(d), credit: refundsOwed(d), amountMinor: d.amountMinor, metadata: { depositId: d.depositId, pspPaymentId: d.pspPaymentId, reason: d.failureReason } });
      await repo.setRefund(d.depositId, 'requested');
      await jobs.enqueue(REFUND_JOB, { depositId: d.depositId });
      await events.publish({ type: 'payments.deposit-refused.v1', subject: d.depositId, data: { ...eventData(d), reason: d.failureReason } });
    } else if (d.status === 'failed') {
      await events.publish({ type: 'payments.deposit-failed.v1', subject: d.depositId, data: { ...eventData(d), reason: d.failureReason, source } });
    }
  }

  /** The refund of a refused deposit reached the card: the money owed goes back out of the PSP. */
  async function refunded(d: DepositRow, pspRefundId: string): Promise<'applied' | 'ignored'> {
    if (d.refundStatus === 'succeeded' || d.status !== 'refused_credit_card') return 'ignored';
    await ledger.transfer({ transferId: derivedId(d.depositId, 'refund'), kind: 'deposit-refund', debit: refundsOwed(d), credit: clearing(d), amountMinor: d.amountMinor, metadata: { depositId: d.depositId, pspRefundId } });
    await repo.setRefund(d.depositId, 'succeeded', pspRefundId);
    await events.publish({ type: 'payments.deposit-refunded.v1', subject: d.depositId, data: eventData(d) });
    return 'applied';
  }

  return { apply, refunded };
}

export type Outcomes = ReturnType<typeof createOutcomes>;
