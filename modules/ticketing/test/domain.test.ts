/** The pure rules of ticketing, with plain values (no database). */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { holderOf, postalOwner } from '../src/domain/holder.ts';
import { COMPETITION_STATES, PUBLIC_STATES, canTransition, purchaseBlock } from '../src/domain/lifecycle.ts';
import { roundKeys, shardLayout, shardOf } from '../src/domain/numbers.ts';
import { normalizePerson, postalRefusal } from '../src/domain/postal.ts';
import { PURCHASE_TRANSITIONS, numbersProblem, requestHash, transferIdFor } from '../src/domain/purchase.ts';
import { equalTreatment } from '../src/domain/report.ts';
import { cashExposureMinor, publishChecklist, type Terms } from '../src/domain/terms.ts';

describe('number pool', () => {
  it('when round keys are derived for a shard, then they are four 32-bit keys, stable per key and shard, different across shards', () => {
    const key = randomBytes(32);
    const keys = roundKeys(key, 3);
    assert.equal(keys.length, 4);
    assert.ok(keys.every((k) => k >= 0n && k < 2n ** 32n));
    assert.deepEqual(roundKeys(key, 3), keys);
    assert.notDeepEqual(roundKeys(key, 4), keys);
  });

  it('when a range is split into shards, then the slices cover 1..max once and a chosen number maps to the slice holding it', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 1_000_000 }), (max, maxShards, pick) => {
      const slices = shardLayout(max, maxShards);
      assert.ok(slices.length >= 1 && slices.length <= maxShards);
      let next = 1;
      for (const s of slices) {
        assert.equal(s.lo, next);
        assert.ok(s.capacity >= 1);
        next += s.capacity;
      }
      assert.equal(next, max + 1);
      // What the allocator computes from the stored max and shard count must find the same slice.
      const n = (pick % max) + 1;
      const size = Math.ceil(max / slices.length);
      const shard = Math.floor((n - 1) / size);
      assert.equal(shard, shardOf(n, slices));
      const s = slices[shard]!;
      assert.ok(n >= s.lo && n < s.lo + s.capacity);
    }), { numRuns: 500 });
  });
});

