/**
 * The Ed25519 key compliance signs evidence-package manifests with. Generated on first use; the
 * private key is stored encrypted by field crypto (a KMS-wrapped data key in AWS), the public key is
 * published at GET /v1/evidence-packages/public-key so anyone can verify a package offline.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { PartContext } from '../contract.ts';
import { sha256Hex } from './domain.ts';
import type { RetentionRepository } from './repository.ts';

/** Field-crypto subject of the private key (not a person: never erased by retention). */
export const SIGNING_KEY_SUBJECT = 'compliance.evidence-signing';

export interface EvidenceSigner {
  keyId: string;
  publicKeyPem: string;
  sign(data: Buffer): Buffer;
}

/** Key id: the first 16 hex characters of the SHA-256 of the public key (SPKI DER). */
export const keyIdOf = (publicKey: KeyObject): string => sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);

export function createSigningKeys(ctx: PartContext, repo: RetentionRepository) {
  let cached: Promise<EvidenceSigner> | undefined;

  async function load(): Promise<EvidenceSigner> {
    let row = await repo.activeSigningKey();
    if (!row) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privateKeyEnc = await ctx.crypto.encrypt(SIGNING_KEY_SUBJECT, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      await repo.insertSigningKey({ keyId: keyIdOf(publicKey), publicKeyPem, privateKeyEnc });
      row = await repo.activeSigningKey();
      if (!row) throw new Error('evidence signing key: none active after creating one');
      ctx.log.info({ keyId: row.keyId }, 'evidence signing key ready');
    }
    const privateKey = createPrivateKey(await ctx.crypto.decrypt(SIGNING_KEY_SUBJECT, row.privateKeyEnc));
    // The stored public key must be the private key's: a swapped row would sign with one and publish another.
    if (keyIdOf(createPublicKey(privateKey)) !== row.keyId) throw new Error('evidence signing key: the public key does not match the private key');
    return { keyId: row.keyId, publicKeyPem: row.publicKeyPem, sign: (data) => sign(null, data, privateKey) };
  }

  return {
    signer(): Promise<EvidenceSigner> {
      cached ??= load().catch((err: unknown) => {
        cached = undefined;
        throw err;
      });
      return cached;
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
