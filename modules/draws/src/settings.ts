/**
 * The draws module's settings. They belong in the kernel's config table (one place, validated at
 * start, documented in the README); until the lead adds them there, each is read from `ctx.config`
 * under the key named here and falls back to the default, so tests set them as config overrides.
 * The environment variable each key is to be read from is in ADR 0015.
 */
import type { Config } from '@verity/kernel';

/** drand's League of Entropy "quicknet" chain (BLS12-381, G1 signatures, unchained, period 3 s). */
export const QUICKNET = {
  chainHash: '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
  publicKey:
    '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  genesisTime: 1692803367,
  periodS: 3,
  relays: ['https://api.drand.sh', 'https://api2.drand.sh', 'https://drand.cloudflare.com'],
} as const;

export interface DrawsSettings {
  /** `sandbox`: the local beacon this process starts (not in production); `drand`: the relays below. */
  beacon: 'sandbox' | 'drand';
  /** drand relays, tried in turn (DRAWS_DRAND_RELAYS). */
  drandRelays: string[];
  drandChainHash: string;
  /** The chain's public key, pinned: relays are not trusted to say it. */
  drandPublicKey: string;
  /** The pinned chain's period and round-1 time (unix seconds). */
  drandPeriodS: number;
  drandGenesisTime: number;
  /** Deadline of one call to one relay (or to the sandbox). */
  beaconTimeoutMs: number;
  /** R = the first round after closesAt, plus this many rounds: time to take, log and checkpoint the close snapshot (5 min on quicknet). */
  marginRounds: number;
  /** Rounds after R the protocol falls back to, in order, when R cannot be had. */
  fallbackRounds: number;
  /** How long the draw keeps asking for a round after its time before moving to the next one. */
  roundWindowS: number;
  /** The draw job starts this long after round R's time (relays need a moment to have it). */
  drawSlackMs: number;
  /** How long a step waits for the evidence log to integrate a record or sign a checkpoint. */
  logTimeoutMs: number;
  /** Page size when reading the close snapshot from ticketing (≤ 10 000 by contract). */
  snapshotPageSize: number;
  sandboxPort: number;
  /** Unix seconds of the sandbox chain's round 1; unset: the time of the sandbox's first start. */
  sandboxGenesisTime?: number;
  sandboxPeriodS: number;
  sandboxLatencyMs: number;
  sandboxFailurePercent: number;
}

export const DRAWS_DEFAULTS: DrawsSettings = {
  beacon: 'sandbox',
  drandRelays: [...QUICKNET.relays],
  drandChainHash: QUICKNET.chainHash,
  drandPublicKey: QUICKNET.publicKey,
  drandPeriodS: QUICKNET.periodS,
  drandGenesisTime: QUICKNET.genesisTime,
  beaconTimeoutMs: 5_000,
  marginRounds: 100,
  fallbackRounds: 3,
  roundWindowS: 600,
  drawSlackMs: 2_000,
  logTimeoutMs: 30_000,
  snapshotPageSize: 5_000,
  sandboxPort: 0,
  sandboxPeriodS: 3,
  sandboxLatencyMs: 0,
  sandboxFailurePercent: 0,
};

/** Config keys (as the lead adds them to the kernel's settings) → DrawsSettings fields. */
export const CONFIG_KEYS: Readonly<Record<keyof DrawsSettings, string>> = {
  beacon: 'drawsBeacon',
  drandRelays: 'drawsDrandRelays',
  drandChainHash: 'drawsDrandChainHash',
  drandPublicKey: 'drawsDrandPublicKey',
  drandPeriodS: 'drawsDrandPeriodS',
  drandGenesisTime: 'drawsDrandGenesisTime',
  beaconTimeoutMs: 'drawsBeaconTimeoutMs',
  marginRounds: 'drawsMarginRounds',
  fallbackRounds: 'drawsFallbackRounds',
  roundWindowS: 'drawsRoundWindowS',
  drawSlackMs: 'drawsDrawSlackMs',
  logTimeoutMs: 'drawsLogTimeoutMs',
  snapshotPageSize: 'drawsSnapshotPageSize',
  sandboxPort: 'drawsBeaconSandboxPort',
  sandboxGenesisTime: 'drawsBeaconSandboxGenesisTime',
  sandboxPeriodS: 'drawsBeaconSandboxPeriodS',
  sandboxLatencyMs: 'drawsBeaconSandboxLatencyMs',
  sandboxFailurePercent: 'drawsBeaconSandboxFailurePercent',
};

const RANGES: Partial<Record<keyof DrawsSettings, [number, number]>> = {
  drandPeriodS: [1, 3_600],
  drandGenesisTime: [1, 2 ** 40],
  beaconTimeoutMs: [100, 120_000],
  marginRounds: [1, 10_000],
  fallbackRounds: [0, 100],
  roundWindowS: [1, 86_400],
  drawSlackMs: [0, 600_000],
  logTimeoutMs: [100, 600_000],
  snapshotPageSize: [1, 10_000],
  sandboxPort: [0, 65_535],
  sandboxGenesisTime: [0, 2 ** 40],
  sandboxPeriodS: [1, 3_600],
  sandboxLatencyMs: [0, 120_000],
  sandboxFailurePercent: [0, 100],
};

/** Reads and checks the settings; a bad value stops the start, as the kernel's config does. */
export function drawsSettings(config: Config): DrawsSettings {
  const raw = config as unknown as Record<string, unknown>;
  // Production draws on public randomness unless told otherwise (and the sandbox is refused there).
  const out: Record<string, unknown> = { ...DRAWS_DEFAULTS, ...(config.env === 'production' ? { beacon: 'drand' } : {}) };
  for (const [field, key] of Object.entries(CONFIG_KEYS)) if (raw[key] !== undefined) out[field] = raw[key];
  const s = out as unknown as DrawsSettings;
  const problems: string[] = [];
  if (s.beacon !== 'sandbox' && s.beacon !== 'drand') problems.push(`${CONFIG_KEYS.beacon}: expected sandbox or drand`);
  for (const [field, [min, max]] of Object.entries(RANGES) as [keyof DrawsSettings, [number, number]][]) {
    const v = s[field];
    if (v === undefined && field === 'sandboxGenesisTime') continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${CONFIG_KEYS[field]}: expected an integer in ${min}..${max}`);
  }
  if (!Array.isArray(s.drandRelays) || s.drandRelays.length === 0 || s.drandRelays.length > 10) problems.push(`${CONFIG_KEYS.drandRelays}: 1..10 relay URLs`);
  if (!/^[0-9a-f]{64}$/.test(s.drandChainHash)) problems.push(`${CONFIG_KEYS.drandChainHash}: 64 hex characters`);
  if (!/^[0-9a-f]{192}$/.test(s.drandPublicKey)) problems.push(`${CONFIG_KEYS.drandPublicKey}: a 96-byte G2 public key in hex`);
  if (s.beacon === 'sandbox' && config.env === 'production') problems.push(`${CONFIG_KEYS.beacon}: the sandbox beacon is not public randomness and is refused in production; use drand`);
  if (problems.length) throw new Error(`Invalid draws configuration:\n  - ${problems.join('\n  - ')}`);
  return s;
}
