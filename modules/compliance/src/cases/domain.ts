/**
 * The case state machine, the decisions each case type allows and what they do, four-eyes and the
 * SLA table. Pure: no I/O, unit-testable with plain values (ADR 0010).
 *
 *   open ──assign──▶ in_progress ──decide (no four eyes)──────────────────────────▶ closed
 *     │                  │                                                          ▲   │
 *     └──decide──────────┴──decide (four eyes)──▶ pending_second_approval ──approve─┘   │
 *                        ▲                                 │                            │
 *                        └────────────reject───────────────┘                            │
 *   open ◀──────────────────────────────reopen (within the reopen window)───────────────┘
 */
import { DomainError } from '@verity/kernel';
import type { CaseType, HoldKind } from '../contract.ts';

export const CASE_TYPES: readonly CaseType[] = ['kyc-review', 'aml-alert', 'sanctions-hit', 'payout-exception', 'operator-override', 'complaint'];
export const CASE_STATES = ['open', 'in_progress', 'pending_second_approval', 'closed'] as const;
export type CaseState = (typeof CASE_STATES)[number];

export type CaseCommand = 'assign' | 'note' | 'evidence' | 'decide' | 'approve' | 'reject-proposal' | 'reopen';

export interface DecisionRule {
  /** Releases money or overrides a control: a second operator must approve it. */
  fourEyes: boolean;
  place?: readonly HoldKind[];
  lift?: readonly HoldKind[];
  description: string;
}

/** What each case type may be decided as, and the holds a decision places or lifts on the player. */
export const DECISIONS: Readonly<Record<CaseType, Readonly<Record<string, DecisionRule>>>> = {
  'kyc-review': {
    approved: { fourEyes: false, description: 'The documents and checks are sufficient.' },
    rejected: { fourEyes: false, description: 'Verification refused.' },
    'resubmission-requested': { fourEyes: false, description: 'The player must send new documents.' },
    'override-approved': { fourEyes: true, description: 'Approved against a failed automated check (overrides a control).' },
  },
  'aml-alert': {
    'no-further-action': { fourEyes: false, description: 'A false positive or explained activity.' },
    'investigation-opened': { fourEyes: false, place: ['investigation'], description: 'Enhanced due diligence: the account is held while it runs.' },
    'reported': { fourEyes: false, place: ['investigation'], description: 'A suspicious activity report was filed; the account stays held.' },
    cleared: { fourEyes: true, lift: ['investigation', 'payout'], description: 'Investigation closed with no concern: holds are lifted (releases money).' },
  },
  'sanctions-hit': {
    'confirmed-match': { fourEyes: false, place: ['sanctions'], description: 'A true match: funds stay frozen and the regulator is told.' },
    'false-positive': { fourEyes: true, lift: ['sanctions', 'payout'], description: 'Not the listed person: holds are lifted (releases money).' },
  },
  'payout-exception': {
    resolved: { fourEyes: false, description: 'Settled with no change to holds.' },
    blocked: { fourEyes: false, place: ['payout'], description: 'Payouts to the player stay blocked.' },
    released: { fourEyes: true, lift: ['payout'], description: 'The payout may proceed (releases money).' },
  },
  'operator-override': {
    approved: { fourEyes: true, description: 'The override of a control is approved.' },
    rejected: { fourEyes: false, description: 'The override is refused.' },
  },
  complaint: {
    upheld: { fourEyes: false, description: 'The complaint is upheld.' },
    'partially-upheld': { fourEyes: false, description: 'The complaint is partly upheld.' },
    'not-upheld': { fourEyes: false, description: 'The complaint is not upheld; the player is told of ADR.' },
  },
};

/** Default SLA per case type, in hours (complaints: the 8 weeks of LCCP SR 6.1.1 before ADR). */
export const SLA_HOURS: Readonly<Record<CaseType, number>> = {
  'kyc-review': 48,
  'aml-alert': 120,
  'sanctions-hit': 24,
  'payout-exception': 24,
  'operator-override': 8,
  complaint: 8 * 7 * 24,
};
/** The reminder goes to the assignee at this share of the SLA. */
export const REMINDER_SHARE = 0.75;
/** The role an overdue case escalates to. */
export const ESCALATION_ROLE = 'compliance-manager';

