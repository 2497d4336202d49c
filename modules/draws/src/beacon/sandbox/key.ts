/**
 * The sandbox beacon's BLS key: generated at the sandbox's first start and kept in
 * `draws.beacon_sandbox`, encrypted with field crypto; the genesis time is fixed with it, so the
 * chain (and every round it ever served) stays the same across restarts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson, drandPublicKey, QUICKNET_SCHEME } from '@verity/evidence';
import type { Db, FieldCrypto } from '@verity/kernel';
import type { BeaconChain } from '../port.ts';

const KEY_SUBJECT = 'draws:beacon-sandbox';
export const SANDBOX_BEACON_ID = 'verity-local-sandbox';

/** A BLS12-381 secret scalar: 32 random bytes below 2^254 (< the group order r), never zero. */
function newSecretKey(): Uint8Array {
  for (;;) {
    const key = randomBytes(32);
    key[0]! &= 0x3f;
    if (key.some((b) => b !== 0)) return new Uint8Array(key);
  }
}

/**
 * The sandbox chain's hash: drand hashes its chain info in its own binary form; the sandbox is not a
 * drand network, so it hashes the RFC 8785 JSON of what defines it instead (documented in ADR 0015).
 */
export function sandboxChainHash(c: { publicKey: string; period: number; genesisTime: number; schemeID: string; beaconID: string }): string {
  const text = canonicalJson({ beaconID: c.beaconID, genesisTime: c.genesisTime, period: c.period, publicKey: c.publicKey, schemeID: c.schemeID });
  return createHash('sha256').update(text).digest('hex');
}

export interface SandboxKey {
  secretKey: Uint8Array;
  chain: BeaconChain;
}

export async function loadOrCreateSandboxKey(deps: { db: Db; crypto: FieldCrypto; now: () => Promise<Date> }, options: { periodS: number; genesisTime?: number }): Promise<SandboxKey> {
  let row = await deps.db.maybeOne<{ secret_enc: string; public_key: string; genesis_time: bigint }>('select secret_enc, public_key, genesis_time from draws.beacon_sandbox where id = $1', ['default']);
  if (!row) {
    const secret = newSecretKey();
    const genesis = options.genesisTime ?? Math.floor((await deps.now()).getTime() / 1000);
    const enc = await deps.crypto.encrypt(KEY_SUBJECT, Buffer.from(secret).toString('hex'));
    // Two processes starting at once: the first row wins, both use it.
    await deps.db.query('insert into draws.beacon_sandbox (id, secret_enc, public_key, genesis_time) values ($1, $2, $3, $4) on conflict (id) do nothing', ['default', enc, drandPublicKey(secret), genesis]);
    row = await deps.db.one('select secret_enc, public_key, genesis_time from draws.beacon_sandbox where id = $1', ['default']);
  }
  const secretKey = new Uint8Array(Buffer.from(await deps.crypto.decrypt(KEY_SUBJECT, row.secret_enc), 'hex'));
  if (drandPublicKey(secretKey) !== row.public_key) throw new Error('beacon sandbox key does not match its stored public key');
  const genesisTime = options.genesisTime ?? Number(row.genesis_time);
  const base = { publicKey: row.public_key, period: options.periodS, genesisTime, schemeID: QUICKNET_SCHEME, beaconID: SANDBOX_BEACON_ID };
  const hash = sandboxChainHash(base);
  return {
    secretKey,
    chain: { publicKey: base.publicKey, period: base.period, genesisTime, hash, groupHash: hash, schemeID: QUICKNET_SCHEME, metadata: { beaconID: SANDBOX_BEACON_ID }, nonProduction: true },
  };
}
