/**
 * Bearer-token verification with `jose`: signature against the issuer's JWKS (a document held in
 * process, or fetched from a URL and refreshed when an unknown `kid` appears), issuer, expiry,
 * audience, then the claims mapped to a Principal. Only asymmetric algorithms are accepted, so
 * neither `none` nor an HMAC keyed with a public key can pass.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { Problems, type DomainError } from '../errors.ts';
import { JWKS_RELOAD_COOLDOWN_MS, type ReloadingKeySet } from './jwks.ts';
import { isKnownRole, isOperatorRole, permissionsFor, PLAYER_ROLE } from './roles.ts';
import type { Principal, TokenVerifier } from './types.ts';

export interface JwtVerifierOptions {
  issuer: string;
  /**
   * A JWKS document, a key set that reloads itself on an unknown `kid` (the built-in issuer in this
   * process), or the URL of one (fetched again on an unknown `kid`, at most once per cooldown).
   */
  jwks: JSONWebKeySet | ReloadingKeySet | string;
  /** Claim holding the roles: `roles` for ours, `cognito:groups` for Cognito. */
  rolesClaim?: string;
  /** When set, `aud` must contain it, or `client_id` must equal it (Cognito access tokens). */
  audience?: string;
  /** Require `token_use: access` (our tokens always carry it; generic OIDC ones may not). */
  requireTokenUse?: boolean;
  algorithms?: string[];
  clockToleranceS?: number;
  /** Timeout of a JWKS fetch. */
  jwksTimeoutMs?: number;
  /**
   * The issuer enforces MFA at every sign-in (a Cognito user pool with MFA "required"): its tokens
   * carry no `amr`, so `mfa` is added. Step-up still needs a fresh `auth_time`.
   */
  mfaEnforced?: boolean;
}

export const ASYMMETRIC_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const TOKEN_CHARS_MAX = 8192;
const ROLES_MAX = 32;

const invalidToken = (detail = 'The bearer token is not valid.'): DomainError => Problems.unauthenticated(detail);

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Claims → Principal. Unknown roles grant nothing; a token with no known role is a player's. */
export function principalFromClaims(payload: JWTPayload, opts: { issuer: string; rolesClaim: string; requireTokenUse: boolean; audience?: string; mfaEnforced?: boolean }): Principal {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) throw invalidToken();
  const tokenUse = payload.token_use;
  if (tokenUse !== undefined || opts.requireTokenUse) {
    if (tokenUse !== 'access') throw invalidToken('Send an access token (token_use "access"), not an ID or refresh token.');
  }
  if (opts.audience !== undefined) {
    const aud = stringList(payload.aud);
    if (!aud.includes(opts.audience) && payload.client_id !== opts.audience) throw invalidToken('The bearer token was issued for another audience.');
  }
  const known = stringList(payload[opts.rolesClaim]).slice(0, ROLES_MAX).filter(isKnownRole);
  const operator = known.some(isOperatorRole);
  const roles = operator ? known.filter(isOperatorRole) : [PLAYER_ROLE];
  // Without `auth_time` the sign-in time is unknown: `iat` moves with every refresh, so it must not
  // stand in for it, and such a token never counts as a recent sign-in (step-up).
  const authTime = typeof payload.auth_time === 'number' && Number.isFinite(payload.auth_time) ? payload.auth_time : 0;
  const amr = stringList(payload.amr).slice(0, 8);
  if (opts.mfaEnforced && !amr.includes('mfa')) amr.push('mfa');
  const principal: Principal = {
    subject: sub,
    kind: operator ? 'operator' : 'player',
    roles,
    permissions: permissionsFor(roles),
    amr,
    authTime,
    issuer: opts.issuer,
  };
  if (typeof payload.sid === 'string') principal.sessionId = payload.sid;
  if (typeof payload.jti === 'string') principal.tokenId = payload.jti;
  return principal;
}

export interface JwtVerifier extends TokenVerifier {
  readonly issuer: string;
  /** `verify` plus the token's expiry (epoch seconds), for caches. */
  verifyWithExpiry(token: string): Promise<{ principal: Principal; exp: number }>;
}

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const keys =
    typeof options.jwks === 'string'
      ? createRemoteJWKSet(new URL(options.jwks), { timeoutDuration: options.jwksTimeoutMs ?? 5000, cooldownDuration: JWKS_RELOAD_COOLDOWN_MS, cacheMaxAge: 10 * 60_000 })
      : 'resolve' in options.jwks
        ? options.jwks.resolve
        : createLocalJWKSet(options.jwks as JSONWebKeySet);
  const claimOpts = {
    issuer: options.issuer,
    rolesClaim: options.rolesClaim ?? 'roles',
    requireTokenUse: options.requireTokenUse ?? false,
    mfaEnforced: options.mfaEnforced ?? false,
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  };
  const verifyWithExpiry = async (token: string) => {
    if (token.length > TOKEN_CHARS_MAX) throw invalidToken();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        algorithms: options.algorithms ?? ASYMMETRIC_ALGORITHMS,
        clockTolerance: options.clockToleranceS ?? 30,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw invalidToken('The access token has expired; refresh it or sign in again.');
      if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) throw Problems.unavailable('The token issuer\'s keys could not be fetched.');
      if (err instanceof joseErrors.JOSEError) throw invalidToken();
      throw Problems.unavailable('The token issuer\'s keys could not be fetched.');
    }
    return { principal: principalFromClaims(payload, claimOpts), exp: payload.exp! };
  };
  return {
    issuer: options.issuer,
    verifyWithExpiry,
    async verify(token) {
      return (await verifyWithExpiry(token)).principal;
    },
  };
}
