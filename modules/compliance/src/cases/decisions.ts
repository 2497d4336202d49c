/**
 * Case decisions. A decision closes the case and applies its effects (holds placed or lifted on the
 * player). A decision that releases money or overrides a control is only a proposal until a second
 * operator — never the proposer — approves it (four eyes); the route asks both for a fresh MFA
 * sign-in (step-up). A rejected proposal sends the case back to work. A closed case may be reopened
 * within the reopen window; its SLA starts again.
 */
import { DomainError, PgError, pgCode } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { decisionRule, reopenRefusal, secondApprovalRefusal, slaFor, transition, type DecisionRule } from './domain.ts';
import type { History } from './history.ts';
import type { HoldsEngine } from './holds.ts';
import type { CaseRecord, CasesRepository } from './repository.ts';
import type { CaseService, CaseSettings } from './service.ts';
import { scheduleSla } from './sla.ts';

export interface DecideInput {
  /** For a case open or in progress. */
  outcome?: string;
  /** For a case pending second approval. */
  approval?: 'approve' | 'reject';
  reason: string;
}

export interface Operator {
  operatorId: string;
  actor: string;
}

const REASON_MIN = 3;
const REASON_MAX = 2000;

export function createDecisions(ctx: PartContext, deps: { repo: CasesRepository; history: History; holds: HoldsEngine; cases: CaseService; settings: CaseSettings }) {
  const { db } = ctx;
  const { repo, history, holds, cases, settings } = deps;

  /** Holds the decision places or lifts; the case must name a player when it has any. */
  async function applyEffects(c: CaseRecord, outcome: string, rule: DecisionRule, actor: string): Promise<{ placed: string[]; lifted: string[] }> {
    const kinds = [...(rule.place ?? []), ...(rule.lift ?? [])];
    if (kinds.length === 0) return { placed: [], lifted: [] };
    if (!c.playerId) {
      throw new DomainError('case-has-no-player', 409, 'The case names no player', `"${outcome}" places or lifts holds on a player, and this case is about ${c.subject}.`);
    }
    const reason = `case ${c.id}: ${outcome}`;
    for (const kind of rule.place ?? []) await holds.place({ playerId: c.playerId, kind, caseId: c.id, reason });
    const lifted: string[] = [];
    for (const kind of rule.lift ?? []) if ((await holds.liftForCase({ playerId: c.playerId, kind, caseId: c.id, reason, actor })) > 0) lifted.push(kind);
    return { placed: [...(rule.place ?? [])], lifted };
  }

  async function close(c: CaseRecord, outcome: string, reason: string, decidedBy: string, secondApprover: string | null, actor: string): Promise<CaseRecord> {
    const rule = decisionRule(c.type, outcome);
    const effects = await applyEffects(c, outcome, rule, actor);
    const at = await ctx.clock.now();
    const closed = await repo.update(c.id, {
      state: 'closed', outcome, decisionReason: reason, decidedBy, secondApprover, decidedAt: at, closedAt: at,
      proposedOutcome: null, proposedReason: null, proposedBy: null, proposedAt: null,
    }, at);
    await history.record(closed, {
      actor, action: secondApprover ? 'decision-approved' : 'decided', from: c.state, to: 'closed', text: reason,
      detail: { outcome, fourEyes: rule.fourEyes, decidedBy, ...(secondApprover ? { secondApprover } : {}), holdsPlaced: effects.placed, holdsLifted: effects.lifted },
    }, at);
    await ctx.events.publish({
      type: 'compliance.case-decided.v1', subject: c.id,
      data: {
        caseId: c.id, type: c.type, subject: c.subject, playerId: c.playerId, outcome, fourEyes: rule.fourEyes, decidedBy, secondApprover,
        decidedAt: at.toISOString(), holdsPlaced: effects.placed, holdsLifted: effects.lifted,
      },
    });
    return closed;
  }

  async function propose(c: CaseRecord, outcome: string, reason: string, op: Operator): Promise<CaseRecord> {
    const to = transition(c.state, 'decide', true);
    const at = await ctx.clock.now();
    const updated = await repo.update(c.id, { state: to, proposedOutcome: outcome, proposedReason: reason, proposedBy: op.operatorId, proposedAt: at }, at);
    await history.record(updated, { actor: op.actor, action: 'decision-proposed', from: c.state, to, text: reason, detail: { outcome, proposedBy: op.operatorId } }, at);
    await ctx.events.publish({ type: 'compliance.case-decision-proposed.v1', subject: c.id, data: { caseId: c.id, type: c.type, outcome, proposedBy: op.operatorId } });
    return updated;
  }

  async function secondApproval(c: CaseRecord, input: DecideInput, op: Operator): Promise<CaseRecord> {
    if (!input.approval) {
      throw new DomainError('approval-required', 409, 'A decision waits for approval', `"${c.proposedOutcome}" was proposed; approve or reject it.`, { proposedOutcome: c.proposedOutcome });
    }
    const refusal = secondApprovalRefusal(c.proposedBy, op.operatorId);
    if (refusal) throw refusal;
    if (input.approval === 'approve') {
      transition(c.state, 'approve');
      return close(c, c.proposedOutcome!, c.proposedReason ?? input.reason, c.proposedBy!, op.operatorId, op.actor);
    }
    const to = transition(c.state, 'reject-proposal');
    const at = await ctx.clock.now();
    const updated = await repo.update(c.id, { state: to, proposedOutcome: null, proposedReason: null, proposedBy: null, proposedAt: null }, at);
    await history.record(updated, { actor: op.actor, action: 'decision-rejected', from: c.state, to, text: input.reason, detail: { outcome: c.proposedOutcome, proposedBy: c.proposedBy } }, at);
    return updated;
  }

  async function decide(caseId: string, input: DecideInput, op: Operator): Promise<CaseRecord> {
    if (typeof input.reason !== 'string' || input.reason.trim().length < REASON_MIN || input.reason.length > REASON_MAX) {
      throw new DomainError('validation-failed', 400, 'Your request parameters did not validate', `A decision needs a reason of ${REASON_MIN}..${REASON_MAX} characters.`);
    }
    return db.tx(async () => {
      const c = await cases.locked(caseId);
      if (c.state === 'pending_second_approval') return secondApproval(c, input, op);
      if (!input.outcome) throw new DomainError('outcome-required', 400, 'Outcome required', 'Say what the case is decided as (outcome).');
      const rule = decisionRule(c.type, input.outcome);
      transition(c.state, 'decide', rule.fourEyes);
      return rule.fourEyes ? propose(c, input.outcome, input.reason, op) : close(c, input.outcome, input.reason, op.operatorId, null, op.actor);
    });
  }

  async function reopen(caseId: string, reason: string, op: Operator): Promise<CaseRecord> {
    if (typeof reason !== 'string' || reason.trim().length < REASON_MIN || reason.length > REASON_MAX) {
      throw new DomainError('validation-failed', 400, 'Your request parameters did not validate', `Reopening needs a reason of ${REASON_MIN}..${REASON_MAX} characters.`);
    }
    return db.tx(async () => {
      const c = await cases.locked(caseId);
      const to = transition(c.state, 'reopen');
      const at = await ctx.clock.now();
      const refusal = reopenRefusal(c.closedAt, at, settings.reopenWindowDays);
      if (refusal) throw refusal;
      const sla = slaFor(c.type, at, settings.slaOverridesS);
      // The earlier decision's effects stand (holds it placed or lifted); a new decision applies its own.
      const updated = await repo.update(c.id, {
        state: to, closedAt: null, outcome: null, decisionReason: null, decidedBy: null, secondApprover: null, decidedAt: null,
        dueAt: sla.dueAt, reminderAt: sla.reminderAt, remindedAt: null, escalatedAt: null, slaVersion: c.slaVersion + 1, reopenCount: c.reopenCount + 1,
      }, at).catch((err: unknown) => {
        if (pgCode(err) !== PgError.uniqueViolation) throw err;
        throw new DomainError('case-duplicate-open', 409, 'Another case is open for this', 'An open case of the same type and key exists; work on that one instead.');
      });
      await history.record(updated, { actor: op.actor, action: 'reopened', from: c.state, to, text: reason, detail: { previousOutcome: c.outcome, dueAt: sla.dueAt.toISOString() } }, at);
      await ctx.events.publish({ type: 'compliance.case-reopened.v1', subject: c.id, data: { caseId: c.id, type: c.type, previousOutcome: c.outcome } });
      await scheduleSla(ctx, updated);
      return updated;
    });
  }

  return { decide, reopen };
}

export type Decisions = ReturnType<typeof createDecisions>;
