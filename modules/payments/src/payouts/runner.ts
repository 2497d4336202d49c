/**
 * Sending approved withdrawals to the PSP and settling what it answers. Every send of a withdrawal
 * carries the same idempotency key (its id), so the PSP pays it at most once however often we ask.
 * An outcome we could not learn (timeout, lost connection) makes the withdrawal `unknown`; the
 * settle job then asks the PSP by reference and only re-sends, under that same key, when the PSP
 * says it never saw it. PSP answers, status queries and webhooks all end in `apply`, which holds
 * the row lock and moves the money in the same transaction as the status.
 */
import { isDomainError, uuidv7, type Logger } from '@verity/kernel';
import type { AccountRef, Ledger, PartContext, PayoutResult, PspAdapter, PspEvent } from '../contract.ts';
import type { FinanceExceptions, RaiseInput } from '../reconciliation/exceptions.ts';
import type { FinanceExceptionRecord } from '../reconciliation/repository.ts';
import { IN_FLIGHT, type PayoutsRepository, type Withdrawal } from './repository.ts';
import { isHoldGone, payoutClearingOf, walletOf, withdrawalEventData, type Withdrawals } from './withdrawals.ts';

export const SETTLE_JOB = 'payout-settle';
export const PAYOUT_POST_KIND = 'withdrawal-payout';
export const PAYOUT_SETTLEMENT_KIND = 'payout-settlement';
export const PAYOUT_REVERSAL_KIND = 'payout-reversal';
export const PAYOUT_LATE_DEBIT_KIND = 'payout-late-debit';

const pspClearingOf = (provider: string, currency: string): AccountRef => ({ type: 'psp_clearing', ownerId: provider, currency });
const REASON_MAX = 500;

export interface RunnerDeps {
  ctx: PartContext;
  repo: PayoutsRepository;
  ledger: Ledger;
  psp: PspAdapter;
  withdrawals: Withdrawals;
  exceptions: FinanceExceptions;
  settleDelayS: number;
  /** How long a send may be in progress (the payout job's timeout): a settle job does not race it. */
  sendGraceS: number;
}

/** Where an outcome came from: a direct answer, a status query, or a webhook (with its time). */
type Source = { kind: 'response' } | { kind: 'query' } | { kind: 'webhook'; eventId: string; occurredAt: Date };

