/**
 * The checks before money moves (identity verified, sanctions clear, no hold): the compliance
 * module's service when the platform has one, else a default that allows deposits (the player's
 * own deposit limits still apply) and refuses every withdrawal, so nothing unsafe ships.
 */
import type { ComplianceGate, CompliancePaymentsService, GateDecision, PartContext } from './contract.ts';

const unavailable = (): GateDecision => ({ allowed: false, reasons: ['compliance-unavailable'] });
const REASON_MAX = 20;
const REASON = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The compliance service, looked up on every call: a module set up after payments (or deployed in
 * another process later) is found without a restart. `ctx.service` throws when the platform knows
 * no such module; that, and only that, means "absent".
 */
function lookup(ctx: PartContext): CompliancePaymentsService | undefined {
  try {
    return ctx.service<CompliancePaymentsService>('compliance');
  } catch {
    return undefined;
  }
}

/** A decision from another module is data: keep it well-formed (and refuse when it is not). */
function sanitize(decision: GateDecision | undefined): GateDecision {
  if (!decision || typeof decision.allowed !== 'boolean' || !Array.isArray(decision.reasons)) return unavailable();
  const reasons = decision.reasons.filter((r): r is string => typeof r === 'string' && REASON.test(r)).slice(0, REASON_MAX);
  if (!decision.allowed && reasons.length === 0) reasons.push('compliance-refused');
  return { allowed: decision.allowed, reasons };
}

export function resolveComplianceGate(ctx: PartContext): ComplianceGate {
  const log = ctx.log.child({ component: 'compliance-gate' });
  let announced: 'present' | 'absent' | undefined;
  const service = () => {
    const s = lookup(ctx);
    const now = s ? 'present' : 'absent';
    if (announced !== now) {
      announced = now;
      if (s) log.info('compliance module found: it decides deposits and withdrawals');
      else log.warn('no compliance module: withdrawals are refused (compliance-unavailable)');
    }
    return s;
  };

  // A compliance module that cannot answer cannot vouch for the player: refuse (fail closed).
  const ask = async (what: 'canDeposit' | 'canWithdraw', s: CompliancePaymentsService, input: { playerId: string; amountMinor: bigint; currency: string }) => {
    try {
      return sanitize(await s[what](input));
    } catch (err) {
      log.error({ err, check: what }, 'compliance check failed; refusing');
      return unavailable();
    }
  };

  return {
    async canDeposit(playerId, amountMinor, currency) {
      const s = service();
      return s ? ask('canDeposit', s, { playerId, amountMinor, currency }) : { allowed: true, reasons: [] };
    },
    async canWithdraw(playerId, amountMinor, currency) {
      const s = service();
      return s ? ask('canWithdraw', s, { playerId, amountMinor, currency }) : unavailable();
    },
    async openCase(input) {
      const s = service();
      if (!s) return undefined;
      return (await s.openCase(input)).caseId;
    },
  };
}
