import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import { adminToken } from '@verity/identity/testing';
import {
  answer, expectProblem, expectStatus, player, pngImage, publishCompetition, startAttempt, startSkillPlatform, uploadImage, waitForCompetition, type SkillPlatform,
} from './support/skill.ts';

type Point = { x: number; y: number };

describe('spot-the-ball', () => {
  let s: SkillPlatform;
  let imageId: string;
  let imageSha256: string;
  let nextNumber = 1;

  before(async () => {
    s = await startSkillPlatform();
    const uploaded = expectStatus(await uploadImage(s, pngImage(200, 100)), 201, 'uploadSkillImage');
    imageId = uploaded.imageId;
    imageSha256 = uploaded.sha256;
  });
  after(() => s?.p.stop());

  async function competition(): Promise<string> {
    const competitionId = randomUUID();
    expectStatus(await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'spot-the-ball', imageId, maxPlacementsPerToken: 3 }, s.author.accessToken), 200, 'configureSkillTest');
    await publishCompetition(s, competitionId, { drawKind: 'spot-the-ball' });
    return competitionId;
  }

  /** An entrant places balls, passes, and buys one ticket per placement; returns the ticket ids in placement order. */
  async function enter(competitionId: string, placements: Point[], numbers?: number[]): Promise<string[]> {
    const entrant = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'startSkillTest');
    assert.deepEqual(started.image, { imageId, sha256: imageSha256, contentType: 'image/png', sizeBytes: started.image.sizeBytes, width: 200, height: 100 });
    const passed = expectStatus(await answer(s, entrant.accessToken, started.attemptId, { placements }), 200, 'answerSkillTest');
    assert.equal(passed.placements, placements.length);
    assert.equal((await s.skill.verifyPassToken({ token: passed.token, playerId: entrant.playerId, competitionId })).valid, true);
    const tickets = placements.map((_, i) => ({ ticketId: randomUUID(), number: numbers?.[i] ?? nextNumber++ }));
    await s.ticketing.publish([{
      type: 'ticketing.tickets-purchased.v1', subject: competitionId,
      data: { purchaseId: randomUUID(), competitionId, playerId: entrant.playerId, skillTokenId: passed.tokenId, tickets, amountMinor: '398', currency: 'GBP' },
    }]);
    return tickets.map((t) => t.ticketId);
  }

  async function close(competitionId: string, sold: number, voided: number): Promise<void> {
    await s.ticketing.publish([{ type: 'ticketing.competition-closed.v1', subject: competitionId, data: { competitionId, closedAt: new Date().toISOString(), sold, voided, postal: 0, validEntries: sold - voided } }]);
    await waitForCompetition(s, competitionId, 'closed');
  }

  const judge = (token: string, competitionId: string, p: Point) => s.p.http.post(`/v1/competitions/${competitionId}/skill-test/judgements`, p, token);
  const linked = async (competitionId: string) => Number((await s.p.db.one<{ n: bigint }>('select count(*) as n from skill.placements where competition_id = $1 and ticket_id is not null', [competitionId])).n);

  it('when two judges agree, then the closest valid placement wins, ties go to the earlier placement, voided tickets take no part, and the judging is evidence', async () => {
    const competitionId = await competition();
    nextNumber = 1;
    const [a1, a2] = await enter(competitionId, [{ x: 50, y: 50 }, { x: 120, y: 40 }]);
    // B places before E at the same distance; E's ticket has the lower number, B's placement is earlier.
    const [b] = await enter(competitionId, [{ x: 103, y: 50 }], [4]);
    const [e] = await enter(competitionId, [{ x: 97, y: 50 }], [3]);
    const [c] = await enter(competitionId, [{ x: 100, y: 50 }], [5]);
    await s.ticketing.publish([{ type: 'ticketing.tickets-voided.v1', subject: competitionId, data: { competitionId, ticketIds: [c], reason: 'refunded' } }]);
    await waitFor(async () => (await linked(competitionId)) === 5 && (await s.p.db.maybeOne('select 1 from skill.voided_tickets where ticket_id = $1', [c])) !== undefined, { what: 'purchases and the void to reach skill' });

    expectProblem(await judge(s.author.accessToken, competitionId, { x: 98, y: 49 }), 409, 'judging-not-open');
    await close(competitionId, 5, 1);

    const first = expectStatus(await judge(s.author.accessToken, competitionId, { x: 98, y: 49 }), 200, 'judge 1');
    assert.equal(first.state, 'awaiting-judges');
    assert.equal(first.roundsRecorded, 1);
    assert.equal(first.judgements, undefined, 'points stay hidden until the result');
    expectProblem(await judge(s.author.accessToken, competitionId, { x: 98, y: 49 }), 403, 'judge-already-recorded');
    expectProblem(await judge(s.approver.accessToken, competitionId, { x: 250, y: 49 }), 400, 'validation-failed');

    const judged = expectStatus(await judge(s.approver.accessToken, competitionId, { x: 103, y: 52 }), 200, 'judge 2');
    assert.equal(judged.state, 'judged');
    assert.deepEqual(judged.result.judgedPoint, { x: 100, y: 50 }); // midpoint (100.5, 50.5) rounded down
    assert.equal(judged.result.method, 'midpoint');
    assert.equal(judged.result.entries, 4);
    assert.deepEqual(judged.result.winners, [{ rank: 1, ticketId: b, ticketNumber: 4, distanceSq: 9 }]);
    assert.equal(judged.imageSha256, imageSha256);
    assert.match(judged.rules.tieBreak, /earlier placement/);

    const ranking = expectStatus(await s.p.http.get(`/v1/competitions/${competitionId}/skill-test/ranking`, s.author.accessToken), 200, 'ranking');
    assert.deepEqual(ranking.items.map((r: { ticketId: string; distanceSq: number }) => [r.ticketId, r.distanceSq]), [[b, 9], [e, 9], [a2, 500], [a1, 2500]]);
    const hash = createHash('sha256').update('verity/spot-the-ball/ranking/v1\n');
    for (const r of ranking.items) hash.update(`${r.rank},${r.ticketId},${r.ticketNumber},${r.x},${r.y},${r.distanceSq},${r.placementSeq}\n`);
    assert.equal(judged.result.rankingHash, hash.digest('hex'));

    const event = await s.p.db.one<{ data: any }>("select data from skill.outbox where type = 'skill.spot-the-ball-judged.v1' and subject = $1", [competitionId]);
    assert.deepEqual(event.data.winners, [{ rank: 1, ticketId: b, ticketNumber: 4, distanceSq: 9 }]);
    assert.deepEqual(event.data.judgedPoint, { x: 100, y: 50 });
    const audit = await s.p.db.one<{ id: string; data: any }>("select id, data from kernel.audit_log where action = 'skill.spot-the-ball-judged' and subject = $1", [`competition:${competitionId}`]);
    assert.equal(audit.id, judged.result.auditId);
    assert.equal(audit.data.imageSha256, imageSha256);
    assert.equal(audit.data.rankingHash, judged.result.rankingHash);
    assert.deepEqual(audit.data.judgements.map((j: Point & { round: number }) => [j.round, j.x, j.y]), [[1, 98, 49], [2, 103, 52]]);

    // Entrants see the points and the result, not who the judges were.
    const entrantView = expectStatus(await s.p.http.get(`/v1/competitions/${competitionId}/skill-test/judging`, (await player(s)).accessToken), 200, 'getSpotTheBallJudging');
    assert.deepEqual(entrantView.judgements.map((j: Record<string, unknown>) => Object.keys(j).sort()), [['recordedAt', 'round', 'x', 'y'], ['recordedAt', 'round', 'x', 'y']]);
    expectProblem(await judge(await adminToken(s.p), competitionId, { x: 100, y: 50 }), 409, 'judging-complete');
  });

  it('when two judges disagree beyond the tolerance, then a third judge is needed and the judged point is the median of the three', async () => {
    const competitionId = await competition();
    const [t] = await enter(competitionId, [{ x: 10, y: 10 }], [1]);
    await waitFor(async () => (await linked(competitionId)) === 1, { what: 'the purchase to reach skill' });
    await close(competitionId, 1, 0);
    expectStatus(await judge(s.author.accessToken, competitionId, { x: 20, y: 20 }), 200, 'judge 1');
    const split = expectStatus(await judge(s.approver.accessToken, competitionId, { x: 80, y: 60 }), 200, 'judge 2');
    assert.equal(split.state, 'needs-third-judge');
    const judged = expectStatus(await judge(await adminToken(s.p), competitionId, { x: 30, y: 90 }), 200, 'judge 3');
    assert.equal(judged.state, 'judged');
    assert.equal(judged.result.method, 'median-of-three');
    assert.deepEqual(judged.result.judgedPoint, { x: 30, y: 60 });
    assert.deepEqual(judged.result.winners, [{ rank: 1, ticketId: t, ticketNumber: 1, distanceSq: 20 * 20 + 50 * 50 }]);
  });

  it('when ticketing reports more valid tickets than skill has seen, then judging waits for them', async () => {
    const competitionId = await competition();
    await close(competitionId, 2, 0);
    const res = await judge(s.author.accessToken, competitionId, { x: 20, y: 20 });
    expectProblem(res, 409, 'judging-entries-incomplete');
    assert.deepEqual([res.body.expected, res.body.known], [2, 0]);
  });

  it('when the competition is cancelled, then it is not judged', async () => {
    const competitionId = await competition();
    await s.ticketing.publish([{ type: 'ticketing.competition-cancelled.v1', subject: competitionId, data: { competitionId, reason: 'prize unavailable' } }]);
    await waitForCompetition(s, competitionId, 'cancelled');
    expectProblem(await judge(s.author.accessToken, competitionId, { x: 20, y: 20 }), 409, 'judging-not-open');
    const view = expectStatus(await s.p.http.get(`/v1/competitions/${competitionId}/skill-test/judging`, s.author.accessToken), 200, 'judging');
    assert.equal(view.state, 'cancelled');
  });

  it('when placements or images are invalid, then problem+json says which', async () => {
    const competitionId = await competition();
    const entrant = await player(s);
    const started = expectStatus(await startAttempt(s, entrant.accessToken, competitionId), 201, 'start');
    const outside = await answer(s, entrant.accessToken, started.attemptId, { placements: [{ x: 10, y: 10 }, { x: 200, y: 10 }] });
    expectProblem(outside, 400, 'validation-failed');
    assert.equal(outside.body.errors[0].pointer, '/body/placements/1/x');
    const tooMany = await answer(s, entrant.accessToken, started.attemptId, { placements: [{ x: 1, y: 1 }, { x: 2, y: 2 }, { x: 3, y: 3 }, { x: 4, y: 4 }] });
    expectProblem(tooMany, 400, 'validation-failed');
    expectProblem(await answer(s, entrant.accessToken, started.attemptId, { optionId: 'a' }), 400, 'validation-failed');
    expectProblem(await uploadImage(s, Buffer.from('GIF89a not an image we take')), 415, 'image-type-unsupported');
    expectProblem(await uploadImage(s, pngImage(20_000, 10)), 400, 'validation-failed');
    const image = await s.p.http.request('GET', `/v1/skill/images/${imageId}`, { token: entrant.accessToken });
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/png');
    assert.equal(image.headers.get('x-content-sha256'), imageSha256);
  });
});
