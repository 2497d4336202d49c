/**
 * Route guards: a verified bearer token (the built-in issuer or a configured OIDC issuer such as
 * Cognito), the route's permissions, MFA for anything an operator permission protects, and a fresh
 * `auth_time` for privileged actions. The verified principal goes into the request context, so
 * audit records and log lines name the actor without threading it through calls.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { Problems, type DomainError } from '../errors.ts';
import { requestContext } from '../http/context.ts';
import type { AuthGuards } from '../module.ts';
import type { Logger } from '../telemetry/logger.ts';
import { LruCache } from '../crypto/lru.ts';
import { createJwtVerifier, type JwtVerifier } from './jwt.ts';
import { isOperatorPermission } from './roles.ts';
import type { SessionRevocations } from './revocations.ts';
import type { GuardOptions, Principal, TokenVerifier } from './types.ts';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
/** RFC 8176 methods that prove a second factor; `mfa` is what an issuer that enforces MFA asserts. */
const MFA_METHODS = new Set(['otp', 'hwk', 'mfa']);

export interface AuthGuardsRuntime extends AuthGuards {
  /** Verifies a bearer token against the issuer it names (throws a 401 DomainError). */
  verify(token: string): Promise<Principal>;
}

/** The `iss` of a JWT, read without trusting it: it only picks which keys to verify with. */
function unverifiedIssuer(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload || payload.length > 8192) return undefined;
  try {
    const iss = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

const hasMfa = (p: Principal) => p.amr.some((m) => MFA_METHODS.has(m));

export function createAuthGuards(opts: { config: Config; log: Logger; revocations?: SessionRevocations }): AuthGuardsRuntime {
  const { config, log, revocations } = opts;
  const external = new Map<string, JwtVerifier>(
    config.oidcIssuers.map((i) => [
      i.issuer,
      createJwtVerifier({
        issuer: i.issuer,
        jwks: i.jwksUri,
        rolesClaim: i.rolesClaim ?? 'cognito:groups',
        mfaEnforced: i.mfa === 'enforced',
        ...(i.audience ? { audience: i.audience } : {}),
      }),
    ]),
  );
  // Until the identity module (in this process) hands over its keys, trust the built-in issuer through
  // its published JWKS: that is how a process running other modules verifies tokens.
  let builtIn: TokenVerifier | undefined;
  const builtInVerifier = (): TokenVerifier => {
    builtIn ??= createJwtVerifier({
      issuer: config.publicUrl,
      jwks: `${config.serviceUrls.identity ?? config.publicUrl}/.well-known/jwks.json`,
      requireTokenUse: true,
    });
    return builtIn;
  };
  // Verifying an Ed25519 signature per request is cheap but not free; a verified token is reused
  // until it expires, for at most a minute (a rotated-out key stops working within that bound).
  const verified = new LruCache<{ principal: Principal; expMs: number }>(5_000, 60_000);

  const verify = async (token: string): Promise<Principal> => {
    const principal = await verifySignature(token);
    // After the cache too: a session ended after its token was first seen is refused from then on.
    if (principal.sessionId !== undefined && revocations?.isRevoked(principal.sessionId)) {
      throw Problems.sessionEnded();
    }
    return principal;
  };

  const verifySignature = async (token: string): Promise<Principal> => {
    const hit = verified.get(token);
    if (hit && hit.expMs > Date.now()) return hit.principal;
    const iss = unverifiedIssuer(token);
    const verifier = iss === config.publicUrl ? builtInVerifier() : iss !== undefined ? external.get(iss) : undefined;
    if (!verifier) throw Problems.unauthenticated('The bearer token is not from a trusted issuer.');
    if ('verifyWithExpiry' in verifier) {
      const { principal, exp } = await (verifier as JwtVerifier).verifyWithExpiry(token);
      verified.set(token, { principal, expMs: exp * 1000 });
      return principal;
    }
    return verifier.verify(token);
  };

  const principals = new WeakMap<FastifyRequest, Principal>();

  const authenticate = async (req: FastifyRequest, reply: FastifyReply): Promise<Principal> => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? BEARER.exec(header) : null;
    try {
      if (!m) throw Problems.unauthenticated();
      const principal = await verify(m[1]!);
      principals.set(req, principal);
      const ctx = requestContext.get();
      if (ctx) ctx.principal = principal;
      return principal;
    } catch (err) {
      if ((err as DomainError).status === 401) {
        reply.header('www-authenticate', m ? 'Bearer realm="verity", error="invalid_token"' : 'Bearer realm="verity"');
      }
      throw err;
    }
  };

  return {
    verify,
    require(permissions = [], options: GuardOptions = {}) {
      const needsMfa = options.mfa === true || permissions.some(isOperatorPermission);
      return async (req, reply) => {
        const principal = await authenticate(req, reply);
        if (options.kinds && !options.kinds.includes(principal.kind)) throw Problems.forbidden();
        // An operator without MFA learns nothing else about the route, not even whether it may use it.
        if (needsMfa && principal.kind !== 'player' && !hasMfa(principal)) throw Problems.mfaRequired();
        for (const p of permissions) if (!principal.permissions.has(p)) throw Problems.forbidden();
        if (needsMfa && !hasMfa(principal)) throw Problems.mfaRequired();
        if (options.stepUp && Date.now() / 1000 - principal.authTime > config.stepUpMaxAgeS) {
          throw Problems.stepUpRequired(config.stepUpMaxAgeS);
        }
      };
    },
    principal(req) {
      const p = principals.get(req);
      if (!p) throw Problems.unauthenticated();
      return p;
    },
    async revokeSessions(sessionIds) {
      if (!revocations) throw new Error('session revocation is not configured in this process');
      await revocations.revoke(sessionIds);
    },
    setBuiltInVerifier(v) {
      builtIn = v;
      log.debug({ issuer: config.publicUrl }, 'built-in token issuer keys loaded in process');
    },
  };
}
