/**
 * The log's Ed25519 checkpoint key. Generated at first start; the 32-byte seed is stored only
 * encrypted by field crypto (a data key wrapped by the master key: the local key file, or AWS KMS
 * in AWS), and its C2SP vkey is published at GET /v1/log/key. The key name is the log's origin, as
 * C2SP checkpoints expect. Moving the signing itself into KMS (Ed25519 keys are not offered by
 * every KMS yet) is the next step; ADR 0012.
 */
import { randomBytes } from 'node:crypto';
import { ed25519Signer, verifierFromVkey, type NoteSigner, type NoteVerifier } from '@verity/evidence';
import type { FieldCrypto } from '../crypto/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { LogRepository } from './repository.ts';

/** Field-crypto subject of the seed (not a person: never erased). */
export const LOG_KEY_SUBJECT = 'evidence-log.signing-key';

export interface LogKey {
  origin: string;
  vkey: string;
  signer: NoteSigner;
  verifier: NoteVerifier;
}

export async function loadLogKey(opts: { origin: string; repo: LogRepository; crypto: FieldCrypto; log: Logger }): Promise<LogKey> {
  const { origin, repo, crypto, log } = opts;
  let row = await repo.signingKey();
  if (!row) {
    const seed = randomBytes(32);
    const fresh = ed25519Signer(origin, seed);
    await repo.insertSigningKey({ origin, vkey: fresh.vkey, privateKeyEnc: await crypto.encrypt(LOG_KEY_SUBJECT, seed.toString('base64')) });
    seed.fill(0);
    // Another process may have created its key first: theirs is the one.
    row = await repo.signingKey();
    if (!row) throw new Error('evidence log: no signing key after creating one');
    log.info({ origin, vkey: row.vkey }, 'evidence log signing key created');
  }
  if (row.origin !== origin) {
    throw new Error(`evidence log: LOG_ORIGIN is "${origin}" but this log was started as "${row.origin}"; a log's origin never changes`);
  }
  const seed = Buffer.from(await crypto.decrypt(LOG_KEY_SUBJECT, row.private_key_enc), 'base64');
  const signer = ed25519Signer(origin, seed);
  seed.fill(0);
  // A swapped row would sign with one key and publish another.
  if (signer.vkey !== row.vkey) throw new Error('evidence log: the stored public key is not the private key\'s');
  return { origin, vkey: row.vkey, signer, verifier: verifierFromVkey(row.vkey) };
}
