/** The pure rules: age in full years (UK counting), the status machine, and sandbox scenarios. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageInYears, canMove, canStart, isAdult, isFinal, VERIFICATION_STATUSES } from '../src/domain/status.ts';
import { checkEnd, scenarioOf } from '../src/vendors/sandbox/scenarios.ts';
import { splitName } from '../src/vendors/types.ts';

const day = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe('KYC rules', () => {
  it('when someone turns 18 today, then they are an adult; the day before, they are not', () => {
    assert.equal(isAdult('2007-06-15', day('2025-06-15')), true);
    assert.equal(isAdult('2007-06-15', day('2025-06-14')), false);
    assert.equal(ageInYears('1990-04-12', day('2025-04-11')), 34);
    assert.equal(ageInYears('1990-04-12', day('2025-04-12')), 35);
  });

  it('when born on 29 February, then they come of age on 1 March in a common year', () => {
    assert.equal(isAdult('2008-02-29', day('2026-02-28')), false);
    assert.equal(isAdult('2008-02-29', day('2026-03-01')), true);
    assert.equal(isAdult('2004-02-29', day('2022-02-28')), false);
  });

  it('when a date of birth is malformed, then the age rule refuses to guess', () => {
    assert.throws(() => ageInYears('12/04/1990', day('2025-01-01')));
  });

  it('when an application is approved or rejected_final, then nothing moves it; resubmit and expired may start again', () => {
    for (const s of VERIFICATION_STATUSES) {
      if (isFinal(s)) for (const t of VERIFICATION_STATUSES) assert.equal(canMove(s, t), false, `${s} -> ${t}`);
    }
    assert.deepEqual(VERIFICATION_STATUSES.filter(canStart), ['not_started', 'resubmit', 'expired']);
    assert.equal(canMove('manual_review', 'approved'), true);
    assert.equal(canMove('manual_review', 'pending'), false, 'a review is decided, not restarted');
    assert.equal(canMove('not_started', 'approved'), false, 'no approval without a check');
  });

  it('when a sandbox applicant is named, then the last name picks the scenario, case-insensitively', () => {
    assert.equal(scenarioOf('REVIEW'), 'review');
    assert.equal(scenarioOf('Lovelace'), 'approve');
    assert.deepEqual(checkEnd('resubmit', []), { status: 'complete', result: 'resubmit' });
    assert.deepEqual(checkEnd('resubmit', ['proof_of_address']), { status: 'complete', result: 'resubmit' });
    assert.deepEqual(checkEnd('resubmit', ['passport']), { status: 'complete', result: 'clear' });
    assert.equal(checkEnd('timeout', []), undefined);
    assert.deepEqual(splitName('Ada King Lovelace'), { firstName: 'Ada King', lastName: 'Lovelace' });
    assert.deepEqual(splitName('Madonna'), { firstName: 'Madonna', lastName: 'Madonna' });
  });
});
