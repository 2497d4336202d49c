/**
 * The beacon port through HTTP: the local sandbox speaks drand's API and serves only rounds whose
 * time has passed by its clock; the drand adapter verifies every answer against the pinned key, so
 * a relay that lies is rejected and the next relay is asked.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { drandPublicKey, localBeacon, QUICKNET_SCHEME, verifyDrandBeacon } from '@verity/evidence';
import { createLogger, manualClock } from '@verity/kernel';
import { createDrandHttpBeacon } from '../src/beacon/drand-http.ts';
import { isBeaconError, type BeaconChain } from '../src/beacon/port.ts';
import { sandboxChainHash, SANDBOX_BEACON_ID } from '../src/beacon/sandbox/key.ts';
import { BeaconSandboxServer } from '../src/beacon/sandbox/server.ts';

const log = createLogger('silent');
const GENESIS = 1_700_000_000;

function keyPair(fill: number): { secretKey: Uint8Array; chain: BeaconChain } {
  const secretKey = new Uint8Array(32).fill(fill);
  secretKey[0] = 0x11;
  const publicKey = drandPublicKey(secretKey);
  const hash = sandboxChainHash({ publicKey, period: 3, genesisTime: GENESIS, schemeID: QUICKNET_SCHEME, beaconID: SANDBOX_BEACON_ID });
  return { secretKey, chain: { publicKey, period: 3, genesisTime: GENESIS, hash, schemeID: QUICKNET_SCHEME, metadata: { beaconID: SANDBOX_BEACON_ID }, nonProduction: true } };
}

/** A relay that answers with whatever the test gives it (a liar, a slow one, a broken one). */
async function fakeRelay(answer: (path: string) => { status: number; body: unknown } | 'hang'): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const a = answer(req.url ?? '');
    if (a === 'hang') return;
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function problemOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isBeaconError(err) ? err.failure : `other: ${(err as Error).message}`;
  }
}