export function createPayoutRunner(deps: RunnerDeps) {
  const { ctx, repo, ledger, psp, withdrawals, exceptions } = deps;
  const { db } = ctx;
  const log: Logger = ctx.log.child({ component: 'payouts' });

  const scheduleSettle = (id: string, delayS = deps.settleDelayS) => ctx.jobs.enqueue(SETTLE_JOB, { withdrawalId: id }, { startAfter: delayS, singletonKey: id });

  /** Exceptions raised inside a transaction get their compliance case after it commits. */
  async function withCases<T>(fn: (raise: (input: RaiseInput) => Promise<void>) => Promise<T>): Promise<T> {
    const raised: FinanceExceptionRecord[] = [];
    const result = await db.tx(() => fn(async (input) => {
      const e = await exceptions.raise(input);
      if (e) raised.push(e);
    }));
    for (const e of raised) await exceptions.openCase(e);
    return result;
  }

  /**
   * Claims the withdrawal for a send: from `approved` (first send) or, when the PSP has no record of
   * it, from `submitting`/`unknown`. The hold must still be pending: without it no money may leave.
   */
  async function claimForSend(id: string, from: readonly Withdrawal['status'][]): Promise<Withdrawal | undefined> {
    return db.tx(async () => {
      const w = await repo.lock(id);
      if (!w || !from.includes(w.status)) return undefined;
      if (!(await withdrawals.holdIsPending(w))) {
        await withdrawals.cancelLapsed(w);
        log.warn({ withdrawalId: id }, 'withdrawal hold lapsed before the payout was sent; cancelled');
        return undefined;
      }
      return repo.markSubmitting(id);
    });
  }

  const createPayout = (w: Withdrawal) =>
    psp.createPayout({ idempotencyKey: w.id, reference: w.id, amountMinor: w.amountMinor, currency: w.currency, playerId: w.playerId, destination: w.destination });

  /** The `payout` job: the first send of an approved withdrawal. */
  async function submit(id: string): Promise<void> {
    const current = await repo.get(id);
    if (current && IN_FLIGHT.includes(current.status)) return settle(id); // a redelivered or replayed job: ask first
    const w = await claimForSend(id, ['approved']);
    if (w) await send(w, { whenUnavailable: 'approved', throwWhenUnknown: false });
  }

  /**
   * One request to the PSP and what follows from its answer. `psp-unavailable` means the request
   * never left (breaker open, bulkhead full): the withdrawal goes back to where it was and the job
   * retries. `psp-rejected` is a refusal for good: the payout failed. Anything else may have
   * reached the PSP: `unknown`, for the settle job.
   */
  async function send(w: Withdrawal, opts: { whenUnavailable: 'approved' | 'unknown'; throwWhenUnknown: boolean }): Promise<void> {
    let result: PayoutResult;
    try {
      result = await createPayout(w);
    } catch (err) {
      if (isDomainError(err) && err.code === 'psp-unavailable') {
        await db.tx(async () => {
          if ((await repo.lock(w.id))?.status === 'submitting') await repo.update(w.id, opts.whenUnavailable);
        });
        throw err;
      }
      // A first send refused is a failed payout. A re-send refused may be the PSP turning down a
      // duplicate of a request it is still working on: not proof that nothing will be paid.
      if (isDomainError(err) && err.code === 'psp-rejected' && opts.whenUnavailable === 'approved') {
        await apply(w.id, { pspPayoutId: '', status: 'failed', failureReason: `rejected by the PSP: ${err.detail}` }, { kind: 'response' });
        return;
      }
      // The settle job that sent it retries itself; a first send hands over to a settle job.
      await markUnknown(w, err, !opts.throwWhenUnknown);
      if (opts.throwWhenUnknown) throw err;
      return;
    }
    await apply(w.id, result, { kind: 'response' });
  }

  async function markUnknown(w: Withdrawal, err: unknown, schedule: boolean): Promise<void> {
    log.warn({ err, withdrawalId: w.id, attempt: w.attempts }, 'payout outcome unknown; the PSP is asked by reference before anything is re-sent');
    await db.tx(async () => {
      const locked = await repo.lock(w.id);
      if (locked?.status === 'submitting') await repo.update(w.id, 'unknown');
      if (schedule) await scheduleSettle(w.id);
    });
  }

  /**
   * The `payout-settle` job: learns the outcome of a payout in flight. Throws when the PSP cannot be
   * asked (the job retries with backoff, then lands in the DLQ for `verity replay`).
   */
  async function settle(id: string): Promise<void> {
    const w = await repo.get(id);
    if (!w || !IN_FLIGHT.includes(w.status)) return;
    const found = await psp.findPayoutByReference(id);
    if (found) {
      await apply(id, found, { kind: 'query' });
      if (found.status === 'pending') await scheduleSettle(id, w.exceptionAt ? Math.max(deps.settleDelayS, 900) : deps.settleDelayS);
      return;
    }
    // A send still in progress (its job has not timed out yet) is left to finish.
    if (w.status === 'submitting' && (await db.now()).getTime() - w.updatedAt.getTime() < deps.sendGraceS * 1000) {
      await scheduleSettle(id, deps.sendGraceS);
      return;
    }
    // The PSP never saw it (or the first request is still on its way: the same key makes it one payout).
    const claimed = await claimForSend(id, ['submitting', 'unknown', 'processing']);
    if (claimed) await send(claimed, { whenUnavailable: 'unknown', throwWhenUnknown: true });
  }

  /** Applies a PSP outcome under the row lock; stale or repeated outcomes change nothing. */
  async function apply(id: string, result: PayoutResult, source: Source): Promise<void> {
    await withCases(async (raise) => {
      const w = await repo.lock(id);
      if (!w) return;
      if (source.kind === 'webhook') {
        if (w.lastPspEventAt && source.occurredAt <= w.lastPspEventAt) {
          log.info({ withdrawalId: id, eventId: source.eventId }, 'payout event older than one already applied; ignored');
          return;
        }
        await repo.update(id, w.status, { lastPspEventAt: source.occurredAt });
      }
      const facts = { pspPayoutId: result.pspPayoutId, source: source.kind };
      if (result.status === 'pending') {
        if (w.status === 'submitting' || w.status === 'unknown') {
          await repo.update(id, 'processing', { pspPayoutId: result.pspPayoutId });
          await scheduleSettle(id); // the webhook usually comes first; this asks if it does not
        }
      } else if (result.status === 'paid') {
        await applyPaid(w, result, raise, facts);
      } else {
        await applyFailed(w, result, raise, facts);
      }
    });
  }

  async function applyPaid(w: Withdrawal, result: PayoutResult, raise: (i: RaiseInput) => Promise<void>, facts: Record<string, unknown>): Promise<void> {
    if (w.status === 'paid' || w.status === 'reversed') return;
    if (!IN_FLIGHT.includes(w.status) && w.status !== 'approved') {
      // Money left although we had closed the withdrawal (voided its hold): finance must look.
      await raise({ kind: 'payout-event-mismatch', subject: w.id, currency: w.currency, details: { withdrawalId: w.id, status: w.status, pspStatus: 'paid', amountMinor: w.amountMinor, ...facts } });
      return;
    }
    const metadata = { withdrawalId: w.id, reference: w.id, pspPayoutId: result.pspPayoutId };
    await postHold(w, metadata, raise);
    // The PSP paid it from our balance there: payout_clearing settles against psp_clearing.
    await ledger.transfer({
      transferId: uuidv7(), kind: PAYOUT_SETTLEMENT_KIND, metadata,
      debit: payoutClearingOf(w.provider, w.currency), credit: pspClearingOf(w.provider, w.currency), amountMinor: w.amountMinor,
    });
    const paid = await repo.update(w.id, 'paid', { paidAt: await db.now(), closedAt: await db.now(), pspPayoutId: result.pspPayoutId, failureReason: null });
    await ctx.events.publish({ type: 'payments.withdrawal-paid.v1', subject: w.id, data: withdrawalEventData(paid) });
  }

  /** Posts the hold; if it lapsed meanwhile, the money is taken from the wallet by a new transfer. */
  async function postHold(w: Withdrawal, metadata: Record<string, unknown>, raise: (i: RaiseInput) => Promise<void>): Promise<void> {
    try {
      await ledger.post({ transferId: uuidv7(), pendingTransferId: w.holdTransferId, metadata });
      return;
    } catch (err) {
      if (!isHoldGone(err)) throw err;
    }
    try {
      await ledger.transfer({ transferId: uuidv7(), kind: PAYOUT_LATE_DEBIT_KIND, metadata, debit: walletOf(w.playerId, w.currency), credit: payoutClearingOf(w.provider, w.currency), amountMinor: w.amountMinor });
      await raise({ kind: 'payout-hold-lost', subject: w.id, currency: w.currency, details: { withdrawalId: w.id, amountMinor: w.amountMinor, recovered: true } });
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'insufficient-funds') throw err;
      // Paid out but no longer covered by the wallet: the house carries it until finance recovers it.
      await ledger.transfer({ transferId: uuidv7(), kind: PAYOUT_LATE_DEBIT_KIND, metadata, debit: { type: 'house_cash', ownerId: 'house', currency: w.currency }, credit: payoutClearingOf(w.provider, w.currency), amountMinor: w.amountMinor });
      await raise({ kind: 'payout-hold-lost', subject: w.id, currency: w.currency, details: { withdrawalId: w.id, amountMinor: w.amountMinor, recovered: false } });
    }
  }

  async function applyFailed(w: Withdrawal, result: PayoutResult, raise: (i: RaiseInput) => Promise<void>, facts: Record<string, unknown>): Promise<void> {
    const reason = (result.failureReason ?? 'payout-failed').slice(0, REASON_MAX);
    if (w.status === 'paid') return reverse(w, reason, raise, facts);
    if (!IN_FLIGHT.includes(w.status) && w.status !== 'approved') return;
    await withdrawals.releaseHold(w, 'payout-failed');
    const failed = await repo.update(w.id, 'failed', { closedAt: await db.now(), failureReason: reason, ...(result.pspPayoutId ? { pspPayoutId: result.pspPayoutId } : {}) });
    await ctx.events.publish({ type: 'payments.withdrawal-failed.v1', subject: w.id, data: { ...withdrawalEventData(failed), failureReason: reason } });
    await raise({ kind: 'payout-failed', subject: w.id, currency: w.currency, details: { withdrawalId: w.id, amountMinor: w.amountMinor, failureReason: reason, ...facts } });
  }

  /** Paid, then returned by the PSP (a bounced bank transfer): the money comes back by a new transfer. */
  async function reverse(w: Withdrawal, reason: string, raise: (i: RaiseInput) => Promise<void>, facts: Record<string, unknown>): Promise<void> {
    const metadata = { withdrawalId: w.id, reference: w.id, pspPayoutId: w.pspPayoutId, reason };
    await ledger.transfer({ transferId: uuidv7(), kind: PAYOUT_REVERSAL_KIND, metadata, debit: pspClearingOf(w.provider, w.currency), credit: walletOf(w.playerId, w.currency), amountMinor: w.amountMinor });
    const reversed = await repo.update(w.id, 'reversed', { failureReason: reason });
    await ctx.events.publish({ type: 'payments.withdrawal-reversed.v1', subject: w.id, data: { ...withdrawalEventData(reversed), failureReason: reason } });
    await raise({ kind: 'payout-returned', subject: w.id, currency: w.currency, details: { withdrawalId: w.id, amountMinor: w.amountMinor, failureReason: reason, ...facts } });
  }

  /** Webhook entry (inside the webhook's transaction): payout.paid / payout.failed. */
  async function onPayoutEvent(event: PspEvent): Promise<'applied' | 'ignored' | 'unknown-reference'> {
    if (event.type !== 'payout.paid' && event.type !== 'payout.failed') return 'ignored';
    const w = /^[0-9a-f-]{36}$/i.test(event.reference) ? await repo.get(event.reference) : undefined;
    if (!w) return 'unknown-reference';
    if (event.amountMinor !== w.amountMinor || event.currency !== w.currency) {
      await withCases((raise) => raise({
        kind: 'payout-event-mismatch', subject: w.id, currency: w.currency,
        details: { withdrawalId: w.id, eventId: event.eventId, amountMinor: w.amountMinor, eventAmountMinor: event.amountMinor, eventCurrency: event.currency },
      }));
      return 'ignored';
    }
    const result: PayoutResult = event.type === 'payout.paid'
      ? { pspPayoutId: event.pspObjectId, status: 'paid' }
      : { pspPayoutId: event.pspObjectId, status: 'failed', ...(event.failureReason ? { failureReason: event.failureReason } : {}) };
    await apply(w.id, result, { kind: 'webhook', eventId: event.eventId, occurredAt: event.occurredAt });
    return 'applied';
  }

  return { submit, settle, apply, onPayoutEvent, scheduleSettle, withCases };
}

export type PayoutRunner = ReturnType<typeof createPayoutRunner>;
