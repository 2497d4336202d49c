/**
 * C2SP signed notes, checkpoints and witness cosignatures: the Go sumdb/note vector byte for byte,
 * round trips, refusals of every kind, and a witness that cosigns only append-only growth.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  appendSignatures,
  consistencyProof,
  cosign,
  cosignatureVerifier,
  cosignatureVkey,
  ed25519Signer,
  formatCheckpoint,
  fromBase64,
  leafHash,
  NoteError,
  openNote,
  parseCheckpoint,
  parseVkey,
  rootOf,
  signNote,
  verifierFromVkey,
  verifyCosignature,
  vkeyOf,
  Witness,
  WitnessRefusal,
  type Checkpoint,
} from '../src/index.ts';
import { ed25519PrivateKey, ed25519RawPublicKey } from '../src/ed25519.ts';
import { detBytes } from './support/draw-fixture.ts';

const go = JSON.parse(readFileSync(new URL('./fixtures/signed-note-go.json', import.meta.url), 'utf8'));
/** Go skeys are "PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)". */
const goSeed = fromBase64(go.skey.split('+').slice(4).join('+')).slice(1);

describe('signed notes (C2SP signed-note, Go sumdb/note vectors)', () => {
  test('when signing the Go example text with its key, then the note is byte-identical to the published one', () => {
    const signer = ed25519Signer('PeterNeumann', goSeed);
    assert.equal(signer.vkey, go.vkey);
    assert.equal(signNote(go.text, [signer]), go.note);
  });

  test('when opening the published note with its vkey, then it verifies', () => {
    const opened = openNote(go.note, [verifierFromVkey(go.vkey)]);
    assert.equal(opened.text, go.text);
    assert.deepEqual(opened.verifiedBy, ['PeterNeumann']);
    assert.equal(opened.unknownSignatures, 0);
  });

  test('when a vkey is malformed, has a wrong or upper-case key id, then it is refused', () => {
    for (const bad of go.badVkeys) assert.throws(() => verifierFromVkey(bad), NoteError, bad);
    assert.equal(parseVkey(go.otherVkey).name, 'EnochRoot');
  });

  test('when opening with only an unrelated key, then the note is refused as unverified', () => {
    assert.throws(() => openNote(go.note, [verifierFromVkey(go.otherVkey)]), /no signature from a known key/);
  });

  test('when the text or the signature is changed, then the known key refuses it', () => {
    const v = [verifierFromVkey(go.vkey)];
    assert.throws(() => openNote(go.note.replace('cryptography', 'Cryptography'), v), /invalid signature/);
    const sigAt = go.note.indexOf('x08go');
    const flipped = `${go.note.slice(0, sigAt + 10)}${go.note[sigAt + 10] === 'A' ? 'B' : 'A'}${go.note.slice(sigAt + 11)}`;
    assert.throws(() => openNote(flipped, v), NoteError);
  });

  test('when a note is malformed, then it is refused with a NoteError', () => {
    const v = [verifierFromVkey(go.vkey)];
    const cases = [
      go.text, // no signature block
      go.note.slice(0, -1), // signature block not newline-terminated
      go.note.replace('\u2014 ', '- '), // not an em dash
      go.note.replace('\n\n', '\n\u0007\n'), // control character
      `${go.note}\u2014 bad line\n`,
      go.note.replace('x08go', 'x08g!'),
    ];
    for (const c of cases) assert.throws(() => openNote(c, v), NoteError, JSON.stringify(c));
  });

  test('when two keys sign and one is known, then the other counts as unknown; both known, both verify', () => {
    const a = ed25519Signer('a.example/log', detBytes('a'));
    const b = ed25519Signer('b.example/log', detBytes('b'));
    const note = signNote('hello\nworld\n', [a, b]);
    assert.deepEqual(openNote(note, [verifierFromVkey(a.vkey)]), { text: 'hello\nworld\n', verifiedBy: ['a.example/log'], unknownSignatures: 1 });
    assert.deepEqual(openNote(note, [verifierFromVkey(a.vkey), verifierFromVkey(b.vkey)]).verifiedBy, ['a.example/log', 'b.example/log']);
  });

  test('when a key name has a space or a plus, or the text lacks a final newline, then signing is refused', () => {
    assert.throws(() => ed25519Signer('bad name', detBytes('x')), NoteError);
    assert.throws(() => vkeyOf('bad+name', new Uint8Array(32)), NoteError);
    assert.throws(() => signNote('no newline', [ed25519Signer('ok', detBytes('x'))]), NoteError);
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const cp: Checkpoint = { origin: 'example.com/log', size: 20852163, rootHash: fromBase64('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=') };

  test('when formatting the C2SP example checkpoint, then the text is the spec example and parses back', () => {
    const text = formatCheckpoint(cp);
    assert.equal(text, 'example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    assert.deepEqual(parseCheckpoint(text), cp);
    const ext = formatCheckpoint({ ...cp, extensions: ['note: extension line'] });
    assert.deepEqual(parseCheckpoint(ext).extensions, ['note: extension line']);
  });

  test('when a checkpoint is malformed, then parsing refuses it', () => {
    const bad = [
      'example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', // no final newline
      'example.com/log\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n', // leading zero
      'example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'example.com/log\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n', // 31 bytes
      'example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n', // non-canonical base64
      '\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n', // empty extension line
    ];
    for (const b of bad) assert.throws(() => parseCheckpoint(b), JSON.stringify(b));
  });
});

const logSigner = ed25519Signer('log.example/verity', detBytes('log'));
const witnessKey = { name: 'witness.example/w1', privateKey: detBytes('w1') };
const witnessVkey = cosignatureVkey(witnessKey.name, ed25519RawPublicKey(ed25519PrivateKey(witnessKey.privateKey)));

function leavesOf(n: number, tag = 'x'): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag}${i}`)));
}
function signedCheckpoint(leaves: Uint8Array[], origin = 'log.example/verity', signer = logSigner): string {
  return signNote(formatCheckpoint({ origin, size: leaves.length, rootHash: rootOf(leaves) }), [signer]);
}

describe('cosignatures (C2SP tlog-cosignature v1)', () => {
  test('when a witness cosigns a checkpoint, then the line verifies with its time and leaves the log signature intact', () => {
    const note = signedCheckpoint(leavesOf(5));
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const line = cosign(text, witnessKey, 1_750_000_000);
    const both = appendSignatures(note, [line]);
    assert.deepEqual(verifyCosignature(both, witnessVkey), { ok: true, timeS: 1_750_000_000 });
    const opened = openNote(both, [verifierFromVkey(logSigner.vkey), cosignatureVerifier(witnessVkey)]);
    assert.deepEqual(opened.verifiedBy, ['log.example/verity', 'witness.example/w1']);
  });

  test('when the cosigned time, text or key type is changed, then the cosignature does not verify', () => {
    const note = signedCheckpoint(leavesOf(5));
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const line = cosign(text, witnessKey, 1_750_000_000);
    const raw = fromBase64(line.trim().split(' ')[2]!);
    raw[11]! ^= 1; // the timestamp's last byte
    const shifted = `\u2014 ${witnessKey.name} ${Buffer.from(raw).toString('base64')}\n`;
    assert.equal(verifyCosignature(appendSignatures(note, [shifted]), witnessVkey).ok, false);
    const other = signedCheckpoint(leavesOf(6));
    assert.equal(verifyCosignature(appendSignatures(other, [line]), witnessVkey).ok, false);
    assert.equal(verifyCosignature(note, witnessVkey).reason, 'absent');
    // a 0x01 key with the same name and key cannot verify a 0x04 cosignature: its key id differs
    const asNoteKey = vkeyOf(witnessKey.name, ed25519RawPublicKey(ed25519PrivateKey(witnessKey.privateKey)));
    assert.throws(() => openNote(appendSignatures(note, [line]), [verifierFromVkey(asNoteKey)]), /no signature from a known key/);
  });
});

describe('witness', () => {
  let now = 1_750_000_000;
  const newWitness = () => new Witness({ ...witnessKey, logs: [{ origin: 'log.example/verity', vkeys: [logSigner.vkey] }], clock: () => now++ });

  test('when the log grows append-only, then the witness cosigns each checkpoint and remembers the last', () => {
    const w = newWitness();
    const leaves = leavesOf(40);
    w.cosign(signedCheckpoint(leaves.slice(0, 10)), []);
    const line = w.cosign(signedCheckpoint(leaves.slice(0, 25)), consistencyProof(leaves, 10, 25));
    assert.equal(verifyCosignature(appendSignatures(signedCheckpoint(leaves.slice(0, 25)), [line]), w.vkey).ok, true);
    w.cosign(signedCheckpoint(leaves.slice(0, 25)), []); // the same checkpoint again is fine
    w.cosign(signedCheckpoint(leaves), consistencyProof(leaves, 25, 40));
    assert.equal(w.state('log.example/verity')?.size, 40);
  });

  test('when the log presents a smaller tree, then the witness refuses a rollback', () => {
    const w = newWitness();
    const leaves = leavesOf(30);
    w.cosign(signedCheckpoint(leaves), []);
    assert.throws(() => w.cosign(signedCheckpoint(leaves.slice(0, 29)), []), (e: unknown) => e instanceof WitnessRefusal && e.code === 'rollback');
  });

  test('when the log presents a different root at the same size or a fork that cannot be proven consistent, then the witness refuses', () => {
    const w = newWitness();
    const leaves = leavesOf(30);
    w.cosign(signedCheckpoint(leaves.slice(0, 20)), []);
    const forked = [...leaves.slice(0, 19), leafHash(new Uint8Array([1])), ...leaves.slice(20)];
    assert.throws(() => w.cosign(signedCheckpoint(forked.slice(0, 20)), []), (e: unknown) => e instanceof WitnessRefusal && e.code === 'fork');
    assert.throws(() => w.cosign(signedCheckpoint(forked), consistencyProof(forked, 20, 30)), (e: unknown) => e instanceof WitnessRefusal && e.code === 'fork');
    assert.throws(() => w.cosign(signedCheckpoint(leaves), []), (e: unknown) => e instanceof WitnessRefusal && e.code === 'fork');
    assert.equal(w.state('log.example/verity')?.size, 20, 'a refusal leaves the state untouched');
  });

  test('when the checkpoint is signed by another key or names an unknown log, then the witness refuses', () => {
    const w = newWitness();
    const impostor = ed25519Signer('log.example/verity', detBytes('impostor'));
    assert.throws(() => w.cosign(signedCheckpoint(leavesOf(3), 'log.example/verity', impostor), []), (e: unknown) => e instanceof WitnessRefusal && e.code === 'bad-signature');
    assert.throws(() => w.cosign(signedCheckpoint(leavesOf(3), 'other.example/log'), []), (e: unknown) => e instanceof WitnessRefusal && e.code === 'unknown-log');
    assert.throws(() => w.cosign('not a note', []), (e: unknown) => e instanceof WitnessRefusal && e.code === 'bad-checkpoint');
  });

  test('when a witness resumes from persisted state, then it still refuses a rollback below it', () => {
    const leaves = leavesOf(12);
    const w = new Witness({ ...witnessKey, logs: [{ origin: 'log.example/verity', vkeys: [logSigner.vkey] }], clock: () => now, state: new Map([['log.example/verity', { size: 12, rootHash: rootOf(leaves) }]]) });
    assert.throws(() => w.cosign(signedCheckpoint(leaves.slice(0, 11)), []), WitnessRefusal);
  });
});
