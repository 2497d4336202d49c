/**
 * The built-in token issuer: Ed25519 (EdDSA) signing keys kept in the database with the private
 * half encrypted by the field crypto, access tokens in the JWT profile of RFC 9068 (plus Cognito's
 * `token_use`), and the JWKS any standard library verifies them with.
 *
 * Rotation: a new key signs from the moment it is made; the key it replaces is `superseded` but
 * stays published until every token it signed has expired (token lifetime + margin), then it is
 * retired and leaves the JWKS. Every identity process re-reads the keys every minute and whenever a
 * token names a kid it does not know, so a rotation in one process reaches the others quickly.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createJwtVerifier, reloadingKeySet, uuidv7, type Config, type Db, type FieldCrypto, type JwtVerifier, type Logger } from '@verity/kernel';
import type { Repository, SigningKeyRecord } from './repository.ts';

/** Encryption subject of the private keys (a data key of their own, never erased with a person). */
const SIGNING_KEYS_SUBJECT = 'identity.signing-keys';
export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const CLIENT_ID = 'verity';
/** A process re-reads the keys this often, so it stops signing with a superseded key soon after a rotation elsewhere. */
export const KEY_RELOAD_INTERVAL_MS = 60_000;
/**
 * How long a superseded key stays published beyond the access-token lifetime: covers the reload
 * interval of the other processes (they may sign with it that much longer), verifiers' clock
 * tolerance (30 s) and their JWKS caches, with room to spare.
 */
export const KEY_RETIRE_MARGIN_S = 10 * 60;
/** The scheduled check makes a new key when the current one is this old. */
export const KEY_ROTATE_AFTER_S = 30 * 86400;

export interface AccessTokenClaims {
  sub: string;
  roles: readonly string[];
  amr: readonly string[];
  authTime: Date;
  /** The refresh-token family (one sign-in). */
  sid: string;
}

export interface TokenIssuer {
  readonly issuer: string;
  jwks(): { keys: JWK[] };
  sign(claims: AccessTokenClaims, now: Date): Promise<{ token: string; expiresInS: number }>;
  verifier(): JwtVerifier;
  /** Makes a new key that signs from now on; the previous ones stay published until retired. */
  rotate(): Promise<{ kid: string; publishedKids: string[] }>;
  /** Rotates when the current key is older than KEY_ROTATE_AFTER_S at `now`; the new kid, if any. */
  rotateIfDue(now: Date): Promise<string | undefined>;
  /** Retires superseded keys whose every token has expired at `now`; the retired kids. */
  retireExpired(now: Date): Promise<string[]>;
}

type Deps = { db: Db; repo: Repository; crypto: FieldCrypto; config: Config; log: Logger };

interface KeyState {
  kid: string;
  createdAt: Date;
  privateKey: CryptoKey;
  jwks: { keys: JWK[] };
}

async function createKey(deps: Deps): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateKeyEnc = await deps.crypto.encrypt(SIGNING_KEYS_SUBJECT, await exportPKCS8(privateKey));
  await deps.repo.insertSigningKey({ kid, alg: 'EdDSA', publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }, privateKeyEnc });
  return kid;
}

const currentOf = (keys: SigningKeyRecord[]) => keys.find((k) => k.supersededAt === null);

async function ensureSigningKey(deps: Deps): Promise<void> {
  await deps.db.tx(async () => {
    await deps.repo.lockSigningKeys();
    if (currentOf(await deps.repo.signingKeys())) return;
    deps.log.info({ kid: await createKey(deps) }, 'token signing key created');
  });
}

