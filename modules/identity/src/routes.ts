/**
 * Identity's HTTP surface: parse (the schemas reject anything unknown or unbounded), authorize,
 * call the use case, shape the reply. Sign-in, registration and reset routes have rate limits
 * tighter than the global one, on top of the per-account throttle.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions, PlayerPermissions, type AuthGuards, type Config, type HttpApp, type Idempotency, type RouteGuard } from '@verity/kernel';
import {
  Address, ChallengeBody, CreateOperatorBody, CreateOperatorReply, EnrollMfaBody, EnrollMfaReply, Jwks, ListOperatorsQuery, LoginBody, LoginReply,
  LogoutBody, MeReply, NoContent, OpenIdConfiguration, OperatorPage, OperatorParams, OperatorReply, PasswordResetBody, PasswordResetConfirmBody,
  PasswordResetReply, Problem, ReasonBody, RefreshBody, RegisterPlayerBody, RegisterPlayerReply, SetRolesBody, SetRolesReply, TAG_ACCOUNTS,
  TAG_AUTH, TAG_DISCOVERY, TAG_OPERATORS, TemporaryPasswordReply, TokenSet, UpdateAddressReply, VerifyMfaBody, VerifyMfaReply,
  type RegisterPlayerInput,
} from './contracts.ts';
import { rememberDevice } from './device.ts';
import type { Enroller } from './mfa.ts';
import type { Identity } from './service.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface RouteDeps {
  identity: Identity;
  issuer: TokenIssuer;
  auth: AuthGuards;
  idempotency: Idempotency;
  config: Config;
}

const bearer = [{ bearer: [] }];
type HttpPreHandler = RouteGuard;

interface Ctx extends RouteDeps {
  app: HttpApp;
  /** Route config with the tighter rate limit. */
  tight: { rateLimit: { max: number; timeWindow: number } };
  signedIn: HttpPreHandler;
}

export function registerRoutes(app: HttpApp, deps: RouteDeps): void {
  // A twentieth of the global budget per client and window (30/min by default) for the routes an
  // attacker would hammer; the per-account throttle is what really stops password guessing.
  const tight = { rateLimit: { max: Math.max(5, Math.floor(deps.config.rateLimitMax / 20)), timeWindow: deps.config.rateLimitWindowMs } };
  // The guards are typed for any Fastify instance; routes take them as this app's preHandler.
  const ctx: Ctx = { ...deps, app, tight, signedIn: deps.auth.require() };
  signInRoutes(ctx);
  accountRoutes(ctx);
  operatorRoutes(ctx);
  operatorAccessRoutes(ctx);
  discoveryRoutes(ctx);
}

function signInRoutes({ app, identity, tight }: Ctx): void {
  app.post('/v1/auth/login', {
    config: tight,
    preHandler: rememberDevice,
    schema: { operationId: 'login', tags: [TAG_AUTH], summary: 'Sign in: tokens, or a challenge to answer', body: LoginBody, response: { 200: LoginReply, '4xx': Problem } },
  }, async (req) => identity.sessions.login(req.body));

  app.post('/v1/auth/challenge', {
    config: tight,
    preHandler: rememberDevice,
    schema: {
      operationId: 'respondToChallenge', tags: [TAG_AUTH],
      summary: 'Answer a sign-in challenge: tokens, or the next challenge',
      description: 'MFA_REQUIRED (and MFA_SETUP_REQUIRED after enrolment) take a TOTP `code`; NEW_PASSWORD_REQUIRED takes `newPassword` (same policy as registration), '
        + 'which replaces the temporary password an admin set. Each answer returns tokens or the next challenge with a new session.',
      body: ChallengeBody, response: { 200: LoginReply, '4xx': Problem },
    },
  }, async (req) => {
    const body = req.body;
    if (body.challengeName === 'NEW_PASSWORD_REQUIRED') return identity.sessions.completeNewPassword(body.session, body.newPassword);
    return identity.sessions.completeWithCode(body.session, body.challengeName, body.code);
  });

  app.post('/v1/auth/refresh', {
    config: tight,
    schema: { operationId: 'refreshToken', tags: [TAG_AUTH], summary: 'Exchange a refresh token for new tokens (the old one stops working)', body: RefreshBody, response: { 200: TokenSet, '4xx': Problem } },
  }, async (req) => identity.sessions.refresh(req.body.refreshToken));

  app.post('/v1/auth/logout', {
    schema: { operationId: 'logout', tags: [TAG_AUTH], summary: 'End the session of a refresh token', body: LogoutBody, response: { 204: NoContent, '4xx': Problem } },
  }, async (req, reply) => {
    await identity.sessions.logout(req.body.refreshToken);
    return reply.code(204).send(null);
  });

  app.post('/v1/auth/password-reset', {
    config: tight,
    schema: { operationId: 'requestPasswordReset', tags: [TAG_AUTH], summary: 'Send a reset link, if the email has an account', body: PasswordResetBody, response: { 202: PasswordResetReply, '4xx': Problem } },
  }, async (req, reply) => {
    await identity.reset.request(req.body.email);
    return reply.code(202).send({ status: 'accepted' as const });
  });

  app.post('/v1/auth/password-reset/confirm', {
    config: tight,
    schema: { operationId: 'confirmPasswordReset', tags: [TAG_AUTH], summary: 'Set a new password with a reset token; ends every session', body: PasswordResetConfirmBody, response: { 204: NoContent, '4xx': Problem } },
  }, async (req, reply) => {
    await identity.reset.confirm(req.body.token, req.body.newPassword);
    return reply.code(204).send(null);
  });
}

