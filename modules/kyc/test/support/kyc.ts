/**
 * Test support for the kyc module: the platform with the sandbox KYC vendor on a known port and a
 * known webhook secret, players whose last name picks the sandbox scenario, the KYC API, sandbox
 * controls, signed webhooks, and small real files (PNG, PDF, JPEG, and an .exe posing as a PNG).
 */
import { createHmac } from 'node:crypto';
import type { ModuleDefinition } from '@verity/kernel';
import { startTestPlatform, waitFor, type HttpResult, type TestPlatform, freePort } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { operatorSession, playerToken, type TestOperator } from '@verity/identity/testing';
import { kycModule } from '@verity/kyc';

export const WEBHOOK_SECRET = 'kyc_sandbox_test_secret_0123456789';
export const WEBHOOK_PATH = '/v1/kyc/webhooks/sandbox';

export { freePort };

export interface KycPlatform {
  platform: TestPlatform;
  sandboxUrl: string;
}

/** Identity + kyc (+ extra modules), the sandbox vendor on a free port, fast checks and polls. */
export async function startKycPlatform(options: { env?: Record<string, string>; modules?: ModuleDefinition<any>[] } = {}): Promise<KycPlatform> {
  const port = await freePort();
  const platform = await startTestPlatform({
    modules: [identityModule, kycModule, ...(options.modules ?? [])],
    env: {
      KYC_PROVIDER: 'sandbox',
      KYC_SANDBOX_PORT: String(port),
      KYC_SANDBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
      KYC_SANDBOX_CHECK_DELAY_MS: '50',
      KYC_VENDOR_TIMEOUT_MS: '2000',
      KYC_CHECK_POLL_S: '1',
      ...options.env,
    },
  });
  return { platform, sandboxUrl: `http://127.0.0.1:${port}` };
}

export interface KycPlayer {
  playerId: string;
  accessToken: string;
}

/** A player whose last name picks the sandbox scenario (Approve, Reject, Resubmit, Review, Timeout, Expire). */
export async function newPlayer(platform: TestPlatform, lastName = 'Lovelace', dateOfBirth = '1990-04-12'): Promise<KycPlayer> {
  const p = await playerToken(platform.http, { legalName: `Ada ${lastName}`, dateOfBirth });
  return { playerId: p.playerId, accessToken: p.accessToken };
}

export const startKyc = (platform: TestPlatform, token: string) => platform.http.post('/v1/kyc', undefined, token);
export const kycStatus = (platform: TestPlatform, token: string) => platform.http.get('/v1/kyc', token);

/** Polls GET /v1/kyc until the status is `status`. */
export async function waitForStatus(platform: TestPlatform, token: string, status: string, timeoutMs = 10_000): Promise<any> {
  return waitFor(async () => {
    const res = await kycStatus(platform, token);
    return res.body.status === status ? res.body : undefined;
  }, { timeoutMs, what: `KYC status ${status}` });
}

export async function sandboxControl(sandboxUrl: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${sandboxUrl}/sandbox/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  if (res.status !== 200) throw new Error(`sandbox control: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

export async function deliveries(sandboxUrl: string, checkId: string): Promise<{ eventId: string; type: string; copies: number; acknowledged: number; lastStatus?: number }[]> {
  return ((await (await fetch(`${sandboxUrl}/sandbox/events?check=${checkId}`)).json()) as { data: never[] }).data;
}

export const sign = (body: string, secret = WEBHOOK_SECRET) => createHmac('sha256', secret).update(body).digest('hex');

/** Posts a webhook body exactly as given (raw), signed unless a signature is given. */
export async function postWebhook(platform: TestPlatform, body: string, signature: string | null = sign(body)): Promise<HttpResult> {
  return platform.http.request('POST', WEBHOOK_PATH, { rawBody: body, headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-sha2-signature': signature }) } });
}

export function checkEvent(checkId: string, type = 'check.completed', id = `evt_test_${Math.random().toString(16).slice(2)}`): string {
  return JSON.stringify({ id, type, created_at: new Date().toISOString(), object: { id: checkId, applicant_id: 'sbx_app_x', status: 'complete', href: '' } });
}

export async function application(platform: TestPlatform, playerId: string): Promise<{ id: string; status: string; current_check_id: string | null; review_case_id: string | null }> {
  return platform.db.one('select id, status, current_check_id, review_case_id from kyc.applications where player_id = $1', [playerId]);
}

export async function currentVendorCheckId(platform: TestPlatform, playerId: string): Promise<string> {
  return waitFor(async () => {
    const r = await platform.db.maybeOne<{ vendor_check_id: string | null }>(
      'select c.vendor_check_id from kyc.applications a join kyc.checks c on c.id = a.current_check_id where a.player_id = $1',
      [playerId],
    );
    return r?.vendor_check_id ?? undefined;
  }, { what: 'the vendor check id' });
}

/** Every kyc.verification-changed.v1 of a player, oldest first. */
export async function verificationEvents(platform: TestPlatform, playerId: string): Promise<{ status: string; previousStatus: string; reason: string | null; ageVerified: boolean }[]> {
  const rows = await platform.db.query<{ data: any }>("select data from kyc.outbox where type = 'kyc.verification-changed.v1' and data->>'playerId' = $1 order by position", [playerId]);
  return rows.map((r) => r.data);
}

export async function uploadDocument(platform: TestPlatform, token: string, type: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<HttpResult> {
  const res = await fetch(`${platform.url}/v1/kyc/documents?type=${type}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: bytes });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}

export const reviewer = (platform: TestPlatform): Promise<TestOperator> => operatorSession(platform, ['compliance-analyst']);

// ---- files ------------------------------------------------------------------------------------------
/** Text that must never appear in stored objects. */
export const DOCUMENT_SECRET = 'PASSPORT-NO-925665416-LOVELACE';
export const PNG = Buffer.concat([
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
  Buffer.from(DOCUMENT_SECRET),
]);
export const PDF = Buffer.from(`%PDF-1.7\n% ${DOCUMENT_SECRET}\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n`);
export const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), Buffer.alloc(64), Buffer.from([0xff, 0xd9])]);
/** A Windows executable's header (MZ…), sent as a ".png". */
export const EXE = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000b800000000000000400000000000000000000000000000000000000000000000000000000000000000000000800000000e1fba0e00b409cd21b8014ccd21', 'hex'), Buffer.from('This program cannot be run in DOS mode.\r\r\n$'), Buffer.alloc(128)]);
