/**
 * Eligibility and safer-gambling rules (LCCP SR 3.5.3, RTS 12), pure: which reasons refuse which
 * action, self-exclusion and time-out periods, and purchase spend limits. No I/O.
 */
import { DomainError } from '@verity/kernel';
import type { EligibilityReason, GateDecision, HoldKind } from '../contract.ts';

export const ACTIONS = ['deposit', 'purchase', 'withdraw'] as const;
export type Action = (typeof ACTIONS)[number];

/** The order reasons are reported in (stable: clients and tests rely on it). */
export const REASON_ORDER: readonly EligibilityReason[] = [
  'account-closed', 'under-age', 'not-verified', 'self-excluded', 'time-out', 'sanctions-hold', 'open-investigation', 'limit-reached',
];

/**
 * Which reasons refuse which action. A time-out stops play and deposits, not taking money out; a
 * closed account is still paid out; a payout hold stops withdrawals only. A self-excluded player's
 * balance is returned by payments (ADR 0010), so their own withdrawal requests are refused.
 */
const APPLIES: Readonly<Record<EligibilityReason, readonly Action[]>> = {
  'account-closed': ['deposit', 'purchase'],
  'under-age': ['deposit', 'purchase', 'withdraw'],
  'not-verified': ['deposit', 'purchase', 'withdraw'],
  'self-excluded': ['deposit', 'purchase', 'withdraw'],
  'time-out': ['deposit', 'purchase'],
  'sanctions-hold': ['deposit', 'purchase', 'withdraw'],
  'open-investigation': ['deposit', 'purchase', 'withdraw'],
  'limit-reached': ['purchase'],
};

export interface PlayerFacts {
  verificationStatus: string;
  ageVerified: boolean;
  underAge: boolean;
  closed: boolean;
  /** Own self-exclusion in force, or a match on the national register. */
  selfExcluded: boolean;
  timedOut: boolean;
  holds: readonly HoldKind[];
  /** Checked against the national self-exclusion register at least once (when one is configured). */
  registerChecked: boolean;
}

/** Facts of a player compliance has never heard of: not verified, nothing else. */
export const UNKNOWN_PLAYER: PlayerFacts = { verificationStatus: 'not_started', ageVerified: false, underAge: false, closed: false, selfExcluded: false, timedOut: false, holds: [], registerChecked: false };

/**
 * `registerRequired`: a national register is configured, and a player nobody has checked against it
 * yet (it was down at registration) counts as not verified until the re-check runs (fail closed).
 */
export function decide(action: Action, f: PlayerFacts, limit?: { breached: boolean; remainingMinor?: bigint }, registerRequired = false): GateDecision {
  const present = new Set<EligibilityReason>();
  if (f.closed) present.add('account-closed');
  if (f.underAge) present.add('under-age');
  if (f.verificationStatus !== 'approved' || !f.ageVerified || (registerRequired && !f.registerChecked)) present.add('not-verified');
  if (f.selfExcluded) present.add('self-excluded');
  if (f.timedOut) present.add('time-out');
  if (f.holds.includes('sanctions')) present.add('sanctions-hold');
  if (f.holds.includes('investigation') || (action === 'withdraw' && f.holds.includes('payout'))) present.add('open-investigation');
  if (limit?.breached) present.add('limit-reached');
  const reasons = REASON_ORDER.filter((r) => present.has(r) && APPLIES[r].includes(action));
  const decision: GateDecision = { allowed: reasons.length === 0, reasons };
  if (limit?.remainingMinor !== undefined) decision.remainingMinor = limit.remainingMinor;
  return decision;
}

// ───────────────────────────── Self-exclusion and time-outs ─────────────────────────────

export const SELF_EXCLUSION_MONTHS_MIN = 6;
export const SELF_EXCLUSION_MONTHS_MAX = 60;
export const TIME_OUT_HOURS_MIN = 24;
export const TIME_OUT_HOURS_MAX = 6 * 7 * 24;