describe('lifecycle', () => {
  it('when a competition moves, then only the forward path or a cancellation before the draw is allowed', () => {
    const allowed = COMPETITION_STATES.flatMap((from) => COMPETITION_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`));
    assert.deepEqual(allowed.sort(), [
      'closed>cancelled', 'closed>drawn', 'draft>cancelled', 'draft>scheduled', 'drawn>settled', 'on_sale>cancelled', 'on_sale>closed', 'scheduled>cancelled', 'scheduled>on_sale',
    ]);
    assert.ok(!PUBLIC_STATES.includes('draft'));
  });

  it('when a purchase comes at or after the closing time, then it is told the competition closed; before opening, that it is not on sale', () => {
    const closesAt = new Date('2026-06-01T12:00:00.000Z');
    assert.equal(purchaseBlock('on_sale', closesAt, new Date(closesAt.getTime() - 1)), undefined);
    assert.equal(purchaseBlock('on_sale', closesAt, closesAt), 'competition-closed');
    assert.equal(purchaseBlock('closed', closesAt, new Date(0)), 'competition-closed');
    assert.equal(purchaseBlock('scheduled', closesAt, new Date(0)), 'competition-not-on-sale');
    assert.equal(purchaseBlock('cancelled', closesAt, new Date(0)), 'competition-not-on-sale');
  });

  it('when a purchase moves, then tickets are refunded only after they were issued and nothing leaves a final state', () => {
    assert.deepEqual(PURCHASE_TRANSITIONS.refunded, []);
    assert.deepEqual(PURCHASE_TRANSITIONS.refused, []);
    assert.ok(!PURCHASE_TRANSITIONS.pending.includes('refunded'));
  });
});

describe('purchases', () => {
  it('when the same request is hashed twice, then it is equal; a different body is not', () => {
    const r = { competitionId: 'c', quantity: 2, skillToken: 't' };
    assert.equal(requestHash(r), requestHash({ ...r }));
    assert.notEqual(requestHash(r), requestHash({ ...r, quantity: 3 }));
    assert.notEqual(requestHash(r), requestHash({ ...r, numbers: [1, 2] }));
  });

  it('when transfer ids are derived from a purchase, then they are stable per step and distinct between steps and purchases', () => {
    const steps = ['reserve', 'post', 'void', 'refund'] as const;
    const ids = steps.map((s) => transferIdFor('01a21868-7cf1-74a5-bc60-f12b265015b9', s));
    assert.equal(new Set(ids).size, 4);
    assert.equal(transferIdFor('01a21868-7cf1-74a5-bc60-f12b265015b9', 'post'), ids[1]);
    assert.notEqual(transferIdFor('01a21868-7cf1-74a5-bc60-f12b265015ba', 'post'), ids[1]);
    assert.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)));
  });

  it('when chosen numbers repeat, miss the quantity or leave the range, then they are refused', () => {
    assert.equal(numbersProblem(undefined, 2, 10), undefined);
    assert.equal(numbersProblem([1, 2], 2, 10), undefined);
    assert.match(numbersProblem([1, 1], 2, 10)!, /repeat/);
    assert.match(numbersProblem([1], 2, 10)!, /exactly 2/);
    assert.match(numbersProblem([0, 11], 2, 10)!, /between 1 and 10/);
  });

  it('when a holder commitment is computed, then it is SHA-256 of the domain, a zero byte, the salt and the owner', () => {
    const salt = randomBytes(32).toString('hex');
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('verity/holder/v1'), Buffer.from([0]), Buffer.from(salt, 'hex'), Buffer.from('player-1')])).digest('hex');
    assert.equal(holderOf(salt, 'player-1'), expected);
    assert.equal(postalOwner('e1'), 'postal:e1');
  });
});

describe('terms', () => {
  const complete: Terms = {
    title: 'Car', drawKind: 'random', currency: 'GBP', priceMinor: 100n, maxTickets: 100, perPlayerCap: 10,
    opensAt: new Date('2026-01-01T00:00:00Z'), closesAt: new Date('2026-02-01T00:00:00Z'),
    prizeTiers: [{ tier: 1, description: 'A car', winners: 1, cashAlternativeMinor: 5000n }, { tier: 2, description: 'Cash', winners: 3, cashMinor: 100n }],
    freeEntry: { postalAddress: 'PO Box 1', instructions: 'Write your answer' },
    prizeReadiness: { kind: 'owned', externalReference: 'logbook', cashAlternativeReservedMinor: 5300n, attestedBy: 'operator:1', attestedAt: new Date('2026-01-01T00:00:00Z') },
  };
  const ready = { configured: true, ready: true, problems: [] };
  const now = new Date('2026-01-15T00:00:00Z');

  it('when every term is there, then nothing is missing; the cash reserved must cover prizes and alternatives', () => {
    assert.equal(cashExposureMinor(complete.prizeTiers), 5300n);
    assert.deepEqual(publishChecklist(complete, ready, now), []);
    const short = publishChecklist({ ...complete, prizeReadiness: { ...complete.prizeReadiness!, cashAlternativeReservedMinor: 5299n } }, ready, now);
    assert.deepEqual(short.map((m) => m.item), ['prizeReadiness/cashAlternativeReservedMinor']);
  });

  it('when terms are missing or inconsistent, then each is listed', () => {
    const missing = publishChecklist({ title: 'x', drawKind: 'random', currency: 'GBP', prizeTiers: [] }, { configured: false, ready: false, problems: [] }, now).map((m) => m.item);
    assert.deepEqual(missing, ['prizeTiers', 'priceMinor', 'maxTickets', 'perPlayerCap', 'opensAt', 'closesAt', 'freeEntry', 'skillTest', 'prizeReadiness']);
    const odd = publishChecklist({ ...complete, perPlayerCap: 101, closesAt: new Date('2026-01-10T00:00:00Z') }, { configured: true, ready: false, problems: ['no question'] }, now);
    assert.deepEqual(odd.map((m) => m.item), ['perPlayerCap', 'closesAt', 'skillTest']);
  });
});

describe('postal entries', () => {
  const base = { receivedAt: new Date('2026-01-10T00:00:00Z'), opensAt: new Date('2026-01-01T00:00:00Z'), closesAt: new Date('2026-02-01T00:00:00Z'), answerCorrect: true, validOfPerson: 0, perPlayerCap: 1 };

  it('when the same person writes their name differently, then the normalized form is the same', () => {
    assert.equal(normalizePerson('  Zoë  O\'Brien', '1 High St., Leeds'), normalizePerson('ZOE O BRIEN', '1 high st leeds'));
    assert.notEqual(normalizePerson('Zoe OBrien', '1 High St'), normalizePerson('Zoe OBrien', '2 High St'));
  });

  it('when an entry is late, early, wrong or over the person\'s cap, then it says why; received at the closing time is in time', () => {
    assert.equal(postalRefusal(base), undefined);
    assert.equal(postalRefusal({ ...base, receivedAt: base.closesAt }), undefined);
    assert.equal(postalRefusal({ ...base, receivedAt: new Date(base.closesAt.getTime() + 1) }), 'late');
    assert.equal(postalRefusal({ ...base, receivedAt: new Date(base.opensAt.getTime() - 1) }), 'early');
    assert.equal(postalRefusal({ ...base, answerCorrect: false }), 'wrong-answer');
    assert.equal(postalRefusal({ ...base, validOfPerson: 1 }), 'duplicate-person');
    assert.equal(postalRefusal({ ...base, validOfPerson: 1, perPlayerCap: 2 }), undefined);
  });

  it('when the data show a late ticket, a double number or an entry without exactly one number, then equal treatment does not hold', () => {
    const ok = { opensAt: base.opensAt, closesAt: base.closesAt, maxTickets: 10, postalWithoutOneTicket: 0, purchasesWrongCount: 0, validTickets: 3, distinctNumbers: 3, minNumber: 1, maxNumber: 9, poolSold: 3, lastPaidAt: new Date('2026-01-31T23:59:59Z') };
    assert.deepEqual(Object.values(equalTreatment(ok)).slice(0, 3), [true, true, true]);
    assert.equal(equalTreatment({ ...ok, lastPaidAt: base.closesAt }).sameCutoff, false);
    assert.equal(equalTreatment({ ...ok, distinctNumbers: 2 }).samePool, false);
    assert.equal(equalTreatment({ ...ok, maxNumber: 11 }).samePool, false);
    assert.equal(equalTreatment({ ...ok, postalWithoutOneTicket: 1 }).sameWeight, false);
    assert.match(equalTreatment({ ...ok, postalWithoutOneTicket: 1 }).statement, /does NOT hold/);
  });
});
