/**
 * The competition lifecycle: publishing needs every term (all missing items listed at once), a
 * random draw opens only with its manifest, the database refuses every other transition and any
 * change of published terms even from raw SQL, and a published closing time changes only by one
 * operator's request and another's approval.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pgCode, type Db } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';
import { COMPETITION_STATES, canTransition, type CompetitionState } from '../src/domain/lifecycle.ts';
import { roundKeys } from '../src/domain/numbers.ts';
import { expectProblem, expectStatus, onSaleCompetition, outboxEvents, readyDraft, startTicketingPlatform, waitForState, type TicketingPlatform } from './support/platform.ts';

/** The constraint a raw SQL statement was refused by (undefined when it went through). */
async function refusal(db: Db, sql: string, params: unknown[] = []): Promise<string | undefined> {
  try {
    await db.tx(() => db.query(sql, params));
    return undefined;
  } catch (err) {
    assert.equal(pgCode(err), '23514', String(err));
    return (err as { constraint?: string }).constraint;
  }
}

/** A competition row in any state, straight in SQL (the guard trigger watches updates, not inserts). */
async function rowIn(db: Db, state: CompetitionState, closesInS: number): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into ticketing.competitions (id, state, title, draw_kind, currency, price_minor, max_tickets, per_player_cap, opens_at, closes_at, prize_tiers, free_entry,
                                         skill_test, prize_readiness, shard_count, lucky_key, created_by)
     values ($1, $2, 'raw', 'spot-the-ball', 'GBP', 100, 100, 10, clock_timestamp() - interval '1 hour', clock_timestamp() + make_interval(secs => $3),
             '[{"tier":1,"description":"x","winners":1}]', '{"postalAddress":"x","instructions":"y"}', '{}',
             '{"kind":"owned","externalReference":"raw","cashAlternativeReservedMinor":"0","attestedBy":"test","attestedAt":"2026-01-01T00:00:00Z"}', 1, decode(repeat('ab', 32), 'hex'), 'test')`,
    [id, state, closesInS],
  );
  return id;
}

describe('competition lifecycle', () => {
  let tp: TicketingPlatform;
  before(async () => {
    tp = await startTicketingPlatform();
  });
  after(() => tp?.p.stop());

  it('when a draft lacks terms, then publishing refuses with every missing item listed', async () => {
    const draft = expectStatus(await tp.p.http.post('/v1/competitions', { title: 'Bare draft', drawKind: 'random' }, tp.manager.accessToken), 201, 'createCompetition');
    const problem = expectProblem(await tp.p.http.post(`/v1/competitions/${draft.competitionId}/publish`, undefined, tp.manager.accessToken), 422, 'competition-incomplete');
    const items = problem.missing.map((m: { item: string }) => m.item);
    for (const item of ['prizeTiers', 'priceMinor', 'maxTickets', 'perPlayerCap', 'opensAt', 'closesAt', 'freeEntry', 'skillTest', 'prizeReadiness']) assert.ok(items.includes(item), `missing ${item}: ${items}`);
    assert.equal((await tp.ticketing.getCompetition({ competitionId: draft.competitionId }))?.state, 'draft');
  });

  it('when the cash reserved does not cover the cash alternatives, then publishing refuses', async () => {
    const id = await readyDraft(tp);
    expectStatus(await tp.p.http.request('PUT', `/v1/competitions/${id}/prize-readiness`, { token: tp.manager.accessToken, body: { kind: 'contracted', externalReference: 'contract 9', cashAlternativeReservedMinor: '1' } }), 200, 'attest');
    const problem = expectProblem(await tp.p.http.post(`/v1/competitions/${id}/publish`, undefined, tp.manager.accessToken), 422, 'competition-incomplete');
    assert.deepEqual(problem.missing.map((m: { item: string }) => m.item), ['prizeReadiness/cashAlternativeReservedMinor']);
  });

  it('when a random-draw competition is due to open without its draw manifest, then it stays scheduled until the manifest is recorded', async () => {
    const id = await readyDraft(tp);
    const published = expectStatus(await tp.p.http.post(`/v1/competitions/${id}/publish`, undefined, tp.manager.accessToken), 200, 'publish');
    assert.equal(published.state, 'scheduled');
    // The opening timer ran (opensAt is past) and refused to open.
    await waitFor(async () => (await tp.p.db.maybeOne(`select 1 from pgboss.job where name = 'ticketing.job.competition-timer' and data->'data'->>'competitionId' = $1 and data->'data'->>'action' = 'open' and state = 'completed'`, [id])) !== undefined, { what: 'the opening timer to run' });
    assert.equal((await tp.ticketing.getCompetition({ competitionId: id }))?.state, 'scheduled');
    assert.equal(await refusal(tp.p.db, `update ticketing.competitions set state = 'on_sale' where id = $1`, [id]), 'competition_manifest_required');
    await tp.ticketing.recordDrawManifest({ competitionId: id, drawId: randomUUID(), manifestHash: 'c'.repeat(64), logIndex: 7 });
    assert.equal((await tp.ticketing.getCompetition({ competitionId: id }))?.state, 'on_sale');
    const published1 = (await outboxEvents(tp.p.db, 'ticketing.competition-published.v1')).find((e) => e.competitionId === id);
    assert.equal(published1?.state, 'scheduled');
    assert.equal((await outboxEvents(tp.p.db, 'ticketing.competition-opened.v1')).filter((e) => e.competitionId === id).length, 1);
    await assert.rejects(tp.ticketing.recordDrawManifest({ competitionId: id, drawId: randomUUID(), manifestHash: 'd'.repeat(64), logIndex: 8 }), (err: any) => err.code === 'draw-manifest-conflict');
  });

  it('when raw SQL tries a transition the lifecycle does not allow, then the database refuses it (the trigger matches domain/lifecycle.ts)', async () => {
    const { db } = tp.p;
    for (const from of COMPETITION_STATES) {
      for (const to of COMPETITION_STATES) {
        if (from === to) continue;
        // Closing needs a passed closing time; every other move a future one.
        const id = await rowIn(db, from, to === 'closed' ? -1 : 3600);
        const constraint = await refusal(db, `update ticketing.competitions set state = $2 where id = $1`, [id, to]);
        if (canTransition(from, to)) assert.notEqual(constraint, 'competition_transition', `${from} → ${to} should be allowed`);
        else assert.equal(constraint, 'competition_transition', `${from} → ${to} should be refused`);
      }
    }
  });

  it('when raw SQL changes published terms, closes early, moves the closing time or deletes rows, then the database refuses', async () => {
    const { db } = tp.p;
    const id = await onSaleCompetition(tp);
    assert.equal(await refusal(db, `update ticketing.competitions set price_minor = 1 where id = $1`, [id]), 'competition_terms_frozen');
    assert.equal(await refusal(db, `update ticketing.competitions set max_tickets = max_tickets + 1 where id = $1`, [id]), 'competition_terms_frozen');
    assert.equal(await refusal(db, `update ticketing.competitions set state = 'closed' where id = $1`, [id]), 'competition_closes_at');
    assert.equal(await refusal(db, `update ticketing.competitions set closes_at = closes_at + interval '1 day' where id = $1`, [id]), 'competition_closing_override');
    assert.equal(await refusal(db, `delete from ticketing.competitions where id = $1`, [id]), 'competition_immutable');
    const closedEarly = await rowIn(db, 'on_sale', 3600);
    assert.equal(await refusal(db, `update ticketing.competitions set state = 'closed' where id = $1`, [closedEarly]), 'competition_closes_at');
    const noTerms = randomUUID();
    await db.query(`insert into ticketing.competitions (id, title, draw_kind, currency, created_by) values ($1, 'bare', 'random', 'GBP', 'test')`, [noTerms]);
    assert.equal(await refusal(db, `update ticketing.competitions set state = 'scheduled' where id = $1`, [noTerms]), 'competition_terms_complete');
  });

  it('when an operator asks to move a published closing time, then only another operator with a fresh sign-in can approve it, audited, announced, never after close', async () => {
    const { http, db } = tp.p;
    const id = await onSaleCompetition(tp);
    const before = (await tp.ticketing.getCompetition({ competitionId: id }))!;
    const newClosesAt = new Date(Date.parse(before.closesAt!) + 86_400_000).toISOString();
    const o = expectStatus(await http.post(`/v1/competitions/${id}/closing-time-overrides`, { newClosesAt, reason: 'Prize delivery delayed by the supplier' }, tp.manager.accessToken), 201, 'requestClosingTimeChange');
    assert.equal(o.state, 'requested');
    expectProblem(await http.post(`/v1/competitions/${id}/closing-time-overrides/${o.overrideId}/approve`, undefined, tp.manager.accessToken), 403, 'second-operator-required');
    const approved = expectStatus(await http.post(`/v1/competitions/${id}/closing-time-overrides/${o.overrideId}/approve`, undefined, tp.second.accessToken), 200, 'approveClosingTimeChange');
    assert.equal(approved.state, 'approved');
    assert.equal((await tp.ticketing.getCompetition({ competitionId: id }))?.closesAt, newClosesAt);
    const shards = await db.query<{ closes_at: Date }>('select closes_at from ticketing.number_shards where competition_id = $1', [id]);
    assert.ok(shards.length > 0 && shards.every((s) => s.closes_at.toISOString() === newClosesAt));
    const changed = (await outboxEvents(db, 'ticketing.competition-closing-time-changed.v1')).filter((e) => e.competitionId === id);
    assert.deepEqual(changed.map((e) => [e.oldClosesAt, e.newClosesAt]), [[before.closesAt, newClosesAt]]);
    const audit = await db.query<{ action: string }>(`select action from kernel.audit_log where subject = $1 and action like 'ticketing.closing-time%' order by recorded_at`, [`competition:${id}`]);
    assert.deepEqual(audit.map((a) => a.action), ['ticketing.closing-time-change-requested', 'ticketing.closing-time-changed']);
    expectProblem(await http.post(`/v1/competitions/${id}/closing-time-overrides/${o.overrideId}/approve`, undefined, tp.second.accessToken), 409, 'override-not-pending');
    expectProblem(await http.post(`/v1/competitions/${id}/closing-time-overrides`, { newClosesAt: new Date(Date.now() - 1000).toISOString(), reason: 'Into the past' }, tp.manager.accessToken), 409, 'closing-time-not-changeable');
  });

  it('when the closing time passes, then the close job closes sales and announces the counts', async () => {
    const id = await onSaleCompetition(tp, { closesAt: new Date(Date.now() + 2_500) });
    await waitForState(tp, id, 'closed', 20_000);
    const closed = (await outboxEvents(tp.p.db, 'ticketing.competition-closed.v1')).find((e) => e.competitionId === id);
    assert.deepEqual({ sold: closed?.sold, postal: closed?.postal, validEntries: closed?.validEntries }, { sold: 0, postal: 0, validEntries: 0 });
    const summary = await tp.ticketing.getSalesSummary({ competitionId: id });
    assert.equal(summary.state, 'closed');
    assert.ok(summary.closedAt instanceof Date);
    await tp.ticketing.markDrawn({ competitionId: id, drawId: (await tp.ticketing.getCompetition({ competitionId: id }))!.drawManifest!.drawId, resultHash: 'e'.repeat(64) });
    await tp.ticketing.markDrawn({ competitionId: id, drawId: (await tp.ticketing.getCompetition({ competitionId: id }))!.drawManifest!.drawId, resultHash: 'e'.repeat(64) });
    assert.equal((await tp.ticketing.getCompetition({ competitionId: id }))?.state, 'drawn');
  });

  it('when a slice\'s lucky-dip positions are permuted in the database, then every number of the slice comes out exactly once', async () => {
    for (const capacity of [1, 2, 3, 5, 63, 64, 65, 100, 1000, 4097]) {
      const keys = roundKeys(randomBytes(32), 3).map(String);
      const row = await tp.p.db.one<{ n: bigint; distinct_n: bigint; lo: number; hi: number }>(
        `select count(*) as n, count(distinct o) as distinct_n, min(o) as lo, max(o) as hi
           from (select ticketing.lucky_offset($1::bigint[], $2, g) as o from generate_series(0, $2 - 1) g) x`,
        [keys, capacity],
      );
      assert.deepEqual([Number(row.n), Number(row.distinct_n), row.lo, row.hi], [capacity, capacity, 0, capacity - 1]);
    }
  });

  it('when the public lists competitions, then drafts are hidden and pages follow the cursor', async () => {
    const { http } = tp.p;
    const first = expectStatus(await http.get('/v1/competitions?limit=2'), 200, 'listCompetitions');
    assert.equal(first.items.length, 2);
    assert.ok(first.items.every((c: { state: string }) => c.state !== 'draft'));
    const second = expectStatus(await http.get(`/v1/competitions?limit=2&cursor=${first.nextCursor}`), 200, 'next page');
    assert.ok(second.items.every((c: { competitionId: string }) => !first.items.some((f: { competitionId: string }) => f.competitionId === c.competitionId)));
    expectProblem(await http.get('/v1/competitions?cursor=nope'), 400, 'validation-failed');
  });
});
