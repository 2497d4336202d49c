/**
 * Free postal entries: one entry per envelope, the same person found through a keyed hash, the
 * same cutoff (late is invalid, on time is valid even when recorded after the close), the same
 * weight and the same pool as paid tickets — and a report that shows it from the data.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  buy, expectProblem, expectStatus, fundedPlayer, onSaleCompetition, outboxEvents, passToken, startTicketingPlatform, waitForState, type TicketingPlatform,
} from './support/platform.ts';

describe('postal entries', () => {
  let tp: TicketingPlatform;
  before(async () => {
    tp = await startTicketingPlatform();
  });
  after(() => tp?.p.stop());

  const record = (id: string, body: Record<string, unknown>) =>
    tp.p.http.post(`/v1/competitions/${id}/postal-entries`, body, tp.manager.accessToken, { 'idempotency-key': randomUUID() });

  it('when operators record envelopes, then duplicates, wrong answers and late ones are recorded invalid, valid ones share the pool, and the report shows equal treatment', { timeout: 90_000 }, async () => {
    const { db, http } = tp.p;
    const player = await fundedPlayer(tp, 10_000n);
    const id = await onSaleCompetition(tp, { perPlayerCap: 1, maxTickets: 300, closesAt: new Date(Date.now() + 8_000) });
    const closesAt = new Date((await tp.ticketing.getCompetition({ competitionId: id }))!.closesAt!);
    const earlier = new Date(Date.now() - 60_000).toISOString();

    const ann = expectStatus(await record(id, { envelopeRef: 'ENV-0001', name: 'Ann Smith', address: '1 High St, Leeds LS1 1AA', answer: 'London', receivedAt: earlier }), 201, 'valid entry');
    assert.equal(ann.status, 'valid');
    assert.ok(ann.number >= 1 && ann.number <= 300);
    const dup = expectProblem(await record(id, { envelopeRef: 'ENV-0001', name: 'Someone Else', address: '2 Low St', answer: 'London', receivedAt: earlier }), 409, 'postal-envelope-duplicate');
    assert.equal(dup.postalEntryId, ann.postalEntryId);
    const again = expectStatus(await record(id, { envelopeRef: 'ENV-0002', name: '  ann SMITH ', address: '1 High St., Leeds  LS1 1AA', answer: 'London', receivedAt: earlier }), 201, 'same person');
    assert.deepEqual([again.status, again.reason, again.duplicateOf], ['invalid', 'duplicate-person', ann.postalEntryId]);
    const wrong = expectStatus(await record(id, { envelopeRef: 'ENV-0003', name: 'Bob Jones', address: '3 Mill Rd, York', answer: 'Paris', receivedAt: earlier }), 201, 'wrong answer');
    assert.deepEqual([wrong.status, wrong.reason], ['invalid', 'wrong-answer']);
    expectProblem(await record(id, { envelopeRef: 'ENV-0004', name: 'Eve', address: '4 Road', answer: 'London', receivedAt: new Date(Date.now() + 3_600_000).toISOString() }), 400, 'validation-failed');
    expectStatus(await buy(tp, player, id, { quantity: 1, skillToken: await passToken(tp, player, id) }), 201, 'a paid ticket');

    const onTime = expectStatus(await record(id, { envelopeRef: 'ENV-0005', name: 'Carol King', address: '5 Park Ave, Bath', answer: 'london', receivedAt: earlier }), 201, 'on time, recorded before close');
    assert.equal(onTime.status, 'valid');
    await waitForState(tp, id, 'closed', 20_000);
    expectProblem(await record(id, { envelopeRef: 'ENV-0007', name: 'Fay Keyed', address: '7 Late Rd, Leeds', answer: 'London', receivedAt: new Date(closesAt.getTime() - 1_000).toISOString() }), 409, 'postal-intake-closed');
    const late = expectStatus(await record(id, { envelopeRef: 'ENV-0006', name: 'Dan Late', address: '6 Slow Lane, Hull', answer: 'London', receivedAt: new Date(closesAt.getTime() + 1).toISOString() }), 201, 'late');
    assert.deepEqual([late.status, late.reason], ['invalid', 'late']);

    const report = expectStatus(await http.get(`/v1/competitions/${id}/entry-report`, tp.manager.accessToken), 200, 'getEntryReport');
    assert.deepEqual(report.paid, { purchases: 1, tickets: 1 });
    assert.deepEqual(report.free, { entries: 2 });
    assert.deepEqual(report.invalid, { 'duplicate-person': 1, 'wrong-answer': 1, late: 1 });
    assert.deepEqual([report.equalTreatment.sameCutoff, report.equalTreatment.sameWeight, report.equalTreatment.samePool], [true, true, true]);
    assert.match(report.equalTreatment.statement, /^Equal treatment holds/);

    const entries = await tp.ticketing.listEntries({ competitionId: id, limit: 10 });
    assert.deepEqual(entries.entries.map((e) => e.kind).sort(), ['paid', 'postal', 'postal']);
    assert.ok(entries.entries.every((e) => /^[0-9a-f]{64}$/.test(e.holder)));
    const summary = await tp.ticketing.getSalesSummary({ competitionId: id });
    assert.deepEqual([summary.sold, summary.postal, summary.postalInvalid, summary.validEntries], [1, 2, 3, 3]);
    const stored = await db.one<{ name_enc: string; address_enc: string }>('select name_enc, address_enc from ticketing.postal_entries where id = $1', [ann.postalEntryId]);
    assert.ok(!stored.name_enc.includes('Ann') && !stored.address_enc.includes('High'));
    const events = (await outboxEvents(db, 'ticketing.postal-entry-recorded.v1')).filter((e) => e.competitionId === id);
    assert.deepEqual(events.map((e) => e.valid), [true, false, false, true, false]);
  });

  it('when the pool is sold out, then a valid postal entry is recorded invalid sold-out (same pool, same limit)', async () => {
    const id = await onSaleCompetition(tp, { maxTickets: 1, perPlayerCap: 1 });
    const first = expectStatus(await record(id, { envelopeRef: 'ONE-1', name: 'First Person', address: '1 A St', answer: 'London', receivedAt: new Date(Date.now() - 1000).toISOString() }), 201, 'first');
    assert.equal(first.number, 1);
    const second = expectStatus(await record(id, { envelopeRef: 'ONE-2', name: 'Second Person', address: '2 B St', answer: 'London', receivedAt: new Date(Date.now() - 1000).toISOString() }), 201, 'second');
    assert.deepEqual([second.status, second.reason], ['invalid', 'sold-out']);
    const player = await fundedPlayer(tp, 10_000n);
    expectProblem(await buy(tp, player, id, { quantity: 1, skillToken: await passToken(tp, player, id) }), 409, 'sold-out');
  });
});