export async function createTokenIssuer(deps: Deps): Promise<TokenIssuer> {
  const { db, repo, crypto, config, log } = deps;
  const issuer = config.publicUrl;
  const ttlS = config.accessTokenTtlS;
  const imported = new Map<string, CryptoKey>();

  async function readState(): Promise<KeyState> {
    const keys = await repo.signingKeys();
    const current = currentOf(keys);
    if (!current) throw new Error('identity: no current token signing key');
    let privateKey = imported.get(current.kid);
    if (!privateKey) {
      privateKey = await importPKCS8(await crypto.decrypt(SIGNING_KEYS_SUBJECT, current.privateKeyEnc), 'EdDSA');
      imported.clear();
      imported.set(current.kid, privateKey);
    }
    return { kid: current.kid, createdAt: current.createdAt, privateKey, jwks: { keys: keys.map((k) => k.publicJwk as JWK) } };
  }

  // Reloads run outside whatever transaction the caller is in (sign() is called inside sign-in
  // transactions): a read that fails must not abort the caller's transaction.
  const outsideTx = AsyncLocalStorage.snapshot();

  await ensureSigningKey(deps);
  let state = await readState();
  let loadedAtMs = performance.now();
  let reloading: Promise<void> | undefined;
  const keySet = reloadingKeySet(state.jwks, async () => {
    await freshReload();
    return state.jwks;
  });

  function reload(): Promise<void> {
    reloading ??= outsideTx(async () => {
      try {
        const next = await readState();
        if (next.kid !== state.kid) log.info({ kid: next.kid, previous: state.kid }, 'token signing key changed');
        state = next;
        keySet.replace(state.jwks);
      } catch (err) {
        // Keep signing with the keys we have: a database hiccup must not stop sign-ins on its own.
        log.warn({ err: (err as Error).message }, 'token signing keys could not be re-read');
      } finally {
        loadedAtMs = performance.now();
        reloading = undefined;
      }
    });
    return reloading;
  }

  /** A reload that starts after the caller's writes committed (one already running may have read before). */
  async function freshReload(): Promise<void> {
    await reloading;
    await reload();
  }

  const verifier = createJwtVerifier({ issuer, jwks: keySet, requireTokenUse: true, algorithms: ['EdDSA'] });

  async function rotateLocked(): Promise<{ kid: string; publishedKids: string[] }> {
    await repo.supersedeCurrentKey();
    const kid = await createKey(deps);
    const publishedKids = (await repo.signingKeys()).map((k) => k.kid);
    return { kid, publishedKids };
  }

  return {
    issuer,
    jwks: () => state.jwks,
    verifier: () => verifier,
    async sign(claims, now) {
      if (performance.now() - loadedAtMs > KEY_RELOAD_INTERVAL_MS) await reload();
      const { kid, privateKey } = state;
      const iat = Math.floor(now.getTime() / 1000);
      const token = await new SignJWT({
        roles: [...claims.roles],
        amr: [...claims.amr],
        auth_time: Math.floor(claims.authTime.getTime() / 1000),
        token_use: 'access',
        client_id: CLIENT_ID,
        sid: claims.sid,
      })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: ACCESS_TOKEN_TYPE })
        .setIssuer(issuer)
        .setAudience(issuer)
        .setSubject(claims.sub)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlS)
        .setJti(uuidv7())
        .sign(privateKey);
      return { token, expiresInS: ttlS };
    },
    async rotate() {
      const result = await db.tx(async () => {
        await repo.lockSigningKeys();
        return rotateLocked();
      });
      await freshReload();
      log.info({ kid: result.kid }, 'token signing key rotated');
      return result;
    },
    async rotateIfDue(now) {
      const kid = await db.tx(async () => {
        await repo.lockSigningKeys();
        const current = currentOf(await repo.signingKeys());
        if (current && now.getTime() - current.createdAt.getTime() < KEY_ROTATE_AFTER_S * 1000) return undefined;
        return (await rotateLocked()).kid;
      });
      if (kid) {
        await freshReload();
        log.info({ kid }, 'token signing key rotated on schedule');
      }
      return kid;
    },
    async retireExpired(now) {
      const supersededBefore = new Date(now.getTime() - (ttlS + KEY_RETIRE_MARGIN_S) * 1000);
      const retired = await repo.retireSigningKeys(supersededBefore);
      if (retired.length) {
        await freshReload();
        log.info({ kids: retired }, 'superseded token signing keys retired');
      }
      return retired;
    },
  };
}
