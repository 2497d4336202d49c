/**
 * Deposit limits (UK RTS 12): the player's daily, weekly and monthly limits, each over a rolling
 * window ending now. A tighter limit applies at once; a looser one (or a removal) after a 24-hour
 * cooling-off; a newer request replaces a pending one; 0 is a valid limit; the lowest applicable
 * limit wins. Callers hold the player's limit row lock (repository.lockPlayer) around these.
 */
import { DomainError } from '@verity/kernel';
import { PERIODS, WINDOW_HOURS, type DepositRepository, type LimitState, type Period } from './repository.ts';

export type LimitRequest = Partial<Record<Period, bigint | null>>;

/** When a requested limit takes effect, given the one in force. */
export function whenEffective(active: bigint | null, requested: bigint | null): 'unchanged' | 'now' | 'after-cooling-off' {
  if (active === requested) return 'unchanged';
  if (requested === null) return 'after-cooling-off';
  if (active === null) return 'now';
  return requested < active ? 'now' : 'after-cooling-off';
}

/** The limit a deposit of `amountMinor` would break, the tightest first; undefined when it fits. */
export function breachedLimit(states: readonly LimitState[], amountMinor: bigint): { period: Period; limitMinor: bigint; remainingMinor: bigint } | undefined {
  let worst: { period: Period; limitMinor: bigint; remainingMinor: bigint } | undefined;
  for (const s of states) {
    if (s.activeMinor === null) continue;
    const remaining = s.activeMinor - s.usedMinor > 0n ? s.activeMinor - s.usedMinor : 0n;
    if (amountMinor > remaining && (!worst || remaining < worst.remainingMinor)) worst = { period: s.period, limitMinor: s.activeMinor, remainingMinor: remaining };
  }
  return worst;
}

export function limitReached(b: { period: Period; limitMinor: bigint; remainingMinor: bigint }, currency: string): DomainError {
  const windowText = { daily: '24 hours', weekly: '7 days', monthly: '30 days' }[b.period];
  return new DomainError(
    'deposit-limit-reached',
    409,
    'Deposit limit reached',
    `This deposit would go over your ${b.period} deposit limit of ${b.limitMinor} (minor units, ${currency}). You can deposit up to ${b.remainingMinor} more in the ${windowText} ending now.`,
    { limit: b.period, limitMinor: b.limitMinor.toString(), remainingMinor: b.remainingMinor.toString(), currency, windowHours: WINDOW_HOURS[b.period] },
  );
}

/** Throws `deposit-limit-reached` (409) when the deposit does not fit every limit in force. */
export async function enforceLimits(repo: DepositRepository, playerId: string, currency: string, amountMinor: bigint): Promise<void> {
  const breached = breachedLimit(await repo.limitState(playerId, currency), amountMinor);
  if (breached) throw limitReached(breached, currency);
}

export interface AppliedChange {
  period: Period;
  amountMinor: bigint | null;
  effectiveAt: Date;
  immediate: boolean;
}

/** Applies a player's request, period by period; returns the changes recorded. */
export async function changeLimits(repo: DepositRepository, playerId: string, currency: string, request: LimitRequest): Promise<AppliedChange[]> {
  const states = new Map((await repo.limitState(playerId, currency)).map((s) => [s.period, s]));
  const applied: AppliedChange[] = [];
  for (const period of PERIODS) {
    if (!(period in request)) continue;
    const requested = request[period] ?? null;
    const state = states.get(period)!;
    const when = whenEffective(state.activeMinor, requested);
    // Asking again for the same looser limit keeps its cooling-off clock running.
    if (when === 'after-cooling-off' && state.pendingChangeId !== null && state.pendingMinor === requested) continue;
    await repo.cancelPendingLimit(playerId, currency, period);
    if (when === 'unchanged') continue;
    const effectiveAt = await repo.insertLimitChange(playerId, currency, period, requested, when === 'after-cooling-off');
    applied.push({ period, amountMinor: requested, effectiveAt, immediate: when === 'now' });
  }
  return applied;
}
