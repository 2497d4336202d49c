/**
 * A Cognito-like OIDC issuer for tests: its own JWKS server and tokens that say whatever a test
 * needs (groups, amr, auth_time) — a stale sign-in, a missing MFA, another operator.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface FakeOidcIssuer {
  issuer: string;
  jwksUri: string;
  token(input: { subject?: string; groups: string[]; authTimeS?: number; amr?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export async function fakeOidcIssuer(): Promise<FakeOidcIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pool`;
  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    token: ({ subject, groups, authTimeS, amr }) =>
      new SignJWT({ token_use: 'access', 'cognito:groups': groups, auth_time: authTimeS ?? Math.floor(Date.now() / 1000), amr: amr ?? ['pwd', 'otp'] })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-1' })
        .setIssuer(issuer)
        .setSubject(subject ?? randomUUID())
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
