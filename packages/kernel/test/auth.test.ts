// Route guards and bearer-token verification, through HTTP, with token issuers played by local JWKS servers.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { ConfigError, createJwtVerifier, defineModule, loadConfig, reloadingKeySet, OperatorPermissions, OPERATOR_ROLES, PlayerPermissions, permissionsFor, requestContext, ROLE_PERMISSIONS, isOperatorPermission } from '@verity/kernel';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';

interface Issuer {
  url: string;
  sign(claims: JWTPayload, options?: { alg?: string; key?: CryptoKey; kid?: string; header?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

/** An OIDC issuer the way Cognito is one: a JWKS URL and RS256 tokens. */
async function localIssuer(pathPrefix: string): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((req, res) => {
    if (req.url === `${pathPrefix}/.well-known/jwks.json`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ keys: [jwk] }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${pathPrefix}`;
  return {
    url,
    async sign(claims, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ token_use: 'access', auth_time: now, ...claims })
        .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? 'k1', ...o.header })
        .setIssuer(url)
        .setSubject((claims.sub as string) ?? 'c0ffee00-0000-4000-8000-000000000001')
        .setIssuedAt(now)
        .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 300)
        .sign(o.key ?? privateKey);
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const probeModule = defineModule({
  name: 'probe',
  migrationsDir: '/nonexistent',
  remoteMethods: [],
  setup(ctx) {
    return {
      service: {},
      routes(app) {
        const who = async (req: FastifyRequest) => ({ subject: ctx.auth.principal(req).subject, kind: ctx.auth.principal(req).kind, inContext: requestContext.get()?.principal?.subject });
        app.get('/v1/probe/any', { preHandler: ctx.auth.require() as never, schema: { operationId: 'probeAny' } }, async (req) => ({ ...(await who(req)), amr: ctx.auth.principal(req).amr }));
        app.get('/v1/probe/ledger', { preHandler: ctx.auth.require([OperatorPermissions.ledgerRead]) as never, schema: { operationId: 'probeLedger' } }, who);
        app.get('/v1/probe/payout', { preHandler: ctx.auth.require([OperatorPermissions.payoutsApprove], { stepUp: true }) as never, schema: { operationId: 'probePayout' } }, who);
        app.get('/v1/probe/players-only', { preHandler: ctx.auth.require([PlayerPermissions.ticketsBuy], { kinds: ['player'] }) as never, schema: { operationId: 'probePlayers' } }, who);
      },
    };
  },
});

describe('auth guards', () => {
  let cognito: Issuer;
  let builtIn: Issuer;
  let audienceBound: Issuer;
  let mfaPool: Issuer;
  let p: TestPlatform;

  before(async () => {
    cognito = await localIssuer('/eu-west-2_pool');
    builtIn = await localIssuer('');
    audienceBound = await localIssuer('/aud');
    mfaPool = await localIssuer('/eu-west-2_mfaRequired');
    p = await startTestPlatform({
      modules: [probeModule],
      config: {
        // No identity module in this process: the built-in issuer is trusted through its published JWKS.
        publicUrl: builtIn.url,
        stepUpMaxAgeS: 60,
        oidcIssuers: [
          { issuer: cognito.url, jwksUri: `${cognito.url}/.well-known/jwks.json`, rolesClaim: 'cognito:groups' },
          { issuer: audienceBound.url, jwksUri: `${audienceBound.url}/.well-known/jwks.json`, audience: 'verity-console', rolesClaim: 'roles' },
          { issuer: mfaPool.url, jwksUri: `${mfaPool.url}/.well-known/jwks.json`, rolesClaim: 'cognito:groups', mfa: 'enforced' },
        ],
      },
    });
  });
  after(async () => {
    await p?.stop();
    await Promise.all([cognito?.close(), builtIn?.close(), audienceBound?.close(), mfaPool?.close()]);
  });

  it('when no bearer token is sent, then 401 problem+json with a WWW-Authenticate challenge', async () => {
    const res = await p.http.get('/v1/probe/any');
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'unauthenticated');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await p.http.request('GET', '/v1/probe/any', { headers: { authorization: 'Basic YTpi' } })).status, 401);
  });

  it('when a Cognito token is sent, then its groups become roles and the principal is in the request context', async () => {
    const token = await cognito.sign({ 'cognito:groups': ['finance', 'not-a-role'], amr: ['pwd', 'otp'] });
    const res = await p.http.get('/v1/probe/ledger', token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.kind, 'operator');
    assert.equal(res.body.inContext, res.body.subject, 'audit and logs see the same actor');
  });

  it('when an operator token has no second factor, then operator routes answer 403 mfa-required', async () => {
    const token = await cognito.sign({ 'cognito:groups': ['finance'] });
    const res = await p.http.get('/v1/probe/ledger', token);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'mfa-required');
    assert.equal((await p.http.get('/v1/probe/any', token)).status, 200, 'routes without operator permissions stay open');
  });

  it('when the caller lacks the permission, then 403 forbidden, for an operator of another role and for a player', async () => {
    const support = await cognito.sign({ 'cognito:groups': ['support'], amr: ['pwd', 'otp'] });
    assert.equal((await p.http.get('/v1/probe/ledger', support)).body.code, 'forbidden');
    const player = await cognito.sign({});
    const res = await p.http.get('/v1/probe/ledger', player);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'forbidden', 'a player is told no, not asked for MFA');
    assert.equal((await p.http.get('/v1/probe/players-only', player)).status, 200);
    const admin = await cognito.sign({ 'cognito:groups': ['admin'], amr: ['otp'] });
    assert.equal((await p.http.get('/v1/probe/players-only', admin)).status, 403, 'kinds restrict even an admin');
  });

  it('when the sign-in is older than the step-up window, then privileged actions answer 403 step-up-required', async () => {
    const old = Math.floor(Date.now() / 1000) - 120;
    const stale = await cognito.sign({ 'cognito:groups': ['finance'], amr: ['pwd', 'otp'], auth_time: old });
    const res = await p.http.get('/v1/probe/payout', stale);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'step-up-required');
    assert.equal(res.body.maxAgeSeconds, 60);
    const fresh = await cognito.sign({ 'cognito:groups': ['finance'], amr: ['pwd', 'otp'] });
    assert.equal((await p.http.get('/v1/probe/payout', fresh)).status, 200);
  });

  it('when an issuer is declared mfa "enforced", then its tokens without amr pass the MFA guard, but step-up still needs a recent auth_time', async () => {
    const operator = await mfaPool.sign({ 'cognito:groups': ['finance'] });
    const ledger = await p.http.get('/v1/probe/ledger', operator);
    assert.equal(ledger.status, 200, JSON.stringify(ledger.body));
    assert.deepEqual((await p.http.get('/v1/probe/any', operator)).body.amr, ['mfa']);
    assert.equal((await p.http.get('/v1/probe/payout', operator)).status, 200, 'a fresh sign-in passes step-up');
    const stale = await mfaPool.sign({ 'cognito:groups': ['finance'], auth_time: Math.floor(Date.now() / 1000) - 120 });
    assert.equal((await p.http.get('/v1/probe/ledger', stale)).status, 200);
    assert.equal((await p.http.get('/v1/probe/payout', stale)).body.code, 'step-up-required');
    const noAuthTime = await mfaPool.sign({ 'cognito:groups': ['finance'], auth_time: undefined });
    assert.equal((await p.http.get('/v1/probe/payout', noAuthTime)).body.code, 'step-up-required', 'iat is not a sign-in time: it moves with every refresh');
    // The same token shape from a pool not declared so is still refused.
    assert.equal((await p.http.get('/v1/probe/ledger', await cognito.sign({ 'cognito:groups': ['finance'] }))).body.code, 'mfa-required');
  });

  it('when OIDC_ISSUERS is malformed or misspells a key, then the start stops with a clear error', () => {
    const parse = (value: unknown) => loadConfig({ OIDC_ISSUERS: JSON.stringify(value) });
    const entry = { issuer: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_abc', jwksUri: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_abc/.well-known/jwks.json' };
    assert.deepEqual(parse([{ ...entry, mfa: 'enforced' }]).oidcIssuers, [{ ...entry, mfa: 'enforced' }]);
    assert.deepEqual(parse([entry]).oidcIssuers, [entry]);
    for (const [bad, message] of [
      [[{ ...entry, mfa: 'always' }], /"mfa" can only be "enforced"/],
      [[{ ...entry, mfa_enforced: true }], /unknown key "mfa_enforced"/],
      [[{ ...entry, audience: 42 }], /"audience" must be a non-empty string/],
      [[{ issuer: entry.issuer }], /needs "issuer" and "jwksUri"/],
      [{ issuer: entry.issuer }, /JSON array/],
      [Array.from({ length: 11 }, () => entry), /at most 10/],
    ] as const) {
      assert.throws(() => parse(bad), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('OIDC_ISSUERS') && message.test(p)), JSON.stringify(bad));
    }
  });

  it('when a token is expired, forged, unsigned, an ID token, or from an unknown issuer, then 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await cognito.sign({ exp: now - 120, iat: now - 600 });
    const e = await p.http.get('/v1/probe/any', expired);
    assert.equal(e.status, 401);
    assert.match(e.body.detail, /expired/);
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    assert.equal((await p.http.get('/v1/probe/any', await cognito.sign({}, { key: otherKey }))).status, 401, 'wrong key');
    const hmac = new TextEncoder().encode('a-shared-secret-anyone-could-guess-0123456789');
    const hs = await new SignJWT({ token_use: 'access' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(cognito.url).setSubject('x').setIssuedAt().setExpirationTime('5m').sign(hmac);
    assert.equal((await p.http.get('/v1/probe/any', hs)).status, 401, 'symmetric algorithms are never accepted');
    const [h, body] = (await cognito.sign({ 'cognito:groups': ['support'] })).split('.');
    const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), 'cognito:groups': ['admin'] })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${elevated}.`;
    assert.equal((await p.http.get('/v1/probe/any', none)).status, 401, 'alg none');
    const tampered = `${h}.${elevated}.${(await cognito.sign({})).split('.')[2]}`;
    assert.equal((await p.http.get('/v1/probe/any', tampered)).status, 401, 'tampered claims');
    assert.equal((await p.http.get('/v1/probe/any', await cognito.sign({ token_use: 'id' }))).status, 401, 'ID tokens are not access tokens');
    const stranger = await localIssuer('/stranger');
    try {
      assert.equal((await p.http.get('/v1/probe/any', await stranger.sign({}))).status, 401);
    } finally {
      await stranger.close();
    }
  });

  it('when an issuer is bound to an audience, then only tokens for that client pass', async () => {
    const ok = await audienceBound.sign({ client_id: 'verity-console', roles: ['support'], amr: ['otp'] });
    assert.equal((await p.http.get('/v1/probe/any', ok)).status, 200);
    const other = await audienceBound.sign({ client_id: 'another-app' });
    assert.equal((await p.http.get('/v1/probe/any', other)).status, 401);
  });

  it('when identity runs in another process, then tokens of the built-in issuer are verified with its published JWKS', async () => {
    const ours = await builtIn.sign({ roles: ['player'], amr: ['pwd'] });
    const res = await p.http.get('/v1/probe/players-only', ours);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.kind, 'player');
    const noUse = await builtIn.sign({ token_use: undefined });
    assert.equal((await p.http.get('/v1/probe/any', noUse)).status, 401, 'our own tokens must say token_use access');
  });

  it('when the role catalogue is read, then admin holds every operator permission and no other role leaks player or unknown ones', () => {
    const operatorPermissions = Object.values(OperatorPermissions);
    assert.deepEqual([...permissionsFor(['admin'])].sort(), [...operatorPermissions].sort());
    for (const role of OPERATOR_ROLES) for (const perm of ROLE_PERMISSIONS[role]) assert.ok(isOperatorPermission(perm), `${role}: ${perm}`);
    for (const perm of ROLE_PERMISSIONS.player) assert.ok(!isOperatorPermission(perm));
    assert.equal(permissionsFor(['root']).size, 0);
  });
});

