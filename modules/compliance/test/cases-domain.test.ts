/** The case state machine, decision rules and SLA table as plain functions (no database). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '@verity/kernel';
import { CASE_STATES, CASE_TYPES, DECISIONS, decisionRule, isOverdue, playerOfCase, reopenRefusal, secondApprovalRefusal, slaFor, transition, type CaseCommand } from '../src/cases/domain.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isDomainError(err) ? err.code : String(err);
  }
};

describe('case domain', () => {
  it('when each command meets each state, then only the transitions of the state machine are allowed', () => {
    const allowed: Record<string, string> = {
      'open/assign': 'in_progress', 'in_progress/assign': 'in_progress', 'pending_second_approval/assign': 'pending_second_approval',
      'open/decide': 'closed', 'in_progress/decide': 'closed', 'pending_second_approval/approve': 'closed',
      'pending_second_approval/reject-proposal': 'in_progress', 'closed/reopen': 'open',
    };
    const commands: CaseCommand[] = ['assign', 'decide', 'approve', 'reject-proposal', 'reopen'];
    for (const state of CASE_STATES) {
      for (const command of commands) {
        const expected = allowed[`${state}/${command}`];
        if (expected) assert.equal(transition(state, command), expected, `${state}/${command}`);
        else assert.equal(code(() => transition(state, command)), 'case-transition-not-allowed', `${state}/${command}`);
      }
      assert.equal(transition(state, 'note'), state, 'notes never change the state');
    }
    assert.equal(transition('in_progress', 'decide', true), 'pending_second_approval');
  });

  it('when a decision releases money or overrides a control, then it needs four eyes; every type has outcomes', () => {
    for (const type of CASE_TYPES) assert.ok(Object.keys(DECISIONS[type]).length >= 2, type);
    assert.equal(decisionRule('sanctions-hit', 'false-positive').fourEyes, true);
    assert.equal(decisionRule('aml-alert', 'cleared').fourEyes, true);
    assert.equal(decisionRule('payout-exception', 'released').fourEyes, true);
    assert.equal(decisionRule('operator-override', 'approved').fourEyes, true);
    assert.equal(decisionRule('complaint', 'upheld').fourEyes, false);
    assert.equal(code(() => decisionRule('complaint', 'toString')), 'case-outcome-invalid');
    assert.equal(secondApprovalRefusal('op-1', 'op-1')?.code, 'four-eyes-required');
    assert.equal(secondApprovalRefusal('op-1', 'op-2'), undefined);
  });

  it('when an SLA is computed, then the reminder is at 75 % and overrides replace the table', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const s = slaFor('sanctions-hit', t0);
    assert.equal(s.dueAt.toISOString(), '2026-01-02T00:00:00.000Z');
    assert.equal(s.reminderAt.toISOString(), '2026-01-01T18:00:00.000Z');
    assert.equal(slaFor('complaint', t0, { complaint: 40 }).reminderAt.getTime() - t0.getTime(), 30_000);
    assert.equal(isOverdue({ state: 'open', dueAt: s.dueAt }, s.dueAt), true);
    assert.equal(isOverdue({ state: 'closed', dueAt: s.dueAt }, new Date('2027-01-01')), false);
    assert.equal(reopenRefusal(t0, new Date('2026-03-01'), 90), undefined);
    assert.equal(reopenRefusal(t0, new Date('2026-05-01'), 90)?.code, 'case-reopen-window-passed');
    assert.equal(playerOfCase('player:abc-1', {}), 'abc-1');
    assert.equal(playerOfCase('withdrawal:w1', { playerId: 'p-2' }), 'p-2');
    assert.equal(playerOfCase('fingerprint:x', {}), undefined);
  });
});
