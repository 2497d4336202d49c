/** Eligibility and safer-gambling rules as plain functions (no database). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNKNOWN_PLAYER, addMonths, decide, extensionRefusal, isAdult, spendCheck, whenEffective, type LimitState } from '../src/eligibility/domain.ts';

const verified = { ...UNKNOWN_PLAYER, verificationStatus: 'approved', ageVerified: true, registerChecked: true };

describe('eligibility domain', () => {
  it('when facts refuse, then each action gets only the reasons that apply to it, in a stable order', () => {
    assert.deepEqual(decide('deposit', UNKNOWN_PLAYER), { allowed: false, reasons: ['not-verified'] });
    assert.deepEqual(decide('purchase', verified), { allowed: true, reasons: [] });
    const all = { ...verified, closed: true, underAge: true, selfExcluded: true, timedOut: true, holds: ['sanctions', 'investigation', 'payout'] as const };
    assert.deepEqual(decide('purchase', all, { breached: true, remainingMinor: 0n }).reasons, ['account-closed', 'under-age', 'self-excluded', 'time-out', 'sanctions-hold', 'open-investigation', 'limit-reached']);
    assert.deepEqual(decide('withdraw', all).reasons, ['under-age', 'self-excluded', 'sanctions-hold', 'open-investigation']);
    assert.deepEqual(decide('deposit', { ...verified, holds: ['payout'] }).reasons, []);
    assert.deepEqual(decide('withdraw', { ...verified, holds: ['payout'] }).reasons, ['open-investigation']);
    assert.deepEqual(decide('deposit', { ...verified, ageVerified: false }).reasons, ['not-verified']);
    assert.deepEqual(decide('deposit', { ...verified, registerChecked: false }, undefined, true).reasons, ['not-verified'], 'not yet checked against the register');
    assert.deepEqual(decide('deposit', { ...verified, registerChecked: false }, undefined, false).reasons, []);
  });

  it('when periods are computed, then months are calendar months and extensions must move the end by a real step', () => {
    assert.equal(addMonths(new Date('2026-08-31T10:00:00Z'), 6).toISOString(), '2027-02-28T10:00:00.000Z');
    assert.equal(addMonths(new Date('2026-01-15T00:00:00Z'), 60).toISOString(), '2031-01-15T00:00:00.000Z');
    const end = new Date('2027-01-01T00:00:00Z');
    assert.equal(extensionRefusal('self-exclusion', null, end), undefined);
    assert.equal(extensionRefusal('self-exclusion', end, new Date(end.getTime() + 1000))?.code, 'self-exclusion-in-force');
    assert.equal(extensionRefusal('self-exclusion', end, new Date(end.getTime() + 86_400_000)), undefined);
    assert.equal(extensionRefusal('time-out', end, new Date(end.getTime() - 1))?.code, 'time-out-in-force');
    assert.equal(isAdult('2008-02-29', new Date('2026-02-28T23:59:59Z')), false);
    assert.equal(isAdult('2008-02-29', new Date('2026-03-01T00:00:00Z')), true);
  });

  it('when limits change or are checked, then lower is at once, higher waits, 0 refuses everything and the lowest remaining wins', () => {
    assert.equal(whenEffective(1000n, 500n), 'now');
    assert.equal(whenEffective(1000n, 2000n), 'after-cooling-off');
    assert.equal(whenEffective(1000n, null), 'after-cooling-off');
    assert.equal(whenEffective(null, 0n), 'now');
    assert.equal(whenEffective(700n, 700n), 'unchanged');
    const s = (period: LimitState['period'], activeMinor: bigint | null, usedMinor: bigint): LimitState => ({ period, activeMinor, usedMinor });
    assert.deepEqual(spendCheck([s('daily', null, 0n), s('weekly', null, 0n), s('monthly', null, 0n)], 10_000n), { breached: false });
    assert.deepEqual(spendCheck([s('daily', 1000n, 200n), s('weekly', 900n, 500n), s('monthly', null, 0n)], 400n), { breached: false, remainingMinor: 400n });
    assert.deepEqual(spendCheck([s('daily', 1000n, 200n), s('weekly', 900n, 500n), s('monthly', null, 0n)], 401n), { breached: true, remainingMinor: 400n });
    assert.deepEqual(spendCheck([s('daily', 0n, 0n)], 0n), { breached: true, remainingMinor: 0n });
    assert.deepEqual(spendCheck([s('daily', 100n, 250n)], 0n), { breached: true, remainingMinor: 0n });
  });
});