describe('a key set that follows rotation', () => {
  it('when a token names an unknown kid, then the keys are re-read once, and a flood of unknown kids costs one reload per cooldown', async () => {
    const issuer = 'https://issuer.test';
    const keyPair = async (kid: string) => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
    };
    const sign = (key: CryptoKey, kid: string) =>
      new SignJWT({ token_use: 'access', auth_time: Math.floor(Date.now() / 1000) }).setProtectedHeader({ alg: 'EdDSA', kid }).setIssuer(issuer).setSubject('s').setIssuedAt().setExpirationTime('5m').sign(key);
    const old = await keyPair('old');
    const next = await keyPair('next');
    let published = [old.jwk];
    let loads = 0;
    const keys = reloadingKeySet({ keys: published }, async () => {
      loads++;
      return { keys: published };
    }, { cooldownMs: 60_000 });
    const verifier = createJwtVerifier({ issuer, jwks: keys, algorithms: ['EdDSA'] });

    assert.equal((await verifier.verify(await sign(old.privateKey, 'old'))).subject, 's');
    assert.equal(loads, 0, 'a known kid needs no reload');
    published = [next.jwk, old.jwk];
    assert.equal((await verifier.verify(await sign(next.privateKey, 'next'))).subject, 's', 'the rotated key is found by reloading');
    assert.equal(loads, 1);
    const forged = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(next.privateKey, `made-up-${i}`)));
    const results = await Promise.allSettled(forged.map((t) => verifier.verify(t)));
    assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 401));
    assert.equal(loads, 1, 'unknown kids within the cooldown do not reach the source');
    assert.deepEqual(keys.current().keys.map((k) => k.kid), ['next', 'old']);
  });
});
