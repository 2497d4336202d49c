/**
 * The Onfido adapter (API v3.6 on fetch) against a local fake speaking Onfido's shapes: the requests
 * we send (token auth, applicant with an alpha-3 address, workflow run or check), the normalised
 * outcomes, and signed webhooks through the platform's webhook route.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { kycModule } from '@verity/kyc';
import { createOnfidoVendor } from '../src/vendors/onfido.ts';
import { newPlayer, startKyc, waitForStatus } from './support/kyc.ts';

const API_TOKEN = 'api_sandbox.test-token-0123456789';
const WEBHOOK_TOKEN = 'onfido-webhook-token-abcdef';
const WORKFLOW_ID = randomUUID();

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: any;
}

/** Enough of Onfido v3.6 for the adapter: applicants, workflow runs, checks, reports. */
async function fakeOnfido() {
  const requests: Recorded[] = [];
  const runs = new Map<string, { id: string; status: string; applicant_id: string; workflow_id: string; link: { url: string } }>();
  const checks = new Map<string, { id: string; status: string; result: string | null; applicant_id: string }>();
  const reports = new Map<string, { name: string; status: string; result: string; sub_result: string | null }[]>();
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const url = new URL(req.url ?? '/', 'http://onfido');
    const body = raw ? JSON.parse(raw) : undefined;
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization, body });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.headers.authorization !== `Token token=${API_TOKEN}`) return reply(401, { error: { type: 'authorization_error', message: 'Authorization error: please re-check your credentials' } });
    const p = url.pathname.replace(/^\/v3\.6/, '');
    if (req.method === 'POST' && p === '/applicants') return reply(201, { id: randomUUID(), created_at: new Date().toISOString(), first_name: body.first_name, last_name: body.last_name });
    if (req.method === 'POST' && p === '/workflow_runs') {
      const run = { id: randomUUID(), status: 'awaiting_input', applicant_id: body.applicant_id, workflow_id: body.workflow_id, link: { url: `https://eu.onfido.app/l/${randomUUID()}` } };
      runs.set(run.id, run);
      return reply(201, run);
    }
    if (req.method === 'POST' && p === '/checks') {
      const check = { id: randomUUID(), status: 'in_progress', result: null, applicant_id: body.applicant_id };
      checks.set(check.id, check);
      return reply(201, check);
    }
    let m = /^\/workflow_runs\/([0-9a-f-]{36})$/.exec(p);
    if (req.method === 'GET' && m) return runs.has(m[1]!) ? reply(200, runs.get(m[1]!)) : reply(404, { error: { type: 'resource_not_found', message: 'not found' } });
    m = /^\/checks\/([0-9a-f-]{36})$/.exec(p);
    if (req.method === 'GET' && m) return checks.has(m[1]!) ? reply(200, checks.get(m[1]!)) : reply(404, { error: { type: 'resource_not_found', message: 'not found' } });
    if (req.method === 'GET' && p === '/reports') return reply(200, { reports: reports.get(url.searchParams.get('check_id') ?? '') ?? [] });
    reply(404, { error: { type: 'resource_not_found', message: 'unknown path' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3.6`,
    requests,
    runs,
    checks,
    reports,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const signed = (body: string, token = WEBHOOK_TOKEN) => ({ 'content-type': 'application/json', 'x-sha2-signature': createHmac('sha256', token).update(body).digest('hex') });
const workflowRunCompleted = (id: string, status: string) =>
  JSON.stringify({ payload: { resource_type: 'workflow_run', action: 'workflow_run.completed', object: { id, status, completed_at_iso8601: new Date().toISOString(), href: `https://api.eu.onfido.com/v3.6/workflow_runs/${id}` } } });

describe('Onfido adapter', () => {
  let fake: Awaited<ReturnType<typeof fakeOnfido>>;
  let platform: TestPlatform;
  before(async () => {
    fake = await fakeOnfido();
    platform = await startTestPlatform({
      modules: [identityModule, kycModule],
      env: { KYC_PROVIDER: 'onfido', KYC_ONFIDO_API_TOKEN: API_TOKEN, KYC_ONFIDO_WEBHOOK_TOKEN: WEBHOOK_TOKEN, KYC_ONFIDO_API_BASE: fake.base, KYC_ONFIDO_WORKFLOW_ID: WORKFLOW_ID, KYC_CHECK_POLL_S: '3600' },
    });
  });
  after(async () => {
    await platform?.stop();
    await fake?.close();
  });

  it('when a player starts KYC, then an applicant and a workflow run are created in Onfido\'s shapes and the player gets the run\'s link', async () => {
    const player = await newPlayer(platform);
    const res = await startKyc(platform, player.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'pending');
    const applicant = fake.requests.find((r) => r.method === 'POST' && r.path === '/v3.6/applicants')!;
    assert.equal(applicant.authorization, `Token token=${API_TOKEN}`);
    assert.deepEqual(applicant.body, {
      first_name: 'Ada',
      last_name: 'Lovelace',
      dob: '1990-04-12',
      address: { line1: '12 St James Square', street: '12 St James Square', town: 'London', postcode: 'SW1Y 4JH', country: 'GBR' },
      location: { country_of_residence: 'GBR' },
    });
    const run = fake.requests.find((r) => r.method === 'POST' && r.path === '/v3.6/workflow_runs')!;
    assert.equal(run.body.workflow_id, WORKFLOW_ID);
    const stored = [...fake.runs.values()].find((r) => r.id && run.body.applicant_id === r.applicant_id)!;
    assert.equal(res.body.verificationUrl, stored.link.url);
  });

  it('when Onfido signs a workflow_run.completed webhook, then the run is fetched and its outcome applied once', async () => {
    const player = await newPlayer(platform);
    await startKyc(platform, player.accessToken);
    const run = [...fake.runs.values()].at(-1)!;
    run.status = 'approved';
    const body = workflowRunCompleted(run.id, 'approved');
    const first = await platform.http.request('POST', '/v1/kyc/webhooks/onfido', { rawBody: body, headers: signed(body) });
    assert.equal(first.status, 200);
    assert.equal(first.body.outcome, 'applied');
    assert.ok(fake.requests.some((r) => r.method === 'GET' && r.path === `/v3.6/workflow_runs/${run.id}`), 'the result was fetched, not taken from the webhook');
    const again = await platform.http.request('POST', '/v1/kyc/webhooks/onfido', { rawBody: body, headers: signed(body) });
    assert.equal(again.body.outcome, 'duplicate', 'a redelivery is byte-identical: the body hash dedupes it');
    const status = await waitForStatus(platform, player.accessToken, 'approved');
    assert.equal(status.ageVerified, true);
  });

  it('when the webhook signature is not Onfido\'s, then it is refused', async () => {
    const body = workflowRunCompleted(randomUUID(), 'approved');
    const res = await platform.http.request('POST', '/v1/kyc/webhooks/onfido', { rawBody: body, headers: signed(body, 'wrong-token') });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'webhook-signature-invalid');
  });

  it('when a run ends in review, declined or abandoned, then the status is manual_review, rejected_final or expired', async () => {
    for (const [onfido, ours] of [['review', 'manual_review'], ['declined', 'rejected_final'], ['abandoned', 'expired']] as const) {
      const player = await newPlayer(platform);
      await startKyc(platform, player.accessToken);
      const run = [...fake.runs.values()].at(-1)!;
      run.status = onfido;
      const body = workflowRunCompleted(run.id, onfido);
      assert.equal((await platform.http.request('POST', '/v1/kyc/webhooks/onfido', { rawBody: body, headers: signed(body) })).body.outcome, 'applied');
      await waitForStatus(platform, player.accessToken, ours);
    }
  });

  it('when no workflow is configured, then a check with the configured reports runs, and a consider result is normalised from its reports', async () => {
    const vendor = createOnfidoVendor({ apiToken: API_TOKEN, webhookToken: WEBHOOK_TOKEN, apiBase: fake.base, reportNames: ['document', 'facial_similarity_photo'], timeoutMs: 2000 });
    const person = { firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1990-04-12', country: 'GB', address: { line1: '1 High St', city: 'Bath', postcode: 'BA1 1AA', country: 'GB' } };
    const { applicantId } = await vendor.createApplicant({ reference: randomUUID(), person });
    const started = await vendor.startCheck({ applicantId, reference: 'our-check-id', documentTypes: [] });
    assert.equal(started.outcome, 'pending');
    const sent = fake.requests.find((r) => r.method === 'POST' && r.path === '/v3.6/checks')!;
    assert.deepEqual(sent.body, { applicant_id: applicantId, report_names: ['document', 'facial_similarity_photo'], tags: ['our-check-id'] });
    const id = started.vendorCheckId.replace('check:', '');
    const check = fake.checks.get(id)!;
    const outcome = async (result: string, subResults: (string | null)[]) => {
      Object.assign(check, { status: 'complete', result });
      fake.reports.set(id, subResults.map((s, i) => ({ name: i ? 'facial_similarity_photo' : 'document', status: 'complete', result, sub_result: s })));
      return (await vendor.getCheck(started.vendorCheckId)).outcome;
    };
    assert.equal(await outcome('clear', ['clear', null]), 'approved');
    assert.equal(await outcome('consider', ['rejected', null]), 'resubmit');
    assert.equal(await outcome('consider', ['suspected', null]), 'manual_review');
    assert.equal(await outcome('consider', ['caution', null]), 'manual_review');
    Object.assign(check, { status: 'withdrawn', result: null });
    assert.equal((await vendor.getCheck(started.vendorCheckId)).outcome, 'expired');
  });

  it('when Onfido refuses our token, then the call is a vendor-rejected problem, not a crash', async () => {
    const vendor = createOnfidoVendor({ apiToken: 'wrong', webhookToken: WEBHOOK_TOKEN, apiBase: fake.base, reportNames: ['identity_enhanced'], timeoutMs: 2000 });
    await assert.rejects(vendor.getCheck(`check:${randomUUID()}`), { code: 'kyc-vendor-rejected', status: 502 });
  });
});
