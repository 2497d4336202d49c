/**
 * The offline verifier on complete bundles built like the platform builds them (in-memory evidence
 * log, local BLS beacon, witnesses): a valid draw passes every check; one changed byte anywhere in
 * the serialized bundle fails at least one; draws that are internally consistent but break a rule
 * of the protocol fail the check that states the rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cosign, appendSignatures, ed25519Signer, formatReport, verifyBundle, verifyBundleJson, type DrawBundle, type VerificationReport } from '../src/index.ts';
import { buildDrawFixture, detBytes, makeEntries } from './support/draw-fixture.ts';

const CHECKS = [
  'bundle format',
  'record encodings',
  'log keys',
  'manifest checkpoint signature',
  'close checkpoint signature',
  'result checkpoint signature',
  'witness cosignatures',
  'log consistency',
  'manifest in log',
  'close snapshot in log',
  'result in log',
  'manifest rules',
  'manifest committed before close',
  'snapshot committed before beacon',
  'result references the snapshot',
  'operator commitment',
  'beacon chain',
  'beacon round',
  'beacon signature',
  'beacon after close',
  'entries root',
  'reconciliation',
  'selection re-run',
];

const failed = (r: VerificationReport) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const clone = (b: DrawBundle): any => JSON.parse(JSON.stringify(b));

describe('a valid draw bundle', () => {
  const f = buildDrawFixture({ witnesses: ['witness.example/w1', 'witness.example/w2'] });

  test('when verified, then every check passes in the documented order and the winners are reported', () => {
    const r = verifyBundle(clone(f.bundle));
    assert.deepEqual(r.checks.map((c) => c.name), CHECKS);
    assert.deepEqual(failed(r), []);
    assert.equal(r.ok, true);
    assert.equal(r.nonProduction, true);
    assert.deepEqual(r.winners.map((w) => w.tier), [1, 2, 2]);
    assert.deepEqual(r.winners.map((w) => w.entryId), f.bundle.result.winners.map((w) => w.entryId));
    const text = formatReport(r);
    assert.match(text, /NON-PRODUCTION/);
    assert.match(text, /VERIFIED: all 23 checks passed/);
    assert.match(text, /witness\.example\/w1 \(manifest at 2025-05-01T09:01:00\.000Z, close at 2025-06-01T18:00:15\.000Z/);
    assert.match(text, /snapshot committed before beacon: .*witnessed by witness\.example\/w1 at 2025-06-01T18:00:15\.000Z, before beacon round/);
  });

  test('when the same draw is built twice, then the bundle is byte-identical (everything is derived, nothing random)', () => {
    assert.equal(JSON.stringify(buildDrawFixture({ witnesses: ['witness.example/w1', 'witness.example/w2'] }).bundle), JSON.stringify(f.bundle));
  });

  test('when the log key is pinned, then the right key passes and another key fails both checkpoint checks', () => {
    assert.equal(verifyBundle(clone(f.bundle), { trustedLogKeys: [f.logVkey] }).ok, true);
    const other = ed25519Signer('log.verity.test/evidence', detBytes('not-the-log')).vkey;
    const r = verifyBundle(clone(f.bundle), { trustedLogKeys: [other] });
    for (const cp of ['manifest', 'close', 'result']) assert.ok(failed(r).includes(`${cp} checkpoint signature`), cp);
  });

  test('when the beacon chains are pinned, then only a listed chain is accepted', () => {
    assert.equal(verifyBundle(clone(f.bundle), { trustedBeaconChains: [f.chain] }).ok, true);
    assert.deepEqual(failed(verifyBundle(clone(f.bundle), { trustedBeaconChains: [{ ...f.chain, publicKey: f.chain.publicKey.replace(/^../, '99') }] })), ['beacon chain']);
  });

  test('when the input is not a bundle at all, then the verifier reports a failed format check and does not throw', () => {
    for (const x of [null, 'bundle', 42, [], {}, { ...clone(f.bundle), extra: 1 }]) {
      const r = verifyBundle(x);
      assert.equal(r.ok, false);
      assert.deepEqual(failed(r), ['bundle format']);
    }
    assert.deepEqual(failed(verifyBundleJson('{not json')), ['bundle is JSON']);
    assert.deepEqual(failed(verifyBundleJson(new Uint8Array([0x7b, 0xff, 0x7d]))), ['bundle is JSON']);
  });
});

describe('tampering', () => {
  test('when any single byte of the serialized bundle is changed (bit 0 everywhere, letter case on every letter), then verification fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'tamper', witnesses: ['witness.example/w1'], entries: makeEntries(6, 'tamper'), filler: 2 });
    const bytes = new TextEncoder().encode(JSON.stringify(bundle));
    assert.equal(verifyBundleJson(bytes).ok, true);
    const undetected: string[] = [];
    let variants = 0;
    for (let i = 0; i < bytes.length; i++) {
      const isLetter = (bytes[i]! | 0x20) >= 0x61 && (bytes[i]! | 0x20) <= 0x7a;
      for (const mask of isLetter ? [0x01, 0x20] : [0x01]) {
        const copy = bytes.slice();
        copy[i]! ^= mask;
        variants++;
        if (verifyBundleJson(copy).ok) undetected.push(`byte ${i} ^ 0x${mask.toString(16)}: …${new TextDecoder().decode(bytes.slice(Math.max(0, i - 20), i + 5))}…`);
      }
    }
    assert.ok(variants > bytes.length);
    assert.deepEqual(undetected, []);
  });

  test('when fields are swapped or dropped, then verification fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'fields' });
    const edits: [string, (b: any) => void][] = [
      ['winners reordered', (b) => b.result.winners.reverse()],
      ['two entries swapped', (b) => ([b.close.entries[0], b.close.entries[1]] = [b.close.entries[1], b.close.entries[0]])],
      ['an entry removed', (b) => b.close.entries.pop()],
      ['an optional manifest member dropped', (b) => delete b.manifest.rulesHash],
      ['an inclusion proof step dropped', (b) => b.log.closeInclusion.proof.pop()],
      ['the checkpoints swapped', (b) => ([b.log.checkpoints.manifest, b.log.checkpoints.result] = [b.log.checkpoints.result, b.log.checkpoints.manifest])],
      ['a consistency proof emptied', (b) => (b.log.consistency.closeToResult = [])],
      ['a duplicated entry', (b) => (b.close.entries[1] = b.close.entries[0])],
      ['a number as a string', (b) => (b.close.record.count = String(b.close.record.count))],
    ];
    for (const [name, edit] of edits) {
      const b = clone(bundle);
      edit(b);
      assert.equal(verifyBundle(b).ok, false, name);
    }
  });
});

describe('draws that break a protocol rule (logged and signed, yet wrong)', () => {
  test('when the published winners are not what the selection gives, then only the selection re-run fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'rigged', editResult: (r) => (r.winners[0] = { ...r.winners[0]!, index: 0, entryId: r.winners[0]!.entryId }) });
    assert.deepEqual(failed(verifyBundle(clone(bundle))), ['selection re-run']);
  });

  test('when the revealed secret is not the committed one, then the commitment check fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'secret', editResult: (r) => (r.operatorSecret = Buffer.from(detBytes('another secret')).toString('hex')) });
    assert.ok(failed(verifyBundle(clone(bundle))).includes('operator commitment'));
  });

  test('when the beacon round was emitted before the close, then the beacon-after-close check fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'early', round: 16266900 });
    assert.deepEqual(failed(verifyBundle(clone(bundle))), ['beacon after close']);
  });

  test('when the close snapshot was logged before the manifest checkpoint, then the ordering check fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'late-manifest', closeBeforeManifestCheckpoint: true });
    assert.deepEqual(failed(verifyBundle(clone(bundle))), ['manifest committed before close']);
  });

  test('when sales do not reconcile with the entries, then the reconciliation check fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'recon', editClose: (r) => (r.reconciliation = { ...r.reconciliation, voided: r.reconciliation.voided + 1 }) });
    assert.deepEqual(failed(verifyBundle(clone(bundle))), ['reconciliation']);
  });

  test('when a production draw names a chain other than drand quicknet, then the beacon chain check fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'prod', nonProduction: false });
    const r = verifyBundle(clone(bundle));
    assert.deepEqual(failed(r), ['beacon chain']);
    assert.equal(r.nonProduction, false);
  });

  test('when a listed fallback round is used, then it verifies and the report says a fallback was used', () => {
    const { bundle } = buildDrawFixture({ seed: 'fallback', useFallback: true });
    const r = verifyBundle(clone(bundle));
    assert.equal(r.ok, true);
    assert.match(r.checks.find((c) => c.name === 'beacon round')!.detail, /FALLBACK round/);
  });

  test('when the tier winners do not add up to the winner count, then the manifest rules check fails', () => {
    const { bundle } = buildDrawFixture({ seed: 'tiers', editManifest: (m) => (m.winnerCount = 2) });
    assert.ok(failed(verifyBundle(clone(bundle))).includes('manifest rules'));
  });

  test('when a checkpoint carries a signature from a key the bundle does not list, then the checkpoint check fails', () => {
    const f = buildDrawFixture({ seed: 'extra-sig' });
    const b = clone(f.bundle);
    const note = b.log.checkpoints.result;
    b.log.checkpoints.result = appendSignatures(note, [cosign(note.slice(0, note.lastIndexOf('\n\n') + 1), { name: 'stranger.example/w', privateKey: detBytes('stranger') }, 1_750_000_000)]);
    assert.deepEqual(failed(verifyBundle(b)), ['result checkpoint signature', 'log consistency', 'result in log']);
  });

  test('when a witness is listed but cosigned neither checkpoint, then the witness check fails', () => {
    const withW = buildDrawFixture({ seed: 'lazy-witness', witnesses: ['witness.example/w1'] });
    const without = buildDrawFixture({ seed: 'lazy-witness' });
    const b = clone(without.bundle);
    b.log.witnessVkeys = withW.witnessVkeys;
    assert.deepEqual(failed(verifyBundle(b)), ['witness cosignatures']);
  });
});

describe('time anchors from witnesses', () => {
  test('when no witness cosigned, then the ordering checks pass but say the draw is not time-anchored; requiring witnesses fails them', () => {
    const f = buildDrawFixture({ seed: 'unwitnessed' });
    const r = verifyBundle(clone(f.bundle));
    assert.equal(r.ok, true);
    assert.match(r.checks.find((c) => c.name === 'snapshot committed before beacon')!.detail, /NOT TIME-ANCHORED/);
    const w = buildDrawFixture({ seed: 'unwitnessed', witnesses: ['witness.example/w1'] });
    const required = verifyBundle(clone(f.bundle), { trustedWitnessKeys: w.witnessVkeys });
    assert.deepEqual(failed(required), ['manifest committed before close', 'snapshot committed before beacon']);
  });

  test('when the trusted witness first saw the close checkpoint after the beacon round, then the snapshot cannot be shown to predate the beacon', () => {
    const f = buildDrawFixture({ seed: 'late-close', witnesses: ['witness.example/w1'], closeWitnessedAtS: Date.parse('2025-06-01T18:05:00Z') / 1000 });
    assert.equal(verifyBundle(clone(f.bundle)).ok, true, 'without pinned witnesses it is reported, not failed');
    assert.match(verifyBundle(clone(f.bundle)).checks.find((c) => c.name === 'snapshot committed before beacon')!.detail, /NOT TIME-ANCHORED: the first witness/);
    assert.deepEqual(failed(verifyBundle(clone(f.bundle), { trustedWitnessKeys: f.witnessVkeys })), ['snapshot committed before beacon']);
  });

  test('when the trusted witness cosigned in time, then both ordering checks are anchored', () => {
    const f = buildDrawFixture({ seed: 'anchored', witnesses: ['witness.example/w1', 'witness.example/w2'] });
    const r = verifyBundle(clone(f.bundle), { trustedWitnessKeys: [f.witnessVkeys[1]!], trustedLogKeys: [f.logVkey] });
    assert.equal(r.ok, true);
    assert.match(r.checks.find((c) => c.name === 'manifest committed before close')!.detail, /witnessed by witness\.example\/w2/);
  });
});
