/**
 * The draw protocol's pure parts: canonical entry bytes and root (streamed), RFC 8785 records,
 * winner selection (deterministic, without replacement, uniform), tiers, and a player's own
 * inclusion proof. Also the χ² helper the bench uses, against known values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  canonicalJson,
  drawPersonalization,
  DrawProtocolError,
  entriesRoot,
  entryInclusionProof,
  entryLeafData,
  entryLeafHash,
  holderCommitment,
  manifestBytes,
  rootOf,
  selectWinners,
  sha256,
  tierOfPosition,
  uniformBelow,
  toHex,
  verifyEntryInclusion,
  type CanonicalEntry,
} from '../src/index.ts';
import { bytesToWords, nodeHashWords, sha256Block59, wordsToBytes } from '../src/sha256-words.ts';
import { leafHash, nodeHash } from '../src/merkle.ts';
import { buildDrawFixture, detBytes, makeEntries } from './support/draw-fixture.ts';
import { chiSquareSurvival, chiSquareUniform } from './support/stats.ts';

const entry: CanonicalEntry = {
  entryId: '0190a5c2-7e4b-7cc1-9a3e-5b8d2f6e1a04',
  number: 258,
  kind: 'postal',
  holder: 'aa'.repeat(32),
};

describe('canonical entries and the entries root', () => {
  test('when encoding an entry, then the leaf data is version ‖ uuid ‖ number u64be ‖ kind ‖ holder (58 bytes)', () => {
    assert.equal(toHex(entryLeafData(entry)), `01${'0190a5c27e4b7cc19a3e5b8d2f6e1a04'}${'0000000000000102'}02${'aa'.repeat(32)}`);
    assert.equal(toHex(entryLeafData({ ...entry, kind: 'paid' })).slice(50, 52), '01');
    assert.equal(toHex(entryLeafHash(entry)), toHex(sha256(new Uint8Array([0, ...entryLeafData(entry)]))));
  });

  test('when an entry is not canonical, then encoding refuses it', () => {
    const bad: Partial<CanonicalEntry>[] = [
      { entryId: entry.entryId.toUpperCase() },
      { entryId: '0190a5c27e4b7cc19a3e5b8d2f6e1a04' },
      { number: -1 },
      { number: 2 ** 53 },
      { number: 1.5 },
      { kind: 'free' as never },
      { kind: 'toString' as never },
      { holder: 'AA'.repeat(32) },
      { holder: 'aa'.repeat(31) },
    ];
    for (const b of bad) assert.throws(() => entryLeafData({ ...entry, ...b }), DrawProtocolError, JSON.stringify(b));
  });

  test('when entries stream from a generator, then the root equals the RFC 9162 root of their leaf hashes', () => {
    const entries = makeEntries(1000);
    function* stream() {
      yield* entries;
    }
    const { root, count } = entriesRoot(stream());
    assert.equal(count, 1000);
    assert.equal(toHex(root), toHex(rootOf(entries.map(entryLeafHash))));
    assert.equal(toHex(entriesRoot([]).root), toHex(sha256(new Uint8Array(0))));
  });

  test('when the word-based SHA-256 hashes leaf and node inputs, then it equals node:crypto on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 58, maxLength: 58 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (data, l, r) => {
        const block = new Uint8Array(64);
        block.set(data, 1);
        block[59] = 0x80;
        const out = new Int32Array(24);
        sha256Block59(block, out, 8);
        assert.equal(toHex(wordsToBytes(out, 8)), toHex(leafHash(data)));
        bytesToWords(l, out, 0);
        bytesToWords(r, out, 8);
        nodeHashWords(out, 0, 8, out, 16);
        assert.equal(toHex(wordsToBytes(out, 16)), toHex(nodeHash(l, r)));
        nodeHashWords(out, 0, 8, out, 0);
        assert.equal(toHex(wordsToBytes(out, 0)), toHex(nodeHash(l, r)), 'the output may overwrite the left input');
      }),
      { numRuns: 300 },
    );
  });

  test('when entries are not in strictly ascending number order, then the root is refused', () => {
    const entries = makeEntries(5);
    assert.throws(() => entriesRoot([entries[1]!, entries[0]!]), /canonical order/);
    assert.throws(() => entriesRoot([entries[0]!, { ...entries[1]!, number: entries[0]!.number }]), /canonical order/);
  });

  test('when a player checks their own ticket, then the proof verifies, also with their salt and id; a wrong one does not', () => {
    const salt = detBytes('my-salt');
    const entries = makeEntries(37).map((e, i) => (i === 21 ? { ...e, holder: holderCommitment(salt, 'player-42') } : e));
    const p = entryInclusionProof(entries, entries[21]!.entryId);
    assert.equal(p.index, 21);
    assert.equal(p.root, toHex(entriesRoot(entries).root));
    assert.ok(verifyEntryInclusion(p));
    assert.ok(verifyEntryInclusion({ ...p, salt: toHex(salt), playerId: 'player-42' }));
    assert.equal(verifyEntryInclusion({ ...p, salt: toHex(salt), playerId: 'player-43' }), false);
    assert.equal(verifyEntryInclusion({ ...p, salt: toHex(salt) }), false);
    assert.equal(verifyEntryInclusion({ ...p, leaf: { ...p.leaf, number: p.leaf.number + 1 } }), false);
    assert.equal(verifyEntryInclusion({ ...p, index: 22 }), false);
    assert.equal(verifyEntryInclusion({ ...p, proof: ['zz'] }), false);
    assert.throws(() => entryInclusionProof(entries, '00000000-0000-4000-8000-000000000000'), DrawProtocolError);
  });
});

describe('records', () => {
  test('when the manifest is encoded, then it is RFC 8785 JSON with the type member, key order independent', () => {
    const { bundle } = buildDrawFixture();
    const m = bundle.manifest;
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(m).reverse())));
    const text = new TextDecoder().decode(manifestBytes(m));
    assert.equal(text, new TextDecoder().decode(manifestBytes(reordered)));
    assert.ok(text.startsWith('{"beacon":{"chainHash":'));
    assert.ok(text.includes('"type":"verity/draw/manifest/v1"'));
    assert.throws(() => manifestBytes({ ...m, type: 'x' } as never), DrawProtocolError);
  });

  test('when canonicalizing JSON, then numbers, escapes and key order follow RFC 8785', () => {
    assert.equal(canonicalJson({ b: [1e21, 0.1, -0, 1e-7], a: 'é\u2028"\\\n', c: { z: null, y: true } }), '{"a":"é\u2028\\"\\\\\\n","b":[1e+21,0.1,0,1e-7],"c":{"y":true,"z":null}}');
    assert.equal(canonicalJson({ '\u20ac': 1, '\r': 2, '1': 3, '\u00e9': 4 }), '{"\\r":2,"1":3,"é":4,"€":1}');
    assert.throws(() => canonicalJson({ a: Number.NaN }), TypeError);
    assert.throws(() => canonicalJson({ a: '\ud800' }), TypeError);
  });
});

const input = (over: Partial<Parameters<typeof selectWinners>[0]> = {}) => ({
  beaconRandomness: detBytes('beacon'),
  operatorSecret: detBytes('secret'),
  drawId: 'draw-1',
  entriesRoot: detBytes('root'),
  count: 1000,
  winners: 10,
  ...over,
});

describe('winner selection', () => {
  test('when the same inputs are drawn twice, then the winners are identical; any changed input changes them', () => {
    const base = selectWinners(input());
    assert.deepEqual(selectWinners(input()), base);
    for (const change of [{ beaconRandomness: detBytes('beacon2') }, { operatorSecret: detBytes('secret2') }, { drawId: 'draw-2' }, { entriesRoot: detBytes('root2') }, { count: 1001 }]) {
      assert.notDeepEqual(selectWinners(input(change)), base, JSON.stringify(Object.keys(change)));
    }
    assert.deepEqual(selectWinners(input({ winners: 3 })), base.slice(0, 3), 'a prefix: position i does not depend on later positions');
  });

  test('when drawing up to every entry, then the winners are distinct indexes in range (a permutation when all are drawn)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 100 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (count, w, randomness) => {
        const winners = Math.min(count, w);
        const out = selectWinners(input({ count, winners, beaconRandomness: randomness }));
        assert.equal(out.length, winners);
        assert.equal(new Set(out).size, winners);
        assert.ok(out.every((i) => Number.isInteger(i) && i >= 0 && i < count));
      }),
      { numRuns: 200 },
    );
    assert.deepEqual([...selectWinners(input({ count: 9, winners: 9 }))].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('when the draw is out of bounds, then it is refused', () => {
    assert.throws(() => selectWinners(input({ winners: 1001 })), DrawProtocolError);
    assert.throws(() => selectWinners(input({ operatorSecret: new Uint8Array(31) })), DrawProtocolError);
    assert.throws(() => selectWinners(input({ beaconRandomness: new Uint8Array(33) })), DrawProtocolError);
    assert.throws(() => selectWinners(input({ drawId: '' })), DrawProtocolError);
    assert.deepEqual(selectWinners(input({ count: 0, winners: 0 })), []);
  });

  test('when a 64-bit candidate falls in the biased top of the range, then it is rejected and the next one is used', () => {
    const outputs = ['ffffffffffffffff', 'fffffffffffffffa', '0000000000000007'].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    const calls: number[] = [];
    const fake = { generate: (n: number) => (calls.push(n), outputs.shift()!) };
    // range 10: limit = 2^64 − (2^64 mod 10) = 2^64 − 6, so 2^64 − 1 and 2^64 − 6 are rejected
    assert.equal(uniformBelow(fake, 10), 7);
    assert.deepEqual(calls, [8, 8, 8]);
    const accept = { generate: () => Uint8Array.from(Buffer.from('fffffffffffffff9', 'hex')) };
    assert.equal(uniformBelow(accept, 10), Number((2n ** 64n - 7n) % 10n), '2^64 − 7 is the largest accepted value');
  });

  test('when the personalization is built, then it is tag ‖ 0x00 ‖ drawId ‖ root ‖ count u64be', () => {
    assert.equal(toHex(drawPersonalization('d', new Uint8Array(32).fill(0xab), 258)), `${Buffer.from('verity/draw/v1').toString('hex')}0064${'ab'.repeat(32)}0000000000000102`);
  });

  test('when 20 000 one-winner draws are run over 10 entries, then the χ² test does not reject uniformity', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[selectWinners(input({ count: 10, winners: 1, beaconRandomness: sha256(new Uint8Array(new Uint32Array([i]).buffer)) }))[0]!]++;
    const { pValue } = chiSquareUniform(counts);
    assert.ok(pValue > 0.001, `p = ${pValue}, counts ${counts}`);
  });

  test('when tiers are assigned, then consecutive positions go to tiers in manifest order', () => {
    const m = { prizeTiers: [{ tier: 1, description: 'a', winners: 1 }, { tier: 2, description: 'b', winners: 3 }] };
    assert.deepEqual([0, 1, 2, 3].map((p) => tierOfPosition(m, p)), [1, 2, 2, 2]);
    assert.throws(() => tierOfPosition(m, 4), DrawProtocolError);
  });
});

describe('χ² survival function', () => {
  test('when evaluated at known quantiles, then it gives the tabulated p-values', () => {
    const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);
    close(chiSquareSurvival(3.841458820694124, 1), 0.05);
    close(chiSquareSurvival(16.918977604620448, 9), 0.05);
    close(chiSquareSurvival(21.665994333461924, 9), 0.01);
    close(chiSquareSurvival(2, 2), Math.exp(-1));
    close(chiSquareSurvival(0, 5), 1);
    close(chiSquareSurvival(1000, 9), 0, 1e-12);
  });
});
