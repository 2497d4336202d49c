/**
 * Withdrawal requests and their four-eyes approval. A request is checked by the compliance gate,
 * then holds its amount in the ledger (player_wallet → payout_clearing, pending) in the same
 * transaction that records it; small ones are approved at once and their payout job is enqueued in
 * that transaction too, larger ones wait for one or two finance operators other than the requester.
 */
import { DomainError, Problems, isDomainError, uuidv7, type Principal } from '@verity/kernel';
import type { AccountRef, ComplianceGate, Ledger, PartContext } from '../contract.ts';
import type { Decision, PayoutsRepository, Withdrawal, WithdrawalStatus } from './repository.ts';

export const WITHDRAWAL_HOLD_KIND = 'withdrawal-hold';
export const PAYOUT_JOB = 'payout';

export interface PayoutSettings {
  approvalThresholdMinor: bigint;
  secondApprovalThresholdMinor: bigint;
  maxMinor: bigint;
  holdTimeoutS: number;
}

export const walletOf = (playerId: string, currency: string): AccountRef => ({ type: 'player_wallet', ownerId: playerId, currency });
export const payoutClearingOf = (provider: string, currency: string): AccountRef => ({ type: 'payout_clearing', ownerId: provider, currency });

/** Approvers a withdrawal needs: by amount, and at least one whenever an operator started it. */
export function approvalsRequired(amountMinor: bigint, requesterKind: Withdrawal['requesterKind'], s: PayoutSettings): 0 | 1 | 2 {
  const tier = amountMinor >= s.secondApprovalThresholdMinor ? 2 : amountMinor >= s.approvalThresholdMinor ? 1 : 0;
  return requesterKind === 'operator' && tier === 0 ? 1 : tier;
}

/** Four eyes: never the requester, never the player paid, never the same operator twice. */
export function decisionRefusal(w: Withdrawal, operatorId: string, prior: readonly Decision[]): DomainError | undefined {
  if ((w.requesterKind === 'operator' && w.requesterId === operatorId) || w.playerId === operatorId) {
    return new DomainError('four-eyes-required', 403, 'Another operator must decide', 'The operator who requested a payout (or the player it pays) cannot approve or reject it.');
  }
  if (prior.some((d) => d.operatorId === operatorId)) {
    return new DomainError('already-decided', 409, 'You already decided this withdrawal', 'A second approval must come from a different operator.');
  }
  return undefined;
}

/** The ledger's answer when a hold was already resolved or has expired. */
export const isHoldGone = (err: unknown): boolean => isDomainError(err) && (err.code === 'transfer-not-pending' || err.code === 'transfer-expired');

export interface RequestInput {
  playerId: string;
  amountMinor: bigint;
  currency: string;
  requesterKind: Withdrawal['requesterKind'];
  requesterId: string;
  reason?: string;
}

export interface WithdrawalsDeps {
  ctx: PartContext;
  repo: PayoutsRepository;
  ledger: Ledger;
  gate: ComplianceGate;
  provider: string;
  /** The player's verified payout method at the PSP, or undefined when there is none. */
  destinationFor(playerId: string, currency: string): Promise<string | undefined>;
  settings: PayoutSettings;
}

export const withdrawalEventData = (w: Withdrawal) => ({ withdrawalId: w.id, playerId: w.playerId, amountMinor: w.amountMinor, currency: w.currency, status: w.status });

