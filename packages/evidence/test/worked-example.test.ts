/**
 * docs/draw-protocol.md §10 must show what the code computes: every number of the worked example
 * is recomputed here and looked up in the document, and the example's records verify as a draw.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { QUICKNET, verifyDrandBeacon } from '../src/index.ts';
import { EXAMPLE, workedExample } from './support/worked-example.ts';

const doc = readFileSync(new URL('../../../docs/draw-protocol.md', import.meta.url), 'utf8');

test('when the worked example is recomputed, then every value in the protocol document matches', () => {
  const x = workedExample();
  const expected = [
    x.leafHash0,
    x.root,
    x.randomness,
    x.commitment,
    x.manifestJcs,
    x.manifestLeafHash,
    x.closeJcs,
    x.closeLeafHash,
    x.resultJcs,
    x.resultLeafHash,
    x.leafData0.slice(2, 34),
    ...x.entries.map((e) => e.holder),
    ...x.steps.flatMap((s) => s.candidates.map((c) => `| ${s.position} | ${s.range} | \`${c.hex}\` | ${c.value} | yes | ${s.j} | ${s.winner} |`)),
  ];
  for (const v of expected) assert.ok(doc.includes(v), `docs/draw-protocol.md lacks ${v.slice(0, 80)}`);
  assert.equal(x.personalization, `${Buffer.from('verity/draw/v1').toString('hex')}00${Buffer.from(EXAMPLE.drawId).toString('hex')}${x.root}000000000000000a`);
  assert.deepEqual(x.winners, [5, 4, 1]);
});

test('when the example beacon is checked, then it is a real quicknet beacon emitted after the example close', () => {
  const r = verifyDrandBeacon(QUICKNET, { round: EXAMPLE.round, signature: EXAMPLE.signature });
  assert.equal(r.ok, true);
  assert.equal(workedExample().roundTimeIso, '2025-01-08T16:40:03.000Z');
});