export interface Sla {
  dueAt: Date;
  reminderAt: Date;
}

/** SLA timers from `from`; `overridesS` (config) replaces the table for some types, in seconds. */
export function slaFor(type: CaseType, from: Date, overridesS: Readonly<Record<string, number>> = {}): Sla {
  const seconds = overridesS[type] ?? SLA_HOURS[type] * 3600;
  const dueAt = new Date(from.getTime() + seconds * 1000);
  const reminderAt = new Date(from.getTime() + Math.floor(seconds * REMINDER_SHARE * 1000));
  return { dueAt, reminderAt };
}

const err = (code: string, status: number, title: string, detail: string, ext: Record<string, unknown> = {}) => new DomainError(code, status, title, detail, ext);

/** The state a command leads to from `state`, or the reason it may not run. */
export function transition(state: CaseState, command: CaseCommand, fourEyes = false): CaseState {
  const refused = () => err('case-transition-not-allowed', 409, 'Not allowed in this state', `A case that is ${state} cannot be given "${command}".`, { state, command });
  switch (command) {
    case 'assign':
      if (state === 'closed') throw refused();
      return state === 'open' ? 'in_progress' : state;
    case 'note':
    case 'evidence':
      // Notes and evidence may be added to a closed case (a late document, a regulator's question).
      return state;
    case 'decide':
      if (state !== 'open' && state !== 'in_progress') throw refused();
      return fourEyes ? 'pending_second_approval' : 'closed';
    case 'approve':
      if (state !== 'pending_second_approval') throw refused();
      return 'closed';
    case 'reject-proposal':
      if (state !== 'pending_second_approval') throw refused();
      return 'in_progress';
    case 'reopen':
      if (state !== 'closed') throw refused();
      return 'open';
  }
}

/** The rule for `outcome` on a case of `type`, or a 400 naming the allowed outcomes. */
export function decisionRule(type: CaseType, outcome: string): DecisionRule {
  const rules = DECISIONS[type];
  const rule = Object.hasOwn(rules, outcome) ? rules[outcome] : undefined;
  if (!rule) {
    throw err('case-outcome-invalid', 400, 'Unknown outcome', `A ${type} case can be decided as: ${Object.keys(rules).join(', ')}.`, { allowed: Object.keys(rules) });
  }
  return rule;
}

/** Four eyes: the second approver is another operator than the one who proposed the decision. */
export function secondApprovalRefusal(proposedBy: string | null, approver: string): DomainError | undefined {
  if (proposedBy === approver) {
    return err('four-eyes-required', 403, 'Another operator must approve', 'This decision releases money or overrides a control: a second operator, not the one who proposed it, must approve it.');
  }
  return undefined;
}

/** A closed case may be reopened within `windowDays` of its closing. */
export function reopenRefusal(closedAt: Date | null, now: Date, windowDays: number): DomainError | undefined {
  if (!closedAt) return undefined;
  if (now.getTime() - closedAt.getTime() > windowDays * 86_400_000) {
    return err('case-reopen-window-passed', 409, 'Too late to reopen', `A case can be reopened within ${windowDays} days of closing; open a new case instead.`, { windowDays });
  }
  return undefined;
}

const PLAYER_SUBJECT = /^player:([A-Za-z0-9-]{1,64})$/;

/** The player a case is about: its subject `player:<id>`, or `data.playerId`. */
export function playerOfCase(subject: string, data: Record<string, unknown>): string | undefined {
  const m = PLAYER_SUBJECT.exec(subject);
  if (m) return m[1];
  const id = data.playerId;
  return typeof id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(id) ? id : undefined;
}

/** Overdue: still open past its due time. */
export const isOverdue = (c: { state: CaseState; dueAt: Date }, now: Date): boolean => c.state !== 'closed' && c.dueAt.getTime() <= now.getTime();