/** `months` calendar months after `from` (UTC), clamped to the month's last day (31 Aug + 6 → 28/29 Feb). */
export function addMonths(from: Date, months: number): Date {
  const d = new Date(from.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

export function selfExclusionEnd(from: Date, months: number): Date {
  if (!Number.isInteger(months) || months < SELF_EXCLUSION_MONTHS_MIN || months > SELF_EXCLUSION_MONTHS_MAX) {
    throw new DomainError('self-exclusion-period-invalid', 400, 'Invalid self-exclusion period', `A self-exclusion lasts ${SELF_EXCLUSION_MONTHS_MIN} months to 5 years (${SELF_EXCLUSION_MONTHS_MIN}..${SELF_EXCLUSION_MONTHS_MAX} months).`);
  }
  return addMonths(from, months);
}

export function timeOutEnd(from: Date, hours: number): Date {
  if (!Number.isInteger(hours) || hours < TIME_OUT_HOURS_MIN || hours > TIME_OUT_HOURS_MAX) {
    throw new DomainError('time-out-period-invalid', 400, 'Invalid time-out period', `A time-out lasts 24 hours to 6 weeks (${TIME_OUT_HOURS_MIN}..${TIME_OUT_HOURS_MAX} hours).`);
  }
  return new Date(from.getTime() + hours * 3_600_000);
}

/**
 * An extension moves the end at least this much later: a repeated request (a retry, a double tap)
 * for the same period is not an extension by the seconds that passed in between.
 */
export const EXTENSION_STEP_MS: Readonly<Record<'self-exclusion' | 'time-out', number>> = { 'self-exclusion': 86_400_000, 'time-out': 3_600_000 };

/**
 * Self-exclusions and time-outs cannot be cut short: a new request only ever moves the end later.
 * Returns undefined when `requestedEnd` extends (or there is nothing in force), else the refusal.
 */
export function extensionRefusal(kind: 'self-exclusion' | 'time-out', currentEnd: Date | null, requestedEnd: Date): DomainError | undefined {
  if (!currentEnd || requestedEnd.getTime() >= currentEnd.getTime() + EXTENSION_STEP_MS[kind]) return undefined;
  const what = kind === 'self-exclusion' ? 'self-exclusion' : 'time-out';
  return new DomainError(`${what}-in-force`, 409, `A ${what} is in force`, `Your ${what} runs until ${currentEnd.toISOString()} and cannot be ended or shortened early; you can only extend it.`, { endsAt: currentEnd.toISOString() });
}

/** 18 years after the date of birth (YYYY-MM-DD) has passed at `now`. */
export function isAdult(dateOfBirth: string, now: Date): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth);
  if (!m) return false;
  const eighteenth = Date.UTC(Number(m[1]) + 18, Number(m[2]) - 1, Number(m[3]));
  return now.getTime() >= eighteenth;
}

// ───────────────────────────── Purchase spend limits ─────────────────────────────

export const PERIODS = ['daily', 'weekly', 'monthly'] as const;
export type Period = (typeof PERIODS)[number];
/** Rolling windows ending now, as payments' deposit limits use. */
export const WINDOW_HOURS: Readonly<Record<Period, number>> = { daily: 24, weekly: 7 * 24, monthly: 30 * 24 };
export const COOLING_OFF_HOURS = 24;

export interface LimitState {
  period: Period;
  /** The limit in force (null: none). */
  activeMinor: bigint | null;
  /** A looser limit (or a removal: null) waiting for its cooling-off. */
  pending?: { amountMinor: bigint | null; effectiveAt: Date };
  /** Purchases in the window ending now (reserved or posted). */
  usedMinor: bigint;
}

/** When a requested limit takes effect given the one in force: tighter at once, looser after 24 h. */
export function whenEffective(active: bigint | null, requested: bigint | null): 'unchanged' | 'now' | 'after-cooling-off' {
  if (active === requested) return 'unchanged';
  if (requested === null) return 'after-cooling-off';
  if (active === null) return 'now';
  return requested < active ? 'now' : 'after-cooling-off';
}

export const remainingOf = (s: LimitState): bigint | undefined =>
  s.activeMinor === null ? undefined : s.activeMinor > s.usedMinor ? s.activeMinor - s.usedMinor : 0n;

/**
 * Whether a purchase of `amountMinor` fits every limit in force (the lowest remaining wins). With
 * nothing left (a 0 limit, or spent up) even a free check is refused: nothing can be bought.
 */
export function spendCheck(states: readonly LimitState[], amountMinor: bigint): { breached: boolean; remainingMinor?: bigint } {
  let tightest: bigint | undefined;
  for (const s of states) {
    const r = remainingOf(s);
    if (r !== undefined && (tightest === undefined || r < tightest)) tightest = r;
  }
  if (tightest === undefined) return { breached: false };
  return { breached: amountMinor > tightest || tightest === 0n, remainingMinor: tightest };
}
