/**
 * Returning a self-excluded player's balance (LCCP SR 3.5.3; compliance ADR 0010). Compliance
 * publishes `compliance.self-excluded.v1`; this subscriber withdraws each of the player's wallet
 * balances (what is available) to the payment method they deposited with, as a withdrawal made on
 * the player's behalf (reason `self-exclusion-return`), through the normal withdrawal path: the hold,
 * the approvals finance needs above the thresholds (four eyes), the payout jobs.
 *
 * Compliance refuses a self-excluded player's own withdrawals. For this return, and only for it, the
 * gate lets a refusal through when every reason is `self-excluded` or `time-out` — the refusals that
 * exist to stop gambling, not to keep money. Any other reason (sanctions hold, open investigation,
 * not verified, under age) or no payout method keeps the money where it is, is audited, and opens a
 * payout-exception case for a person to decide.
 */
import { isDomainError, type CloudEvent } from '@verity/kernel';
import type { ComplianceGate, ModulePart, PartContext, PspAdapter } from '../contract.ts';
import type { LedgerEngine } from '../ledger/ledger.ts';
import { createPayoutsRepository } from './repository.ts';
import { payoutSettings } from './setup.ts';
import { createWithdrawals } from './withdrawals.ts';

export const SELF_EXCLUDED_EVENT = 'compliance.self-excluded.v1';
export const RETURN_REASON = 'self-exclusion-return';
/** Refusals that stop play, not payouts: the only ones this return may pass. */
const BYPASSABLE = new Set(['self-excluded', 'time-out']);
/** Refusals that mean "a person must look at this" rather than "try again later". */
const BLOCKED = new Set(['withdrawal-refused', 'no-payout-method', 'insufficient-funds', 'withdrawal-too-large']);
const PLAYER_ID = /^[A-Za-z0-9-]{1,64}$/;
const WALLETS_MAX = 20;

/** The gate for one return: the real answer, except a refusal made only of play-stopping reasons for this player. */
export function returnGate(gate: ComplianceGate, playerId: string, passed: string[]): ComplianceGate {
  return {
    ...gate,
    async canWithdraw(pid, amountMinor, currency) {
      const decision = await gate.canWithdraw(pid, amountMinor, currency);
      if (decision.allowed || pid !== playerId || decision.reasons.length === 0 || !decision.reasons.every((r) => BYPASSABLE.has(r))) return decision;
      passed.push(...decision.reasons);
      return { allowed: true, reasons: [] };
    },
  };
}

export function setupSelfExclusionReturn(ctx: PartContext, deps: { ledger: LedgerEngine; psp: PspAdapter; gate: ComplianceGate }): ModulePart {
  const repo = createPayoutsRepository(ctx.db);
  const settings = payoutSettings(ctx);

  /** One withdrawal of at most the largest allowed; false when it was blocked (a case is open). */
  async function returnPart(playerId: string, currency: string, amount: bigint): Promise<boolean> {
    const passed: string[] = [];
    const withdrawals = createWithdrawals({
      ctx, repo, ledger: deps.ledger, gate: returnGate(deps.gate, playerId, passed), settings, provider: deps.psp.name,
      destinationFor: (p, c) => repo.payoutDestination(p, c, deps.psp.name),
    });
    try {
      const w = await withdrawals.request({ playerId, amountMinor: amount, currency, requesterKind: 'player', requesterId: playerId, reason: RETURN_REASON });
      await ctx.audit.record({
        actor: 'system', action: 'payments.self-exclusion-balance-returned', subject: `player:${playerId}`,
        data: { withdrawalId: w.id, amountMinor: amount.toString(), currency, status: w.status, gateReasonsPassed: [...new Set(passed)] },
      });
      return true;
    } catch (err) {
      if (!isDomainError(err) || !BLOCKED.has(err.code)) throw err;
      const reasons = Array.isArray(err.extensions.reasons) ? (err.extensions.reasons as string[]) : [err.code];
      await ctx.audit.record({ actor: 'system', action: 'payments.self-exclusion-return-blocked', subject: `player:${playerId}`, data: { amountMinor: amount.toString(), currency, reasons } });
      await deps.gate.openCase?.({
        type: 'payout-exception', subject: `player:${playerId}`, summary: 'Self-excluded player’s balance could not be returned automatically',
        data: { playerId, amountMinor: amount.toString(), currency, reasons, kind: RETURN_REASON },
      });
      return false;
    }
  }

  async function returnWallet(playerId: string, currency: string, availableMinor: bigint): Promise<void> {
    for (let left = availableMinor; left > 0n;) {
      const part = left > settings.maxMinor ? settings.maxMinor : left;
      if (!(await returnPart(playerId, currency, part))) return;
      left -= part;
    }
  }

  return {
    subscribers: [{
      name: 'self-exclusion-return',
      events: [SELF_EXCLUDED_EVENT],
      retryLimit: 8,
      async handle(event: CloudEvent) {
        const playerId = (event.data as { playerId?: unknown }).playerId;
        if (typeof playerId !== 'string' || !PLAYER_ID.test(playerId)) {
          ctx.log.warn({ eventId: event.id }, `${SELF_EXCLUDED_EVENT} without a player id; ignored`);
          return;
        }
        const { items } = await deps.ledger.listAccounts({ type: 'player_wallet', ownerId: playerId, limit: WALLETS_MAX });
        for (const wallet of items) {
          const balance = await deps.ledger.balance(wallet.account);
          if (balance.availableMinor > 0n) await returnWallet(playerId, wallet.account.currency, balance.availableMinor);
        }
      },
    }],
  };
}
