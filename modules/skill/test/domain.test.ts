import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { move, passRateBp, passRateExceeded } from '../src/domain/attempt.ts';
import { readImageInfo } from '../src/domain/image.ts';
import { isCorrectWrittenAnswer, normaliseAnswer, toContent } from '../src/domain/question.ts';
import { compareEntries, judgedPoint, rankingHasher, rankingLine, type RankedEntry } from '../src/domain/spot-the-ball.ts';
import { checkPassToken, signPassToken } from '../src/domain/token.ts';
import { pngImage } from './support/skill.ts';

const mac = (input: string) => createHmac('sha256', 'test-key').update(input).digest('hex');
const otherMac = (input: string) => createHmac('sha256', 'another-key').update(input).digest('hex');
const PLAYER = '0190a0b0-0000-7000-8000-000000000001';
const COMPETITION = '0190a0b0-0000-7000-8000-0000000000c1';
const token = (o: { exp?: number; placements?: number } = {}) =>
  signPassToken({ tokenId: '0190a0b0-0000-7000-8000-0000000000aa', playerId: PLAYER, competitionId: COMPETITION, exp: o.exp ?? 2_000_000_000, ...(o.placements ? { placements: o.placements } : {}) }, mac);

describe('skill domain rules', () => {
  it('when a pass token is checked, then only an untampered, unexpired token for the same player and competition is valid', () => {
    const expect = { playerId: PLAYER, competitionId: COMPETITION, nowMs: 1_900_000_000_000 };
    const ok = checkPassToken(token({ placements: 3 }), expect, mac);
    assert.equal(ok.valid, true);
    assert.equal(ok.valid && ok.payload.placements, 3);
    assert.deepEqual(checkPassToken(token(), { ...expect, playerId: '0190a0b0-0000-7000-8000-000000000002' }, mac), { valid: false, reason: 'wrong-player' });
    assert.deepEqual(checkPassToken(token(), { ...expect, competitionId: '0190a0b0-0000-7000-8000-0000000000c2' }, mac), { valid: false, reason: 'wrong-competition' });
    assert.deepEqual(checkPassToken(token({ exp: 1_900_000_000 }), expect, mac), { valid: false, reason: 'expired' });
    assert.deepEqual(checkPassToken(token(), expect, otherMac), { valid: false, reason: 'bad-signature' });
    assert.deepEqual(checkPassToken('not a token', expect, mac), { valid: false, reason: 'malformed' });
    // A payload edited to another player keeps the old signature: refused before its content is read.
    const [prefix, body, sig] = token().split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), pid: 'someone-else' })).toString('base64url');
    assert.deepEqual(checkPassToken(`${prefix}.${forged}.${sig}`, expect, mac), { valid: false, reason: 'bad-signature' });
  });

  it('when any single character of a token changes, then it is never valid', () => {
    const t = token();
    const expect = { playerId: PLAYER, competitionId: COMPETITION, nowMs: 1_900_000_000_000 };
    fc.assert(fc.property(fc.integer({ min: 0, max: t.length - 1 }), fc.constantFrom(...'ABCxyz019-_.'), (i, ch) => {
      if (t[i] === ch) return true;
      return !checkPassToken(t.slice(0, i) + ch + t.slice(i + 1), expect, mac).valid;
    }));
  });

  it('when two judges agree within the tolerance, then the judged point is their midpoint rounded down; otherwise a third decides by the median', () => {
    assert.deepEqual(judgedPoint([], 10), { state: 'waiting', roundsNeeded: 2 });
    assert.deepEqual(judgedPoint([{ x: 100, y: 100 }], 10), { state: 'waiting', roundsNeeded: 1 });
    assert.deepEqual(judgedPoint([{ x: 100, y: 100 }, { x: 107, y: 101 }], 10), { state: 'judged', point: { x: 103, y: 100 }, method: 'midpoint' });
    // Exactly at the tolerance still agrees (6² + 8² = 10²).
    assert.equal(judgedPoint([{ x: 0, y: 0 }, { x: 6, y: 8 }], 10).state, 'judged');
    assert.deepEqual(judgedPoint([{ x: 0, y: 0 }, { x: 6, y: 9 }], 10), { state: 'needs-third-judge' });
    assert.deepEqual(judgedPoint([{ x: 0, y: 0 }, { x: 60, y: 90 }, { x: 10, y: 500 }], 10), { state: 'judged', point: { x: 10, y: 90 }, method: 'median-of-three' });
  });

  it('when placements tie on distance, then the earlier placement wins, then the lower ticket number', () => {
    const e = (distanceSq: number, seq: number, ticketNumber: number): RankedEntry => ({ ticketId: `t${seq}-${ticketNumber}`, ticketNumber, placementSeq: BigInt(seq), x: 0, y: 0, distanceSq });
    const sorted = [e(5, 9, 1), e(4, 7, 3), e(4, 2, 8), e(4, 2, 5)].sort(compareEntries);
    assert.deepEqual(sorted.map((x) => [x.distanceSq, Number(x.placementSeq), x.ticketNumber]), [[4, 2, 5], [4, 2, 8], [4, 7, 3], [5, 9, 1]]);
    const h = rankingHasher();
    sorted.forEach((x) => h.add(x));
    assert.match(h.digest(), /^[0-9a-f]{64}$/);
    assert.equal(rankingLine(1, sorted[0]!), '1,t2-5,5,0,0,4,2\n');
  });

  it('when a pass rate is judged, then the threshold is exact in integers and needs the minimum number of answers', () => {
    const rule = { minAnswers: 10, maxPassRateBp: 9000 };
    assert.equal(passRateExceeded({ answers: 9, passes: 9 }, rule), false);
    assert.equal(passRateExceeded({ answers: 10, passes: 9 }, rule), false);
    assert.equal(passRateExceeded({ answers: 10, passes: 10 }, rule), true);
    assert.equal(passRateExceeded({ answers: 1000, passes: 901 }, rule), true);
    assert.equal(passRateBp(3, 2), 6666);
  });

  it('when an attempt is settled, then it cannot be answered again', () => {
    assert.equal(move('open', 'pass'), 'passed');
    assert.throws(() => move('passed', 'fail'), { code: 'skill-attempt-answered' });
    assert.throws(() => move('expired', 'pass'), { code: 'skill-attempt-answered' });
  });

  it('when a written postal answer is graded, then the option text or its label counts, whatever the case and spacing', () => {
    const content = toContent({ text: 'Which river runs through London?', options: ['Seine', 'River  Thames', 'Danube'], correctOption: 1, category: 'geography', difficulty: 'easy' });
    for (const a of ['river thames', '  RIVER THAMES. ', 'B', '(b)', 'b)']) assert.equal(isCorrectWrittenAnswer(content, a), true, a);
    for (const a of ['Seine', 'a', 'Thames', '', '   ']) assert.equal(isCorrectWrittenAnswer(content, a), false, a);
    assert.equal(normaliseAnswer('Ｌｏｎｄｏｎ'), 'london');
  });

  it('when an image is uploaded, then its type and size come from its bytes', () => {
    assert.deepEqual(readImageInfo(pngImage(640, 480)), { contentType: 'image/png', width: 640, height: 480 });
    // A baseline JPEG: SOI, an APP0 segment, then SOF0 with height 300 and width 500.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x01, 0x2c, 0x01, 0xf4, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
    assert.deepEqual(readImageInfo(jpeg), { contentType: 'image/jpeg', width: 500, height: 300 });
    assert.equal(readImageInfo(Buffer.from('GIF89a……')), undefined);
    assert.equal(readImageInfo(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), undefined);
  });
});