describe('beacon', () => {
  const { secretKey, chain } = keyPair(7);
  const clock = manualClock(new Date((GENESIS + 3 * 99) * 1000)); // round 100 is the latest
  let sandbox: BeaconSandboxServer;

  before(async () => {
    sandbox = new BeaconSandboxServer({ host: '127.0.0.1', port: 0, secretKey, chain, now: clock.now, log });
    await sandbox.start();
  });
  after(() => sandbox.stop());

  it('when the sandbox is asked like a drand relay, then it answers drand quicknet JSON labelled non-production', async () => {
    const info = await (await fetch(`${sandbox.url}/${chain.hash}/info`)).json();
    assert.deepEqual(info, {
      public_key: chain.publicKey, period: 3, genesis_time: GENESIS, hash: chain.hash, groupHash: chain.hash, schemeID: 'bls-unchained-g1-rfc9380',
      metadata: { beaconID: SANDBOX_BEACON_ID, nonProduction: true },
    });
    assert.deepEqual(await (await fetch(`${sandbox.url}/chains`)).json(), [chain.hash]);
    const r = (await (await fetch(`${sandbox.url}/${chain.hash}/public/42`)).json()) as { round: number; randomness: string; signature: string };
    assert.deepEqual(Object.keys(r).sort(), ['randomness', 'round', 'signature']);
    assert.equal(verifyDrandBeacon(chain, r).ok, true);
    const latest = (await (await fetch(`${sandbox.url}/public/latest`)).json()) as { round: number };
    assert.equal(latest.round, 100);
  });

  it('when a round\'s time has not come by the injected clock, then the sandbox refuses it and serves it once the clock passes it', async () => {
    const beacon = createDrandHttpBeacon({ kind: 'sandbox', relays: [sandbox.url], chain, timeoutMs: 2_000, log });
    assert.equal(await problemOf(beacon.round(101)), 'round-not-available');
    assert.equal((await fetch(`${sandbox.url}/${chain.hash}/public/101`)).status, 404);
    clock.advance(3_000);
    const got = await beacon.round(101);
    assert.equal(got.round, 101);
    assert.equal(got.randomness, localBeacon(secretKey, 101).randomness);
    assert.deepEqual(await beacon.info(), chain);
  });

  it('when a relay lies (a round signed by another key, a wrong round, tampered randomness), then it is rejected and the next relay is believed', async () => {
    const liar = keyPair(9);
    const lies = [
      (r: number) => localBeacon(liar.secretKey, r),
      (r: number) => ({ ...localBeacon(secretKey, r + 1), round: r }),
      (r: number) => ({ ...localBeacon(secretKey, r), randomness: 'ab'.repeat(32) }),
      (r: number) => ({ ...localBeacon(secretKey, r), round: r + 1 }),
    ];
    for (const lie of lies) {
      const relay = await fakeRelay((p) => ({ status: 200, body: lie(Number(p.split('/').pop())) }));
      try {
        const alone = createDrandHttpBeacon({ kind: 'drand', relays: [relay.url], chain, timeoutMs: 2_000, log });
        assert.equal(await problemOf(alone.round(50)), 'beacon-rejected');
        const withHonest = createDrandHttpBeacon({ kind: 'drand', relays: [relay.url, sandbox.url], chain, timeoutMs: 2_000, log });
        const got = await withHonest.round(50);
        assert.equal(got.relay, sandbox.url, 'the honest relay answered');
        assert.equal(got.signature, localBeacon(secretKey, 50).signature);
        assert.ok(relay.hits.some((h) => h === `/${chain.hash}/public/50`), 'the drand path was asked');
      } finally {
        await relay.close();
      }
    }
  });

  it('when a relay serves chain info that differs from the pinned chain, then info() does not believe it', async () => {
    const other = keyPair(3);
    const relay = await fakeRelay(() => ({ status: 200, body: { public_key: other.chain.publicKey, period: 3, genesis_time: GENESIS, hash: chain.hash, schemeID: QUICKNET_SCHEME } }));
    try {
      const beacon = createDrandHttpBeacon({ kind: 'drand', relays: [relay.url], chain, timeoutMs: 2_000, log });
      assert.equal(await problemOf(beacon.info()), 'beacon-unavailable');
    } finally {
      await relay.close();
    }
  });

  it('when a relay hangs or fails, then its deadline passes and the next one is asked; none left is beacon-unavailable', async () => {
    const hanging = await fakeRelay(() => 'hang');
    const broken = await fakeRelay(() => ({ status: 500, body: { error: 'x' } }));
    try {
      const started = performance.now();
      const beacon = createDrandHttpBeacon({ kind: 'drand', relays: [hanging.url, broken.url, sandbox.url], chain, timeoutMs: 300, log });
      assert.equal((await beacon.round(60)).relay, sandbox.url);
      assert.ok(performance.now() - started < 2_000, 'one relay deadline, not forever');
      const none = createDrandHttpBeacon({ kind: 'drand', relays: [hanging.url, broken.url], chain, timeoutMs: 300, log });
      assert.equal(await problemOf(none.round(60)), 'beacon-unavailable');
    } finally {
      await hanging.close();
      await broken.close();
    }
  });

  it('when the sandbox is told to fail every answer, then the adapter reports it unavailable; told to recover, it serves again', async () => {
    const beacon = createDrandHttpBeacon({ kind: 'sandbox', relays: [sandbox.url], chain, timeoutMs: 2_000, log });
    const set = (patch: object) => fetch(`${sandbox.url}/sandbox/control`, { method: 'POST', body: JSON.stringify(patch) });
    assert.equal((await set({ failurePercent: 100 })).status, 200);
    assert.equal(await problemOf(beacon.round(10)), 'beacon-unavailable');
    assert.equal((await set({ failurePercent: 'lots' })).status, 400);
    await set({ failurePercent: 0 });
    assert.equal((await beacon.round(10)).round, 10);
  });
});
