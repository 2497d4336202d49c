/**
 * drand beacons, scheme "bls-unchained-g1-rfc9380" (quicknet): the signature is a compressed G1
 * point (48 bytes) over H(SHA-256(round as u64be)) with DST BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_,
 * the public key a compressed G2 point (96 bytes); randomness = SHA-256(signature).
 * Round r is emitted at genesisTime + (r − 1)·period.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesEqual, fromHex, isSafeIndex, sha256, toHex, u64be } from './bytes.ts';

export const QUICKNET_SCHEME = 'bls-unchained-g1-rfc9380';
export const QUICKNET_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';

export interface DrandChainInfo {
  publicKey: string;
  period: number;
  genesisTime: number;
  hash: string;
  groupHash?: string;
  schemeID: string;
  metadata?: { beaconID?: string };
}

export interface DrandBeacon {
  round: number;
  signature: string;
  randomness?: string;
}

/** The League of Entropy quicknet chain, as published at https://api.drand.sh/<hash>/info. */
export const QUICKNET: Readonly<DrandChainInfo> = Object.freeze({
  publicKey:
    '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  period: 3,
  genesisTime: 1692803367,
  hash: '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
  groupHash: 'f477d5c89f21a17c863a7f937c6a6d15859414d2be09cd448d4279af331c5d3e',
  schemeID: QUICKNET_SCHEME,
  metadata: { beaconID: 'quicknet' },
});

/** The message a round's signature covers: SHA-256(round as u64 big-endian). */
export function roundMessage(round: number): Uint8Array {
  return sha256(u64be(round));
}

function fail(reason: string): { ok: false; randomness: Uint8Array; reason: string } {
  return { ok: false, randomness: new Uint8Array(0), reason };
}

/**
 * Pairing checks cost ~80 ms in pure JS; a verifier re-checking the same beacon (the bundle tamper
 * test does thousands of times) reuses the answer. Keyed by every input, so it is only a memo.
 */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 64;

function blsVerify(pub: Uint8Array, sig: Uint8Array, round: number): boolean {
  const key = `${toHex(pub)}:${toHex(sig)}:${round}`;
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const bls = bls12_381.shortSignatures;
  const ok = bls.verify(bls.Signature.fromBytes(sig), bls.hash(roundMessage(round), QUICKNET_DST), bls12_381.G2.Point.fromBytes(pub));
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, ok);
  return ok;
}

/** Verifies a beacon against a chain's public key. Never throws on bad input. */
export function verifyDrandBeacon(chain: DrandChainInfo, beacon: DrandBeacon): { ok: boolean; randomness: Uint8Array; reason?: string } {
  try {
    if (chain.schemeID !== QUICKNET_SCHEME) return fail(`unsupported scheme ${JSON.stringify(chain.schemeID)}`);
    if (!isSafeIndex(beacon.round) || beacon.round < 1) return fail('round must be a positive integer');
    let sig: Uint8Array;
    let pub: Uint8Array;
    try {
      sig = fromHex(beacon.signature, 48);
      pub = fromHex(chain.publicKey, 96);
    } catch (err) {
      return fail(`bad encoding: ${(err as Error).message}`);
    }
    const randomness = sha256(sig);
    if (beacon.randomness !== undefined) {
      let claimed: Uint8Array;
      try {
        claimed = fromHex(beacon.randomness, 32);
      } catch {
        return fail('randomness is not 32 bytes of lowercase hex');
      }
      if (!bytesEqual(claimed, randomness)) return fail('randomness is not SHA-256(signature)');
    }
    const ok = blsVerify(pub, sig, beacon.round);
    return ok ? { ok: true, randomness } : fail('BLS signature does not verify against the chain public key');
  } catch (err) {
    return fail(`invalid point or signature: ${(err as Error).message}`);
  }
}

function assertChainTiming(chain: DrandChainInfo): void {
  if (!isSafeIndex(chain.period) || chain.period < 1 || !isSafeIndex(chain.genesisTime)) throw new RangeError('chain period and genesis time must be positive integers');
}

/** The latest round emitted at or before unixSeconds (0 before genesis). */
export function roundAt(chain: DrandChainInfo, unixSeconds: number): number {
  assertChainTiming(chain);
  if (unixSeconds < chain.genesisTime) return 0;
  return Math.floor((unixSeconds - chain.genesisTime) / chain.period) + 1;
}

/** When round r (≥ 1) is emitted, in unix seconds. */
export function roundTime(chain: DrandChainInfo, round: number): number {
  assertChainTiming(chain);
  if (!isSafeIndex(round) || round < 1) throw new RangeError(`round must be a positive integer, got ${round}`);
  return chain.genesisTime + (round - 1) * chain.period;
}

/** The first round emitted strictly after unixSeconds. */
export function firstRoundAfter(chain: DrandChainInfo, unixSeconds: number): number {
  return roundAt(chain, Math.floor(unixSeconds)) + 1;
}

/** A BLS secret key for a local beacon from a 48-byte seed (noble keygen: seed reduced into the scalar field). */
export function localBeaconSecretKey(seed: Uint8Array): Uint8Array {
  if (seed.length !== 48) throw new RangeError('a local beacon seed has 48 bytes');
  return bls12_381.shortSignatures.keygen(seed).secretKey;
}

/** Signs a round as a quicknet-style beacon (for the local, non-production beacon sandbox). */
export function signDrandRound(secretKey: Uint8Array, round: number): Uint8Array {
  const bls = bls12_381.shortSignatures;
  return bls.Signature.toBytes(bls.sign(bls.hash(roundMessage(round), QUICKNET_DST), secretKey));
}

/** The chain public key (compressed G2, hex) of a local beacon's secret key. */
export function drandPublicKey(secretKey: Uint8Array): string {
  return toHex(bls12_381.shortSignatures.getPublicKey(secretKey).toBytes());
}

/** A beacon for a local chain: signature, randomness and round, hex encoded. */
export function localBeacon(secretKey: Uint8Array, round: number): Required<DrandBeacon> {
  const signature = signDrandRound(secretKey, round);
  return { round, signature: toHex(signature), randomness: toHex(sha256(signature)) };
}
