/**
 * Test support for the compliance-core tests: the platform (identity, a stand-in kyc that publishes
 * verification changes on demand, compliance, optionally payments with its sandbox PSP), verified
 * players, compliance operators, and small HTTP helpers.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { defineModule, type Clock, type ModuleDefinition } from '@verity/kernel';
import { startTestPlatform, testConfig, testHttp, waitFor, type TestPlatform, freePort } from '@verity/kernel/testing';
import { startPlatform, createLogger } from '@verity/kernel';
import { identityModule } from '@verity/identity';
import { operatorSession, playerToken, type TestOperator } from '@verity/identity/testing';
import { complianceModule, type ComplianceService } from '@verity/compliance';
import { paymentsModule } from '@verity/payments';

export interface KycStandIn {
  /** Publishes `kyc.verification-changed.v1` as the kyc module does when a verification is decided. */
  setVerification(input: { playerId: string; status: string; ageVerified: boolean; reason?: string }): Promise<void>;
}

/**
 * A `kyc` module that only publishes verification changes when told: compliance's read model is fed
 * by the event, whatever produced it (the real kyc module is tested in modules/kyc).
 */
export const kycStandIn: ModuleDefinition<KycStandIn> = defineModule<KycStandIn>({
  name: 'kyc',
  migrationsDir: path.join(import.meta.dirname, 'no-migrations'),
  remoteMethods: [],
  setup: (ctx) => ({
    service: {
      async setVerification(input) {
        await ctx.db.tx(async () => {
          const decidedAt = (await ctx.db.now()).toISOString();
          await ctx.events.publish({ type: 'kyc.verification-changed.v1', subject: input.playerId, data: { playerId: input.playerId, status: input.status, ageVerified: input.ageVerified, decidedAt, ...(input.reason ? { reason: input.reason } : {}) } });
        });
      },
    },
  }),
});

export { freePort };

export interface CorePlatform {
  platform: TestPlatform;
  compliance: ComplianceService;
  kyc: KycStandIn;
  registerUrl: string;
  pspUrl?: string;
}

export const FAST = { QUEUE_SUPERVISE_INTERVAL_S: '1' };

export async function coreEnv(options: { payments?: boolean; env?: Record<string, string> } = {}): Promise<{ env: Record<string, string>; registerUrl: string; pspUrl?: string }> {
  const registerPort = await freePort();
  const env: Record<string, string> = { ...FAST, COMPLIANCE_SELF_EXCLUSION_REGISTER: 'sandbox', COMPLIANCE_REGISTER_SANDBOX_PORT: String(registerPort), ...options.env };
  let pspUrl: string | undefined;
  if (options.payments) {
    const pspPort = await freePort();
    Object.assign(env, { PSP_PROVIDER: 'sandbox', PSP_SANDBOX_PORT: String(pspPort), PSP_RETRY_MAX: '0', PAYMENTS_DEPOSIT_STATUS_CHECK_S: '1', PAYMENTS_PAYOUT_SETTLE_DELAY_S: '1', ...options.env });
    pspUrl = `http://127.0.0.1:${pspPort}`;
  }
  return { env, registerUrl: `http://127.0.0.1:${registerPort}`, ...(pspUrl ? { pspUrl } : {}) };
}

export const coreModules = (payments = false): ModuleDefinition<any>[] => [identityModule, kycStandIn, complianceModule, ...(payments ? [paymentsModule] : [])];

export async function startCorePlatform(options: { payments?: boolean; env?: Record<string, string>; config?: Record<string, unknown> } = {}): Promise<CorePlatform> {
  const { env, registerUrl, pspUrl } = await coreEnv(options);
  const platform = await startTestPlatform({ modules: coreModules(options.payments), env, config: options.config as never });
  return { platform, compliance: platform.service<ComplianceService>('compliance'), kyc: platform.service<KycStandIn>('kyc'), registerUrl, ...(pspUrl ? { pspUrl } : {}) };
}

/** The platform with an injected clock (retention tests move it years ahead). */
export async function startCorePlatformWithClock(clock: Clock, options: { env?: Record<string, string> } = {}): Promise<CorePlatform> {
  const { env, registerUrl } = await coreEnv(options);
  const config = await testConfig(env);
  const started = await startPlatform({ config, modules: coreModules(), clock, log: createLogger(config.logLevel) });
  const platform = Object.assign(started, { http: testHttp(started.url) }) as TestPlatform;
  return { platform, compliance: platform.service<ComplianceService>('compliance'), kyc: platform.service<KycStandIn>('kyc'), registerUrl };
}

/** A clock that runs with real time plus an offset the test moves. */
export function offsetClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return { now: async () => new Date(Date.now() + offsetMs), advance: (ms) => void (offsetMs += ms) };
}

export type Player = Awaited<ReturnType<typeof playerToken>>;

export async function eligibility(p: TestPlatform, token: string, query = '') {
  return p.http.get(`/v1/eligibility${query}`, token);
}

/** Waits until compliance has the player's row (its registration subscriber ran). */
export async function waitForPlayer(p: TestPlatform, playerId: string): Promise<void> {
  await waitFor(async () => (await p.db.maybeOne('select 1 from compliance.players where player_id = $1 and registered_at is not null', [playerId])) !== undefined, { what: 'compliance to learn of the player' });
}

/** A registered player compliance knows of (registration handled), not yet verified. */
export async function newPlayer(cp: CorePlatform, overrides: Record<string, unknown> = {}): Promise<Player> {
  const player = await playerToken(cp.platform.http, overrides);
  await waitForPlayer(cp.platform, player.playerId);
  return player;
}

/** A player kyc has approved (age verified), as eligibility sees it. */
export async function verifiedPlayer(cp: CorePlatform, overrides: Record<string, unknown> = {}): Promise<Player> {
  const player = await newPlayer(cp, overrides);
  await cp.kyc.setVerification({ playerId: player.playerId, status: 'approved', ageVerified: true });
  await waitFor(async () => (await eligibility(cp.platform, player.accessToken)).body.deposit?.allowed === true, { what: 'the approval to reach eligibility' });
  return player;
}

export const operator = (p: TestPlatform, roles: readonly string[] = ['compliance-manager']): Promise<TestOperator> => operatorSession(p, roles);

export function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string): void {
  if (res.status !== status || res.body?.code !== code) throw new Error(`expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`);
  if (!(res.headers.get('content-type') ?? '').includes('application/problem+json')) throw new Error('expected application/problem+json');
}

export const idem = () => ({ 'idempotency-key': randomUUID() });

/** Events of one type compliance wrote to its outbox (for one subject). */
export async function outboxEvents(p: TestPlatform, type: string, subject?: string): Promise<Record<string, any>[]> {
  const rows = await p.db.query<{ data: Record<string, any> }>(
    'select data from compliance.outbox where type = $1 and ($2::text is null or subject = $2) order by position',
    [type, subject ?? null],
  );
  return rows.map((r) => r.data);
}

/** A Cognito-like issuer whose tokens say whatever a test needs (roles, amr, auth_time). */
export { fakeOidcIssuer as fakeIssuer } from '@verity/kernel/testing';