export function createWithdrawals(deps: WithdrawalsDeps) {
  const { ctx, repo, ledger, gate, settings } = deps;
  const { db } = ctx;

  async function request(input: RequestInput): Promise<Withdrawal> {
    if (input.amountMinor <= 0n) throw Problems.validation([{ pointer: '/body/amountMinor', detail: 'must be greater than 0' }]);
    if (input.amountMinor > settings.maxMinor) {
      throw new DomainError('withdrawal-too-large', 422, 'Withdrawal too large', `A single withdrawal is at most ${settings.maxMinor} minor units.`, { maxMinor: settings.maxMinor.toString() });
    }
    const decision = await gate.canWithdraw(input.playerId, input.amountMinor, input.currency);
    if (!decision.allowed) {
      throw new DomainError('withdrawal-refused', 403, 'Withdrawal refused', `This withdrawal cannot be made now: ${decision.reasons.join(', ')}.`, { reasons: decision.reasons });
    }
    const destination = await deps.destinationFor(input.playerId, input.currency);
    if (!destination) {
      throw new DomainError('no-payout-method', 409, 'No verified payment method', 'Withdrawals go back to a payment method you deposited with; make a deposit first.');
    }
    const required = approvalsRequired(input.amountMinor, input.requesterKind, settings);
    return db.tx(async () => {
      const id = uuidv7();
      const holdTransferId = uuidv7();
      await ledger.reserve({
        transferId: holdTransferId,
        kind: WITHDRAWAL_HOLD_KIND,
        debit: walletOf(input.playerId, input.currency),
        credit: payoutClearingOf(deps.provider, input.currency),
        amountMinor: input.amountMinor,
        timeoutS: settings.holdTimeoutS,
        metadata: { withdrawalId: id, reference: id },
      });
      const status: WithdrawalStatus = required > 0 ? 'awaiting_approval' : 'approved';
      const w = await repo.insert({
        id, playerId: input.playerId, amountMinor: input.amountMinor, currency: input.currency, provider: deps.provider, destination, status,
        requesterKind: input.requesterKind, requesterId: input.requesterId, reason: input.reason ?? null, approvalsRequired: required, holdTransferId,
      });
      await ctx.events.publish({ type: 'payments.withdrawal-requested.v1', subject: id, data: { ...withdrawalEventData(w), approvalsRequired: required } });
      if (status === 'approved') await ctx.jobs.enqueue(PAYOUT_JOB, { withdrawalId: id });
      return w;
    });
  }

  /** The hold can lapse while a withdrawal waits (expiry timer): then it is cancelled, not paid. */
  async function holdIsPending(w: Withdrawal): Promise<boolean> {
    const hold = await ledger.getTransfer(w.holdTransferId);
    if (hold?.state !== 'pending') return false;
    return !hold.expiresAt || hold.expiresAt > (await db.now());
  }

  async function cancelLapsed(w: Withdrawal): Promise<Withdrawal> {
    const cancelled = await repo.update(w.id, 'cancelled', { closedAt: await db.now(), failureReason: 'hold-lapsed' });
    await ctx.events.publish({ type: 'payments.withdrawal-cancelled.v1', subject: w.id, data: withdrawalEventData(cancelled) });
    return cancelled;
  }

  async function lockForDecision(id: string, operator: Principal): Promise<{ w: Withdrawal; prior: Decision[] }> {
    const w = await repo.lock(id);
    if (!w) throw Problems.notFound('withdrawal');
    if (w.status !== 'awaiting_approval') {
      throw new DomainError('withdrawal-not-awaiting-approval', 409, 'Not awaiting approval', `The withdrawal is ${w.status}.`, { status: w.status });
    }
    const prior = await repo.decisions(id);
    const refusal = decisionRefusal(w, operator.subject, prior);
    if (refusal) throw refusal;
    return { w, prior };
  }

  async function approve(id: string, operator: Principal, actor: string, note?: string): Promise<Withdrawal> {
    return db.tx(async () => {
      const { w, prior } = await lockForDecision(id, operator);
      if (!(await holdIsPending(w))) return cancelLapsed(w);
      await repo.insertDecision({ withdrawalId: id, operatorId: operator.subject, decision: 'approved', note: note ?? null });
      const approvals = prior.filter((d) => d.decision === 'approved').length + 1;
      await ctx.audit.record({ actor, action: 'payments.withdrawal-approved', subject: `withdrawal:${id}`, ...(note ? { reason: note } : {}), data: { amountMinor: w.amountMinor.toString(), currency: w.currency, approvals, approvalsRequired: w.approvalsRequired } });
      if (approvals < w.approvalsRequired) return repo.update(id, 'awaiting_approval');
      const approved = await repo.update(id, 'approved', { decidedAt: await db.now() });
      await ctx.events.publish({ type: 'payments.withdrawal-approved.v1', subject: id, data: withdrawalEventData(approved) });
      await ctx.jobs.enqueue(PAYOUT_JOB, { withdrawalId: id });
      return approved;
    });
  }

  async function reject(id: string, operator: Principal, actor: string, note: string): Promise<Withdrawal> {
    return db.tx(async () => {
      const { w } = await lockForDecision(id, operator);
      await repo.insertDecision({ withdrawalId: id, operatorId: operator.subject, decision: 'rejected', note });
      await releaseHold(w, 'withdrawal-rejected');
      const now = await db.now();
      const rejected = await repo.update(id, 'rejected', { decidedAt: now, closedAt: now, failureReason: 'rejected' });
      await ctx.audit.record({ actor, action: 'payments.withdrawal-rejected', subject: `withdrawal:${id}`, reason: note, data: { amountMinor: w.amountMinor.toString(), currency: w.currency } });
      await ctx.events.publish({ type: 'payments.withdrawal-rejected.v1', subject: id, data: withdrawalEventData(rejected) });
      return rejected;
    });
  }

  /** Voids the hold; one that is no longer pending (lapsed) has nothing left to release. */
  async function releaseHold(w: Withdrawal, reason: string): Promise<void> {
    try {
      await ledger.void({ transferId: uuidv7(), pendingTransferId: w.holdTransferId, reason });
    } catch (err) {
      if (!isHoldGone(err)) throw err;
      ctx.log.warn({ withdrawalId: w.id }, 'withdrawal hold was no longer pending when released');
    }
  }

  return { request, approve, reject, releaseHold, holdIsPending, cancelLapsed, decisions: (id: string) => repo.decisions(id), decisionsOf: (ids: readonly string[]) => repo.decisionsOf(ids), get: (id: string) => repo.get(id), list: repo.list };
}

export type Withdrawals = ReturnType<typeof createWithdrawals>;
