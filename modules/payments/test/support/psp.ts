/**
 * Test support for PSP, deposit, webhook and deposit-limit tests: the platform with the sandbox PSP
 * on a known port and a known webhook secret, sandbox controls, signed webhooks, deposits through
 * the API, and moving deposit-limit time by shifting the stored timestamps.
 */
import { randomUUID } from 'node:crypto';
import type { ModuleDefinition } from '@verity/kernel';
import { startTestPlatform, waitFor, type TestPlatform, freePort } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { playerToken } from '@verity/identity/testing';
import { paymentsModule, type PaymentsService } from '@verity/payments';
import { signPayload } from '../../src/psp/signature.ts';

export const WEBHOOK_SECRET = 'whsec_test_sandbox_secret_0123456789';
export const WEBHOOK_PATH = '/v1/payments/webhooks/sandbox';
export const DEBIT_CHALLENGE = '4000000000000002';
export const CREDIT_CHALLENGE = '4000000000000010';
export const DEBIT_FRICTIONLESS = '4000000000000036';
export const DECLINED = '4000000000000044';

export { freePort };

export interface PspPlatform {
  platform: TestPlatform;
  sandboxUrl: string;
}

/** Identity + payments (+ `modules`), the sandbox PSP on a free port, short timeouts and fast status checks. */
export async function startPspPlatform(env: Record<string, string> = {}, modules: ModuleDefinition<any>[] = []): Promise<PspPlatform> {
  const port = await freePort();
  const platform = await startTestPlatform({
    modules: [identityModule, paymentsModule, ...modules],
    env: {
      PSP_PROVIDER: 'sandbox',
      PSP_SANDBOX_PORT: String(port),
      PSP_SANDBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
      PSP_TIMEOUT_MS: '2000',
      PSP_RETRY_MAX: '1',
      PSP_BREAKER_FAILURES: '3',
      PSP_BREAKER_HALF_OPEN_MS: '1000',
      PAYMENTS_DEPOSIT_STATUS_CHECK_S: '1',
      ...env,
    },
  });
  return { platform, sandboxUrl: `http://127.0.0.1:${port}` };
}

export async function sandboxControl(sandboxUrl: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${sandboxUrl}/sandbox/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  if (res.status !== 200) throw new Error(`sandbox control: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** What a player's browser does on the challenge page: POST …/complete?outcome=… */
export async function completeChallenge(actionUrl: string, outcome: 'succeed' | 'fail' = 'succeed'): Promise<{ id: string; status: string }> {
  const res = await fetch(`${actionUrl}/complete?outcome=${outcome}`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`3DS complete: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; status: string };
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  copies: number;
  attempts: number;
  acknowledged: number;
}

export async function deliveries(sandboxUrl: string, objectId: string): Promise<DeliveryRecord[]> {
  const res = await fetch(`${sandboxUrl}/sandbox/events?object=${encodeURIComponent(objectId)}`);
  return ((await res.json()) as { data: DeliveryRecord[] }).data;
}

export const newPlayer = (platform: TestPlatform) => playerToken(platform.http);

export async function deposit(platform: TestPlatform, token: string, body: Record<string, unknown>, key: string = randomUUID()) {
  return platform.http.post('/v1/wallet/deposits', { currency: 'GBP', ...body }, token, { 'idempotency-key': key });
}

export async function depositRow(platform: TestPlatform, depositId: string) {
  return platform.db.one<{ status: string; psp_payment_id: string | null; refund_status: string | null; failure_reason: string | null; funding_type: string | null }>(
    'select status, psp_payment_id, refund_status, failure_reason, funding_type from payments.deposits where deposit_id = $1',
    [depositId],
  );
}

export async function waitForDeposit(platform: TestPlatform, depositId: string, check: (row: Awaited<ReturnType<typeof depositRow>>) => boolean, what: string, timeoutMs = 15_000) {
  return waitFor(async () => {
    const row = await depositRow(platform, depositId);
    return check(row) ? row : undefined;
  }, { timeoutMs, intervalMs: 50, what });
}

export async function wallet(platform: TestPlatform, playerId: string): Promise<bigint> {
  return (await platform.service<PaymentsService>('payments').balance({ playerId, currency: 'GBP' })).postedMinor;
}

/** A webhook as the sandbox would sign it, `ageS` seconds ago. */
export function signedWebhook(body: unknown, options: { ageS?: number; secret?: string } = {}): { rawBody: string; headers: Record<string, string> } {
  const rawBody = typeof body === 'string' ? body : JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000) - (options.ageS ?? 0);
  return { rawBody, headers: { 'verity-sandbox-signature': signPayload(rawBody, options.secret ?? WEBHOOK_SECRET, t), 'content-type': 'application/json' } };
}

export function postWebhook(platform: TestPlatform, hook: { rawBody: string; headers: Record<string, string> }) {
  return platform.http.request('POST', WEBHOOK_PATH, { rawBody: hook.rawBody, headers: hook.headers });
}

/** A sandbox-shaped payment event for one of our deposits. */
export function paymentEvent(type: string, payment: { id: string; reference: string; amountMinor: string; status: string; funding?: string; holderName?: string; methodRef?: string }, options: { eventId?: string; at?: Date } = {}) {
  return {
    id: options.eventId ?? `evt_test_${randomUUID().replace(/-/g, '')}`,
    type,
    created_at: (options.at ?? new Date()).toISOString(),
    data: {
      object: {
        id: payment.id, object: 'payment', status: payment.status, amount_minor: payment.amountMinor, currency: 'GBP', reference: payment.reference,
        customer_ref: '', payment_method: DEBIT_CHALLENGE, funding: payment.funding ?? 'debit', action_url: null, return_url: null, notify_url: null,
        billing_details: { name: payment.holderName ?? null }, method_ref: payment.methodRef ?? 'fp_test_card',
        failure_reason: null, refunded_minor: '0', created_at: new Date().toISOString(), settled_at: null,
      },
    },
  };
}

export async function webhookEventCount(platform: TestPlatform, reference: string, type?: string): Promise<number> {
  const row = await platform.db.one<{ n: bigint }>(
    'select count(*)::bigint as n from payments.psp_webhook_events where reference = $1 and ($2::text is null or event_type = $2)',
    [reference, type ?? null],
  );
  return Number(row.n);
}

/**
 * Moves a player's deposit-limit requests `hours` into the past. "Now" lives in the database
 * (`now()`), so moving the stored times is moving the clock for exactly this player.
 */
export async function ageLimitRequests(platform: TestPlatform, playerId: string, hours: number): Promise<void> {
  await platform.db.query(
    `update payments.deposit_limit_changes set requested_at = requested_at - make_interval(hours => $2), effective_at = effective_at - make_interval(hours => $2)
      where player_id = $1`,
    [playerId, hours],
  );
}

/** Moves a player's deposits `hours` into the past (out of a limit's rolling window). */
export async function ageDeposits(platform: TestPlatform, playerId: string, hours: number): Promise<void> {
  await platform.db.query(`update payments.deposits set created_at = created_at - make_interval(hours => $2) where player_id = $1`, [playerId, hours]);
}

export async function setLimits(platform: TestPlatform, token: string, body: Record<string, unknown>) {
  return platform.http.request('PUT', '/v1/wallet/deposit-limits', { body, token });
}
