/** The draw's pure rules: state machine, rounds and fallbacks, prizes, reconciliation (no database). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUICKNET, roundTime } from '@verity/evidence';
import { isDomainError } from '@verity/kernel';
import { prizeOf, prizeTransferId, winnerCount } from '../src/domain/prizes.ts';
import { candidateRound, plannedRounds, roundDate } from '../src/domain/rounds.ts';
import { assertMove, canMove, DRAW_STATES, TRANSITIONS } from '../src/domain/state.ts';
import { reconciliationProblem } from '../src/draws/snapshot.ts';

describe('draw domain', () => {
  it('when each state meets each target, then only the transitions of the state machine are allowed', () => {
    const allowed = new Set([
      'pending>committed', 'pending>cancelled', 'committed>snapshotted', 'committed>blocked', 'committed>cancelled', 'blocked>snapshotted', 'blocked>cancelled',
      'snapshotted>drawn', 'snapshotted>failed', 'snapshotted>cancelled', 'drawn>settled', 'failed>cancelled',
    ]);
    for (const from of DRAW_STATES) {
      for (const to of DRAW_STATES) {
        if (from === to) continue;
        assert.equal(canMove(from, to), allowed.has(`${from}>${to}`), `${from}>${to}`);
        if (!allowed.has(`${from}>${to}`)) {
          assert.throws(() => assertMove(from, to), (err: unknown) => isDomainError(err) && err.code === 'draw-transition-not-allowed' && err.status === 409);
        }
      }
    }
    assert.deepEqual(TRANSITIONS.settled, []);
    assert.deepEqual(TRANSITIONS.cancelled, []);
  });

  it('when a competition closes, then R is the first quicknet round after close plus the margin, and fallbacks are one window apart', () => {
    const closesAt = new Date((QUICKNET.genesisTime + 3 * 1000 + 1) * 1000); // just after round 1001
    const plan = plannedRounds(QUICKNET, closesAt, { marginRounds: 10, fallbackRounds: 3, roundWindowS: 600 });
    assert.equal(plan.round, 1002 + 10);
    assert.deepEqual(plan.fallbackRounds, [1212, 1412, 1612]);
    assert.ok(roundTime(QUICKNET, plan.round) > closesAt.getTime() / 1000 + 30 - 1, 'R is produced at least the margin after close');
    const exact = new Date(roundTime(QUICKNET, 500) * 1000);
    assert.equal(plannedRounds(QUICKNET, exact, { marginRounds: 0, fallbackRounds: 0, roundWindowS: 60 }).round, 501, 'a round produced at the close instant existed at close: not used');
  });

  it('when time passes, then the candidate is R until its window ends, then each fallback, then none', () => {
    const plan = { round: 100, fallbackRounds: [120, 140] };
    const chain = QUICKNET;
    const at = (round: number, plusS: number) => new Date(roundDate(chain, round).getTime() + plusS * 1000);
    assert.deepEqual(candidateRound(chain, plan, at(100, -5), 60), { round: 100, windowEndsAt: at(100, 60), waitUntil: roundDate(chain, 100) });
    assert.equal(candidateRound(chain, plan, at(100, 59), 60)?.round, 100);
    assert.equal(candidateRound(chain, plan, at(100, 60), 60)?.round, 120);
    assert.equal(candidateRound(chain, plan, at(140, 59), 60)?.round, 140);
    assert.equal(candidateRound(chain, plan, at(140, 60), 60), undefined);
  });

  it('when prizes are read from tiers, then positive cash with a currency is credited and anything else is fulfilled', () => {
    assert.deepEqual(prizeOf({ tier: 1, description: '£500', winners: 1, cashMinor: '50000', currency: 'GBP' }), { kind: 'cash', cashMinor: 50_000n, currency: 'GBP' });
    assert.deepEqual(prizeOf({ tier: 2, description: 'A car', winners: 1 }), { kind: 'fulfilment' });
    assert.deepEqual(prizeOf({ tier: 3, description: 'odd', winners: 1, cashMinor: '0', currency: 'GBP' }), { kind: 'fulfilment' });
    assert.equal(winnerCount([{ tier: 1, description: 'a', winners: 2 }, { tier: 2, description: 'b', winners: 3 }]), 5);
  });

  it('when a prize transfer id is derived twice, then it is the same UUID; another position or draw gives another', () => {
    const drawId = '0190a0b0-0000-7000-8000-000000000001';
    const id = prizeTransferId(drawId, 0);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(prizeTransferId(drawId, 0), id);
    assert.notEqual(prizeTransferId(drawId, 1), id);
    assert.notEqual(prizeTransferId('0190a0b0-0000-7000-8000-000000000002', 0), id);
  });

  it('when the snapshot is compared with sales, then sold − voided + postal must equal the count and nothing may be unsettled', () => {
    const sales = { sold: 10, voided: 2, postal: 3, postalInvalid: 1, validEntries: 11, unsettledPurchases: 0, state: 'closed' };
    assert.equal(reconciliationProblem(11, sales), undefined);
    assert.match(reconciliationProblem(10, sales)!, /sold 10 − voided 2 \+ postal 3 = 11/);
    assert.match(reconciliationProblem(11, { ...sales, unsettledPurchases: 2 })!, /2 purchase\(s\) not settled/);
    assert.match(reconciliationProblem(11, { ...sales, validEntries: 12 })!, /reports 12 valid entries/);
  });
});
