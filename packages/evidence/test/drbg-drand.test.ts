/**
 * HMAC_DRBG (SP 800-90A §10.1.2) against NIST CAVP vectors, and drand quicknet verification against
 * real recorded beacons; tampered vectors and beacons are refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  drandPublicKey,
  firstRoundAfter,
  fromHex,
  HmacDrbg,
  localBeacon,
  localBeaconSecretKey,
  QUICKNET,
  roundAt,
  roundTime,
  sha256,
  toHex,
  verifyDrandBeacon,
} from '../src/index.ts';
import { detBytes } from './support/draw-fixture.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const cavp = fixture('hmac-drbg-sha256-cavp.json');
const beacons = fixture('drand-beacons.json');
const h = (s: string) => fromHex(s);

function runNoReseed(v: any): string {
  const d = new HmacDrbg(h(v.entropy), h(v.nonce), h(v.pers));
  const n = v.expected.length / 2;
  d.generate(n, h(v.add[0]));
  return toHex(d.generate(n, h(v.add[1])));
}
function runPrFalse(v: any): string {
  const d = new HmacDrbg(h(v.entropy), h(v.nonce), h(v.pers));
  d.reseed(h(v.entropyReseed), h(v.addReseed));
  const n = v.expected.length / 2;
  d.generate(n, h(v.add[0]));
  return toHex(d.generate(n, h(v.add[1])));
}
function runPrTrue(v: any): string {
  const d = new HmacDrbg(h(v.entropy), h(v.nonce), h(v.pers));
  const n = v.expected.length / 2;
  d.reseed(h(v.entropyPR[0]), h(v.add[0]));
  d.generate(n);
  d.reseed(h(v.entropyPR[1]), h(v.add[1]));
  return toHex(d.generate(n));
}
const flip = (hex: string, at = 0) => `${hex.slice(0, at)}${(parseInt(hex[at]!, 16) ^ 1).toString(16)}${hex.slice(at + 1)}`;

describe('HMAC_DRBG SHA-256, NIST CAVP vectors', () => {
  test('when running the no-reseed vectors (with and without personalization), then ReturnedBits match', () => {
    for (const v of cavp.no_reseed) assert.equal(runNoReseed(v), v.expected, v.name);
  });

  test('when running the reseed vectors (with and without additional input), then ReturnedBits match', () => {
    for (const v of cavp.pr_false) assert.equal(runPrFalse(v), v.expected, v.name);
    for (const v of cavp.pr_true) assert.equal(runPrTrue(v), v.expected, v.name);
  });

  test('when any input of a vector is tampered with, then the output no longer matches', () => {
    for (const v of [...cavp.no_reseed.slice(0, 2), cavp.no_reseed[4]]) {
      assert.notEqual(runNoReseed({ ...v, entropy: flip(v.entropy) }), v.expected);
      assert.notEqual(runNoReseed({ ...v, nonce: flip(v.nonce, 31) }), v.expected);
      assert.notEqual(runNoReseed({ ...v, pers: v.pers ? flip(v.pers, 5) : '00' }), v.expected);
      assert.notEqual(runNoReseed({ ...v, add: ['', '01'] }), v.expected);
    }
    const v = cavp.pr_false[3];
    assert.notEqual(runPrFalse({ ...v, addReseed: flip(v.addReseed) }), v.expected);
    assert.notEqual(runPrFalse({ ...v, add: [v.add[0], flip(v.add[1], 63)] }), v.expected);
    assert.notEqual(runPrFalse({ ...v, entropyReseed: flip(v.entropyReseed, 10) }), v.expected);
  });

  test('when a request is out of the SP 800-90A limits or the entropy is short, then it is refused', () => {
    const d = new HmacDrbg(new Uint8Array(32), new Uint8Array(16));
    assert.throws(() => d.generate(65537), RangeError);
    assert.throws(() => d.generate(-1), RangeError);
    assert.throws(() => new HmacDrbg(new Uint8Array(31), new Uint8Array(16)), RangeError);
    assert.equal(d.generate(0).length, 0);
    assert.equal(d.generate(65536).length, 65536);
  });

  test('when output is requested in different chunkings, then each generate call is its own SP 800-90A request', () => {
    const a = new HmacDrbg(detBytes('e'), detBytes('n'));
    const b = new HmacDrbg(detBytes('e'), detBytes('n'));
    assert.equal(toHex(a.generate(16)), toHex(b.generate(32)).slice(0, 32));
    assert.notEqual(toHex(a.generate(16)), toHex(b.generate(32)).slice(32, 64), 'state is updated after every request');
  });
});

describe('drand quicknet beacons', () => {
  const chain = beacons.quicknet.chain;

  test('when the built-in quicknet chain is compared with the published chain info, then they are equal', () => {
    assert.deepEqual({ ...QUICKNET }, chain);
  });

  test('when verifying real recorded quicknet beacons, then each BLS signature verifies and randomness = SHA-256(signature)', () => {
    for (const b of beacons.quicknet.beacons) {
      const r = verifyDrandBeacon(chain, { round: b.round, signature: b.signature, randomness: b.randomness });
      assert.equal(r.ok, true, `round ${b.round}: ${r.reason}`);
      assert.equal(toHex(r.randomness), toHex(sha256(fromHex(b.signature))));
      if (b.randomness) assert.equal(toHex(r.randomness), b.randomness);
    }
  });

  test('when verifying a real beacon of another chain with the same scheme, then it verifies under its own key only', () => {
    const w = beacons.walkthrough;
    const b = w.beacons[0];
    assert.equal(verifyDrandBeacon(w.chain, b).ok, true);
    assert.equal(verifyDrandBeacon(chain, { round: b.round, signature: b.signature }).ok, false);
  });

  test('when a real beacon is tampered with (round, signature bit, randomness, public key, scheme), then it is refused', () => {
    const b = beacons.quicknet.beacons[0];
    const probes = [
      verifyDrandBeacon(chain, { round: b.round + 1, signature: b.signature }),
      verifyDrandBeacon(chain, { round: b.round, signature: flip(b.signature, 95) }),
      verifyDrandBeacon(chain, { round: b.round, signature: flip(b.signature, 40) }),
      verifyDrandBeacon(chain, { round: b.round, signature: b.signature, randomness: flip(toHex(sha256(fromHex(b.signature)))) }),
      verifyDrandBeacon(chain, { round: b.round, signature: beacons.quicknet.beacons[1].signature }),
      verifyDrandBeacon({ ...chain, publicKey: beacons.walkthrough.chain.publicKey }, { round: b.round, signature: b.signature }),
      verifyDrandBeacon({ ...chain, schemeID: 'pedersen-bls-unchained' }, { round: b.round, signature: b.signature }),
      verifyDrandBeacon(chain, { round: b.round, signature: b.signature.toUpperCase() }),
      verifyDrandBeacon(chain, { round: 0, signature: b.signature }),
      verifyDrandBeacon(chain, { round: b.round, signature: b.signature.slice(2) }),
    ];
    for (const [i, p] of probes.entries()) {
      assert.equal(p.ok, false, `probe ${i}`);
      assert.ok(p.reason, `probe ${i} says why`);
    }
  });

  test('when converting between rounds and times, then the quicknet schedule holds (round r at genesis + 3(r − 1))', () => {
    assert.equal(roundTime(chain, 1), 1692803367);
    assert.equal(roundTime(chain, 14517013), 1692803367 + 3 * 14517012);
    assert.equal(roundAt(chain, 1692803366), 0);
    assert.equal(roundAt(chain, 1692803367), 1);
    assert.equal(roundAt(chain, 1692803369), 1);
    assert.equal(roundAt(chain, 1692803370), 2);
    assert.equal(firstRoundAfter(chain, 1692803370), 3);
    assert.equal(firstRoundAfter(chain, 1692803370.5), 3);
    assert.throws(() => roundTime(chain, 0), RangeError);
  });
});

describe('local non-production beacon', () => {
  test('when a local key signs a round, then it verifies as the same scheme against its own public key only', () => {
    const sk = localBeaconSecretKey(detBytes('local', 48));
    const local = { ...QUICKNET, publicKey: drandPublicKey(sk), hash: toHex(detBytes('local-chain')) };
    const b = localBeacon(sk, 4242);
    assert.equal(verifyDrandBeacon(local, b).ok, true);
    assert.equal(verifyDrandBeacon(QUICKNET, b).ok, false);
    assert.equal(verifyDrandBeacon(local, { ...b, round: 4243 }).ok, false);
    assert.throws(() => localBeaconSecretKey(new Uint8Array(32)), RangeError);
  });
});
