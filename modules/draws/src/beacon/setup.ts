/**
 * The beacon part: which beacon draws use (the local sandbox by default, drand when configured),
 * the sandbox's server when it is the one, and beacons pinned to the chain a manifest committed to.
 */
import { QUICKNET_SCHEME } from '@verity/evidence';
import type { ModuleContext } from '@verity/kernel';
import type { DrawsSettings } from '../settings.ts';
import { createDrandHttpBeacon } from './drand-http.ts';
import type { BeaconChain, RandomnessBeacon } from './port.ts';
import { loadOrCreateSandboxKey, SANDBOX_BEACON_ID } from './sandbox/key.ts';
import { BeaconSandboxServer } from './sandbox/server.ts';

export interface Beacons {
  readonly kind: 'sandbox' | 'drand';
  /** The beacon new manifests commit to (its info() is confirmed by a relay). */
  current(): RandomnessBeacon;
  /** A beacon that verifies against the chain a manifest pinned, whatever is configured today. */
  forChain(chain: BeaconChain): RandomnessBeacon;
  /** What a result record says the beacon was fetched from: the URL, or `local:<name>` for the sandbox. */
  fetchedFrom(chain: BeaconChain, beacon: { url: string }): string;
  /** The running sandbox (beacon = sandbox), for its control endpoint and tests. */
  sandbox(): BeaconSandboxServer | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function drandChain(s: DrawsSettings): BeaconChain {
  return {
    publicKey: s.drandPublicKey,
    period: s.drandPeriodS,
    genesisTime: s.drandGenesisTime,
    hash: s.drandChainHash,
    schemeID: QUICKNET_SCHEME,
    metadata: { beaconID: s.drandChainHash === '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971' ? 'quicknet' : 'drand' },
    nonProduction: false,
  };
}

export function setupBeacons(ctx: ModuleContext, settings: DrawsSettings): Beacons {
  const log = ctx.log.child({ component: 'beacon' });
  let sandbox: BeaconSandboxServer | undefined;
  let current: RandomnessBeacon | undefined;
  const relaysFor = (chain: BeaconChain): readonly string[] => {
    if (!chain.nonProduction) return settings.drandRelays;
    if (!sandbox) throw new Error('this draw was committed to the local beacon sandbox, which is not running (DRAWS_BEACON=drand)');
    return [sandbox.url];
  };
  const forChain = (chain: BeaconChain): RandomnessBeacon =>
    createDrandHttpBeacon({ kind: chain.nonProduction ? 'sandbox' : 'drand', relays: relaysFor(chain), chain, timeoutMs: settings.beaconTimeoutMs, log });

  return {
    kind: settings.beacon,
    current() {
      if (!current) throw new Error('beacons: used before start');
      return current;
    },
    forChain,
    fetchedFrom: (chain, beacon) => (chain.nonProduction ? `local:${SANDBOX_BEACON_ID}` : beacon.url),
    sandbox: () => sandbox,
    async start() {
      if (settings.beacon === 'drand') {
        current = forChain(drandChain(settings));
        return;
      }
      const key = await loadOrCreateSandboxKey({ db: ctx.db, crypto: ctx.crypto, now: () => ctx.clock.now() }, {
        periodS: settings.sandboxPeriodS,
        ...(settings.sandboxGenesisTime !== undefined ? { genesisTime: settings.sandboxGenesisTime } : {}),
      });
      sandbox = new BeaconSandboxServer({
        host: ctx.config.host,
        port: settings.sandboxPort,
        secretKey: key.secretKey,
        chain: key.chain,
        now: () => ctx.clock.now(),
        control: { latencyMs: settings.sandboxLatencyMs, failurePercent: settings.sandboxFailurePercent },
        log,
      });
      const url = await sandbox.start();
      current = forChain(key.chain);
      log.info({ url, chainHash: key.chain.hash, genesisTime: key.chain.genesisTime, period: key.chain.period }, 'beacon sandbox started (NOT public randomness: every draw on it is labelled nonProduction)');
    },
    async stop() {
      await sandbox?.stop();
    },
  };
}
