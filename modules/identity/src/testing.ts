/**
 * Test support for every package whose tests need a signed-in player or operator
 * (`@verity/identity/testing`). Everything goes through the public HTTP API, except the bootstrap
 * admin, which comes from the identity service (in process, or over HTTP when it runs elsewhere).
 */
import { randomBytes } from 'node:crypto';
import type { HttpResult, TestHttp } from '@verity/kernel/testing';
import type { LoginResult, TokenSetDto } from './contracts.ts';
import { totpCode, TOTP_PERIOD_S } from './domain/totp.ts';
import type { BootstrapAdminResult, IdentityService } from './index.ts';

/** The part of a test platform these helpers use. */
export interface PlatformLike {
  http: TestHttp;
  service<T>(module: string): T;
}

export interface TestPlayer {
  playerId: string;
  email: string;
  password: string;
  body: Record<string, unknown>;
}

const unique = () => randomBytes(6).toString('hex');

function expectStatus<T>(res: HttpResult<T>, status: number, what: string): T {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * The current TOTP code of `secret`. `offsetSteps: 1` gives the next period's code, which the
 * server also accepts: use it for a second sign-in in the same 30 s (a used code is refused).
 */
export function totpNow(secret: string, offsetSteps = 0): string {
  return totpCode(secret, new Date(Date.now() + offsetSteps * TOTP_PERIOD_S * 1000));
}

/** A strong random password (never refused by the password policy). */
export const strongPassword = (): string => `Tv-${randomBytes(12).toString('base64url')}-9q`;

export function playerBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    email: `player-${unique()}@example.test`,
    password: strongPassword(),
    legalName: 'Ada Lovelace',
    dateOfBirth: '1990-04-12',
    address: { line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    country: 'GB',
    ...overrides,
  };
}

/** Registers a player through POST /v1/players; throws unless it answers 201. */
export async function registerPlayer(http: TestHttp, overrides: Record<string, unknown> = {}): Promise<TestPlayer> {
  const body = playerBody(overrides);
  const created = expectStatus(await http.post('/v1/players', body), 201, 'registerPlayer');
  return { playerId: created.playerId, email: body.email as string, password: body.password as string, body };
}

/** Signs a player without MFA in; throws on anything but tokens. */
export async function loginPlayer(http: TestHttp, email: string, password: string): Promise<TokenSetDto> {
  const result = expectStatus<LoginResult>(await http.post('/v1/auth/login', { email, password }), 200, 'login');
  if (!('accessToken' in result)) throw new Error(`login: expected tokens, got challenge ${result.challengeName}`);
  return result;
}

/** Registers and signs in a fresh player. */
export async function playerToken(http: TestHttp, overrides: Record<string, unknown> = {}): Promise<TestPlayer & { accessToken: string; refreshToken: string }> {
  const player = await registerPlayer(http, overrides);
  const tokens = await loginPlayer(http, player.email, player.password);
  return { ...player, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

export interface AdminSession extends BootstrapAdminResult {
  accessToken: string;
  refreshToken: string;
}

/** A fresh admin operator (bootstrap), signed in with password + TOTP (amr has `otp`). */
export async function adminSession(platform: PlatformLike, options: { offsetSteps?: number } = {}): Promise<AdminSession> {
  const admin = await platform.service<IdentityService>('identity').bootstrapAdmin({ email: `admin-${unique()}@verity.test` });
  const tokens = await signInWithTotp(platform.http, admin.email, admin.password, admin.totpSecret, options.offsetSteps ?? 0);
  return { ...admin, ...tokens };
}

/** An admin's access token: MFA done, freshly authenticated (passes step-up). */
export async function adminToken(platform: PlatformLike): Promise<string> {
  return (await adminSession(platform)).accessToken;
}

/** Password, then the MFA_REQUIRED challenge with a TOTP code. */
export async function signInWithTotp(http: TestHttp, email: string, password: string, secret: string, offsetSteps = 0): Promise<TokenSetDto> {
  const login = expectStatus<LoginResult>(await http.post('/v1/auth/login', { email, password }), 200, 'login');
  if (!('challengeName' in login) || login.challengeName !== 'MFA_REQUIRED') throw new Error(`login: expected MFA_REQUIRED, got ${JSON.stringify(login)}`);
  const body = { challengeName: 'MFA_REQUIRED', session: login.session, code: totpNow(secret, offsetSteps) };
  return expectStatus<TokenSetDto>(await http.post('/v1/auth/challenge', body), 200, 'respondToChallenge');
}

export interface TestOperator {
  operatorId: string;
  email: string;
  password: string;
  totpSecret: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * A new operator's first sign-in, the way a person does it: the temporary password →
 * NEW_PASSWORD_REQUIRED (a new password) → MFA_SETUP_REQUIRED → enrol TOTP → verify, which
 * completes the sign-in. Returns the password chosen and the TOTP secret with the tokens.
 */
export async function firstSignIn(http: TestHttp, email: string, temporaryPassword: string): Promise<TokenSetDto & { password: string; totpSecret: string }> {
  const login = expectStatus<LoginResult>(await http.post('/v1/auth/login', { email, password: temporaryPassword }), 200, 'login');
  if (!('challengeName' in login) || login.challengeName !== 'NEW_PASSWORD_REQUIRED') throw new Error(`login: expected NEW_PASSWORD_REQUIRED, got ${JSON.stringify(login)}`);
  const password = strongPassword();
  const changed = expectStatus<LoginResult>(
    await http.post('/v1/auth/challenge', { challengeName: 'NEW_PASSWORD_REQUIRED', session: login.session, newPassword: password }),
    200,
    'respondToChallenge NEW_PASSWORD_REQUIRED',
  );
  if (!('challengeName' in changed) || changed.challengeName !== 'MFA_SETUP_REQUIRED') throw new Error(`new password: expected MFA_SETUP_REQUIRED, got ${JSON.stringify(changed)}`);
  const enrol = expectStatus<{ secret: string }>(await http.post('/v1/me/mfa', { session: changed.session }), 200, 'enrollMfa');
  const verified = expectStatus<TokenSetDto>(await http.post('/v1/me/mfa/verify', { session: changed.session, code: totpNow(enrol.secret) }), 200, 'verifyMfaEnrollment');
  return { ...verified, password, totpSecret: enrol.secret };
}

/** An operator with the given roles, created by a fresh admin and through its first sign-in (see firstSignIn). */
export async function operatorSession(platform: PlatformLike, roles: readonly string[]): Promise<TestOperator> {
  const { http } = platform;
  const admin = await adminToken(platform);
  const email = `operator-${unique()}@verity.test`;
  const created = expectStatus<{ operatorId: string; temporaryPassword: string }>(
    await http.post('/v1/operators', { email, displayName: 'Test Operator', roles }, admin),
    201,
    'createOperator',
  );
  const signedIn = await firstSignIn(http, email, created.temporaryPassword);
  return { operatorId: created.operatorId, email, password: signedIn.password, totpSecret: signedIn.totpSecret, accessToken: signedIn.accessToken, refreshToken: signedIn.refreshToken };
}