function accountRoutes({ app, identity, auth, idempotency, tight, signedIn }: Ctx): void {
  app.post('/v1/players', {
    config: tight,
    schema: { operationId: 'registerPlayer', tags: [TAG_ACCOUNTS], summary: 'Register a player', description: 'Takes an optional Idempotency-Key.', body: RegisterPlayerBody, response: { 201: RegisterPlayerReply, '4xx': Problem } },
  }, idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const result = await identity.registration.registerPlayer(req.body as RegisterPlayerInput);
    // Returned, not `reply.send`-ed: a returned reply is a thenable that the idempotency capture would wait on forever.
    reply.code(201);
    return result;
  }));

  /** MFA enrolment works with a bearer token or, at an operator's first sign-in, with the challenge session. */
  const enroller = async (req: FastifyRequest, reply: FastifyReply, session: string | undefined): Promise<Enroller> => {
    if (session) return { session };
    await signedIn.call(app, req, reply);
    return { principal: auth.principal(req) };
  };

  app.post('/v1/me/mfa', {
    config: tight,
    schema: { operationId: 'enrollMfa', tags: [TAG_ACCOUNTS], summary: 'Start TOTP enrolment: a new secret to add to an authenticator app', security: [...bearer, {}], body: EnrollMfaBody, response: { 200: EnrollMfaReply, '4xx': Problem } },
  }, async (req, reply) => identity.mfa.enroll(await enroller(req, reply, req.body.session)));

  app.post('/v1/me/mfa/verify', {
    config: tight,
    schema: { operationId: 'verifyMfaEnrollment', tags: [TAG_ACCOUNTS], summary: 'Activate the new authenticator with one of its codes', security: [...bearer, {}], body: VerifyMfaBody, response: { 200: VerifyMfaReply, '4xx': Problem } },
  }, async (req, reply) => identity.mfa.verify(await enroller(req, reply, req.body.session), req.body.code));

  app.get('/v1/me', {
    preHandler: signedIn,
    schema: {
      operationId: 'getMe', tags: [TAG_ACCOUNTS], summary: 'Who you are: the token, and your own profile and MFA status',
      description: 'For an account of this issuer, players also get their profile (decrypted for them) and operators their name and email.',
      security: bearer, response: { 200: MeReply, '4xx': Problem },
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return identity.profile.me(auth.principal(req));
  });

  app.patch('/v1/me/address', {
    config: tight,
    preHandler: auth.require([PlayerPermissions.profileUpdateOwn], { kinds: ['player'] }),
    schema: { operationId: 'updateMyAddress', tags: [TAG_ACCOUNTS], summary: 'Replace your postal address', security: bearer, body: Address, response: { 200: UpdateAddressReply, '4xx': Problem } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return identity.profile.updateMyAddress(auth.principal(req), req.body);
  });
}

/** Replies that carry a temporary password are never cached nor stored (idempotency included). */
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

function operatorRoutes({ app, identity, auth, tight }: Ctx): void {
  const manageOperators = auth.require([OperatorPermissions.operatorsManage], { mfa: true, stepUp: true });
  const admin = (summary: string) => `${summary} (admin, MFA, recent sign-in)`;
  const ops = identity.operators;

  app.post('/v1/operators', {
    config: tight,
    preHandler: manageOperators,
    schema: {
      operationId: 'createOperator', tags: [TAG_OPERATORS], summary: admin('Create an operator with a temporary password'),
      description: 'The temporary password works for 7 days, only to choose a new one (NEW_PASSWORD_REQUIRED), then the operator enrols TOTP. '
        + 'Not idempotent by key on purpose: the reply holds a secret that must not be stored; a retry of a create that succeeded is a 409, '
        + 'and resetOperatorPassword issues a new temporary password.',
      security: bearer, body: CreateOperatorBody, response: { 201: CreateOperatorReply, '4xx': Problem },
    },
  }, async (req, reply) => {
    const result = await ops.createOperator(auth.principal(req), req.body);
    return noStore(reply).code(201).send(result);
  });

  app.get('/v1/operators', {
    preHandler: manageOperators,
    schema: { operationId: 'listOperators', tags: [TAG_OPERATORS], summary: admin('List operators, oldest first'), security: bearer, querystring: ListOperatorsQuery, response: { 200: OperatorPage, '4xx': Problem } },
  }, async (req, reply) => {
    noStore(reply);
    return ops.listOperators(auth.principal(req), req.query);
  });

  app.get('/v1/operators/:operatorId', {
    preHandler: manageOperators,
    schema: { operationId: 'getOperator', tags: [TAG_OPERATORS], summary: admin('An operator'), security: bearer, params: OperatorParams, response: { 200: OperatorReply, '4xx': Problem } },
  }, async (req, reply) => {
    noStore(reply);
    return ops.getOperator(auth.principal(req), req.params.operatorId);
  });

  app.put('/v1/operators/:operatorId/roles', {
    config: tight,
    preHandler: manageOperators,
    schema: { operationId: 'setOperatorRoles', tags: [TAG_OPERATORS], summary: admin("Replace an operator's roles"), security: bearer, params: OperatorParams, body: SetRolesBody, response: { 200: SetRolesReply, '4xx': Problem } },
  }, async (req) => ops.setOperatorRoles(auth.principal(req), req.params.operatorId, req.body.roles));

}

/** Changes to how an operator signs in: each needs a reason, which goes into the audit record. */
function operatorAccessRoutes({ app, identity, auth, tight }: Ctx): void {
  const manageOperators = auth.require([OperatorPermissions.operatorsManage], { mfa: true, stepUp: true });
  const admin = (summary: string) => `${summary} (admin, MFA, recent sign-in)`;
  const ops = identity.operators;

  app.post('/v1/operators/:operatorId/temporary-password', {
    config: tight,
    preHandler: manageOperators,
    schema: {
      operationId: 'resetOperatorPassword', tags: [TAG_OPERATORS], summary: admin('Issue a new temporary password; ends the operator\'s sessions'),
      description: 'Not for your own account. The operator keeps their authenticator: the next sign-in is MFA_REQUIRED, then NEW_PASSWORD_REQUIRED.',
      security: bearer, params: OperatorParams, body: ReasonBody, response: { 200: TemporaryPasswordReply, '4xx': Problem },
    },
  }, async (req, reply) => {
    noStore(reply);
    return ops.resetOperatorPassword(auth.principal(req), req.params.operatorId, req.body.reason);
  });

  app.post('/v1/operators/:operatorId/disable', {
    config: tight,
    preHandler: manageOperators,
    schema: {
      operationId: 'disableOperator', tags: [TAG_OPERATORS], summary: admin('Disable an operator: no sign-in, no refresh, every session ended'),
      description: 'Not for your own account.', security: bearer, params: OperatorParams, body: ReasonBody, response: { 200: OperatorReply, '4xx': Problem },
    },
  }, async (req) => ops.disableOperator(auth.principal(req), req.params.operatorId, req.body.reason));

  app.post('/v1/operators/:operatorId/enable', {
    config: tight,
    preHandler: manageOperators,
    schema: { operationId: 'enableOperator', tags: [TAG_OPERATORS], summary: admin('Enable a disabled operator'), security: bearer, params: OperatorParams, body: ReasonBody, response: { 200: OperatorReply, '4xx': Problem } },
  }, async (req) => ops.enableOperator(auth.principal(req), req.params.operatorId, req.body.reason));

  app.delete('/v1/operators/:operatorId/mfa', {
    config: tight,
    preHandler: manageOperators,
    schema: {
      operationId: 'resetOperatorMfa', tags: [TAG_OPERATORS], summary: admin("Remove an operator's authenticator; ends their sessions"),
      description: 'The next sign-in is MFA_SETUP_REQUIRED. Not for your own account.', security: bearer, params: OperatorParams, body: ReasonBody, response: { 200: OperatorReply, '4xx': Problem },
    },
  }, async (req) => ops.resetOperatorMfa(auth.principal(req), req.params.operatorId, req.body.reason));
}

function discoveryRoutes({ app, issuer }: Ctx): void {
  app.get('/.well-known/jwks.json', {
    schema: { operationId: 'getJwks', tags: [TAG_DISCOVERY], summary: 'Public keys that verify our access tokens', response: { 200: Jwks } },
  }, async (_req, reply) => {
    // Short: a rotated key signs at once, and a verifier behind a cache must find it soon.
    reply.header('cache-control', 'public, max-age=60');
    return issuer.jwks();
  });

  app.get('/.well-known/openid-configuration', {
    schema: { operationId: 'getOpenIdConfiguration', tags: [TAG_DISCOVERY], summary: 'OpenID Provider metadata (issuer, JWKS)', response: { 200: OpenIdConfiguration } },
  }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return openIdConfiguration(issuer.issuer);
  });
}

/** Discovery metadata: enough for standard libraries to find the keys and check `iss`. */
function openIdConfiguration(issuer: string) {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['EdDSA'],
    token_endpoint_auth_methods_supported: ['none'],
    grant_types_supported: ['password', 'refresh_token'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'auth_time', 'amr', 'roles', 'token_use', 'client_id', 'sid'],
    // Not OpenID Connect fields: where this API's Cognito-shaped sign-in lives.
    'x-verity-login_endpoint': `${issuer}/v1/auth/login`,
    'x-verity-refresh_endpoint': `${issuer}/v1/auth/refresh`,
  };
}
