/**
 * A key set held in process that follows key rotation: when a token names a `kid` the set does not
 * have, the set is read again from its source (the database of the issuer, say), at most once per
 * cooldown, so a flood of tokens with made-up kids costs one reload per cooldown and no more.
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export const JWKS_RELOAD_COOLDOWN_MS = 10_000;

export interface ReloadingKeySet {
  /** For `jwtVerify`: the key of the token's `kid`, reloading once when it is unknown. */
  readonly resolve: JWTVerifyGetKey;
  /** The keys held now. */
  current(): JSONWebKeySet;
  /** Replaces the keys (the owner reloaded them itself). */
  replace(jwks: JSONWebKeySet): void;
}

export function reloadingKeySet(initial: JSONWebKeySet, load: () => Promise<JSONWebKeySet>, options: { cooldownMs?: number } = {}): ReloadingKeySet {
  const cooldownMs = options.cooldownMs ?? JWKS_RELOAD_COOLDOWN_MS;
  let jwks = initial;
  let local = createLocalJWKSet(initial);
  let lastReloadMs = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const replace = (next: JSONWebKeySet) => {
    jwks = next;
    local = createLocalJWKSet(next);
  };
  const reload = () => {
    inFlight ??= (async () => {
      lastReloadMs = performance.now();
      try {
        replace(await load());
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const resolve: JWTVerifyGetKey = async (header, token) => {
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      if (inFlight) await inFlight;
      else if (performance.now() - lastReloadMs >= cooldownMs) await reload();
      else throw err;
      return local(header, token);
    }
  };
  return { resolve, current: () => jwks, replace };
}
