/**
 * KYC verification through the HTTP API on real PostgreSQL with the sandbox vendor running: the
 * application opened at registration, each sandbox scenario's outcome, the age rule, resuming,
 * a vendor outage, and what a player is told up front.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import {
  application, kycStatus, newPlayer, PNG, reviewer, sandboxControl, startKyc, startKycPlatform, uploadDocument, verificationEvents, waitForStatus, type KycPlatform,
} from './support/kyc.ts';

describe('KYC verification', () => {
  let k: KycPlatform;
  before(async () => {
    k = await startKycPlatform();
  });
  after(() => k?.platform.stop());

  it('when a player registers, then an application is opened and their status shows up front what may be asked of them', async () => {
    const player = await newPlayer(k.platform);
    await waitFor(async () => (await k.platform.db.maybeOne('select 1 from kyc.applications where player_id = $1', [player.playerId])) ?? undefined, { what: 'the application' });
    const res = await kycStatus(k.platform, player.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'not_started');
    assert.equal(res.body.canStart, true);
    assert.equal(res.body.ageVerified, false);
    const { requirements } = res.body;
    assert.match(requirements.version, /^\d{4}-\d{2}$/);
    assert.match(requirements.basis, /licence condition 17/);
    assert.deepEqual(requirements.documents.map((d: { type: string }) => d.type), ['passport', 'driving_licence', 'national_id', 'proof_of_address']);
    assert.ok(requirements.checks.some((c: { id: string }) => c.id === 'age'));
    assert.deepEqual(requirements.accepted.contentTypes, ['image/jpeg', 'image/png', 'application/pdf']);
    assert.match(requirements.howWeAsk, /never ask you to send documents by email/);
  });

  it('when anyone asks before signing up, then the requirements are public', async () => {
    const res = await k.platform.http.get('/v1/kyc/requirements');
    assert.equal(res.status, 200);
    assert.equal(res.body.documents.length, 4);
  });

  it('when a player whose details check out starts KYC, then it is approved, age verified, and each change is published', async () => {
    const player = await newPlayer(k.platform, 'Approve');
    const started = await startKyc(k.platform, player.accessToken);
    assert.equal(started.status, 200);
    assert.ok(['pending', 'approved'].includes(started.body.status));
    const done = await waitForStatus(k.platform, player.accessToken, 'approved');
    assert.equal(done.ageVerified, true);
    assert.equal(done.reason, 'identity-confirmed');
    assert.equal(done.canStart, false);
    assert.ok(done.decidedAt);
    const events = await verificationEvents(k.platform, player.playerId);
    assert.deepEqual(events.map((e) => `${e.previousStatus}->${e.status}`), ['not_started->pending', 'pending->approved']);
    assert.equal(events[1]!.ageVerified, true);
    for (const e of events) assert.deepEqual(Object.keys(e).sort(), ['ageVerified', 'applicationId', 'decidedAt', 'playerId', 'previousStatus', 'reason', 'status'], 'ids and status only: no personal data');
  });

  it('when the vendor rejects the identity, then the status is rejected_final and starting again changes nothing', async () => {
    const player = await newPlayer(k.platform, 'Reject');
    await startKyc(k.platform, player.accessToken);
    const done = await waitForStatus(k.platform, player.accessToken, 'rejected_final');
    assert.equal(done.reason, 'identity-not-confirmed');
    assert.equal(done.ageVerified, false);
    const again = await startKyc(k.platform, player.accessToken);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'rejected_final');
    assert.equal(again.body.attempt, 1, 'no second check');
  });

  it('when the vendor asks for documents, then the player uploads a photo ID, starts again, and is approved on the second attempt', async () => {
    const player = await newPlayer(k.platform, 'Resubmit');
    await startKyc(k.platform, player.accessToken);
    const asked = await waitForStatus(k.platform, player.accessToken, 'resubmit');
    assert.equal(asked.reason, 'documents-needed');
    assert.equal(asked.canStart, true);
    assert.match(asked.nextStep, /Upload a photo ID/);
    assert.equal((await uploadDocument(k.platform, player.accessToken, 'passport', PNG)).status, 201);
    await startKyc(k.platform, player.accessToken);
    const done = await waitForStatus(k.platform, player.accessToken, 'approved');
    assert.equal(done.attempt, 2);
    const events = await verificationEvents(k.platform, player.playerId);
    assert.deepEqual(events.map((e) => e.status), ['pending', 'resubmit', 'pending', 'approved']);
  });

  it('when the applicant abandons the vendor flow, then the status is expired and the player may start again', async () => {
    const player = await newPlayer(k.platform, 'Expire');
    await startKyc(k.platform, player.accessToken);
    const expired = await waitForStatus(k.platform, player.accessToken, 'expired');
    assert.equal(expired.reason, 'check-expired');
    assert.equal(expired.canStart, true);
    await startKyc(k.platform, player.accessToken);
    assert.equal((await kycStatus(k.platform, player.accessToken)).body.attempt, 2);
  });

  it('when the vendor never finishes a check, then it stays pending until its deadline and then expires', async () => {
    const player = await newPlayer(k.platform, 'Timeout');
    await startKyc(k.platform, player.accessToken);
    const app = await application(k.platform, player.playerId);
    assert.equal(app.status, 'pending');
    // The deadline (KYC_CHECK_EXPIRY_S, a week by default) is moved into the past instead of waiting for it.
    await k.platform.db.query("update kyc.checks set deadline_at = now() - interval '1 second' where id = $1", [app.current_check_id]);
    const expired = await waitForStatus(k.platform, player.accessToken, 'expired');
    assert.equal(expired.reason, 'check-timed-out');
    const check = await k.platform.db.one<{ status: string; reasons: string[] }>('select status, reasons from kyc.checks where id = $1', [app.current_check_id]);
    assert.deepEqual(check, { status: 'expired', reasons: ['check-timed-out'] });
  });

  it('when a player under 18 registers, then the application is refused outright and starting KYC is a clear problem', async () => {
    const today = new Date();
    const seventeen = `${today.getUTCFullYear() - 17}-01-01`;
    const player = await newPlayer(k.platform, 'Young', seventeen);
    await waitFor(async () => (await application(k.platform, player.playerId).catch(() => undefined))?.status === 'rejected_final', { what: 'the under-age refusal' });
    const res = await startKyc(k.platform, player.accessToken);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.body.code, 'under-age');
    assert.equal(res.body.status, 403);
    assert.match(res.body.detail, /18 or over/);
    const status = (await kycStatus(k.platform, player.accessToken)).body;
    assert.equal(status.status, 'rejected_final');
    assert.equal(status.reason, 'under-age');
    assert.equal(status.canStart, false);
    assert.equal(await k.platform.db.one<{ n: bigint }>('select count(*) as n from kyc.checks c join kyc.applications a on a.id = c.application_id where a.player_id = $1', [player.playerId]).then((r) => r.n), 0n, 'no vendor check for a minor');
  });

  it('when someone turns 18 today, then they may verify', async () => {
    const today = new Date();
    const eighteenToday = `${today.getUTCFullYear() - 18}-${String(today.getUTCMonth() + 1).padStart(2, '0')}-${String(today.getUTCDate()).padStart(2, '0')}`;
    // 29 February has no anniversary in most years: then the birthday is 1 March, which is today only on 1 March.
    if (eighteenToday.endsWith('-02-29')) return;
    const player = await newPlayer(k.platform, 'Approve', eighteenToday);
    assert.equal((await startKyc(k.platform, player.accessToken)).status, 200);
    await waitForStatus(k.platform, player.accessToken, 'approved');
  });

  it('when a player starts KYC five times at once, then one vendor check runs', async () => {
    const player = await newPlayer(k.platform, 'Timeout');
    const answers = await Promise.all(Array.from({ length: 5 }, () => startKyc(k.platform, player.accessToken)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    const checks = await k.platform.db.query('select c.id from kyc.checks c join kyc.applications a on a.id = c.application_id where a.player_id = $1', [player.playerId]);
    assert.equal(checks.length, 1);
  });

  it('when the vendor is down, then starting is a 503 problem, nothing is left pending, and a later start works', async () => {
    const player = await newPlayer(k.platform);
    await sandboxControl(k.sandboxUrl, { failurePercent: 100 });
    try {
      const res = await startKyc(k.platform, player.accessToken);
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'kyc-vendor-unavailable');
      const status = (await kycStatus(k.platform, player.accessToken)).body;
      assert.equal(status.status, 'not_started');
      assert.equal(status.canStart, true);
    } finally {
      await sandboxControl(k.sandboxUrl, { failurePercent: 0 });
    }
    await startKyc(k.platform, player.accessToken);
    await waitForStatus(k.platform, player.accessToken, 'approved');
  });

  it('when the API is described, then the KYC operations are in the OpenAPI document', async () => {
    const doc = (await k.platform.http.get('/openapi.json')).body;
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((p) => Object.values(p).map((o) => o.operationId));
    for (const id of ['startKyc', 'getKycStatus', 'uploadKycDocument', 'handleKycWebhook', 'getKycRequirements', 'listKycReviews', 'decideKycApplication', 'getKycDocumentContent']) {
      assert.ok(ids.includes(id), `${id} documented`);
    }
  });

  it('when no token or an operator calls the player routes, then they are refused', async () => {
    assert.equal((await k.platform.http.get('/v1/kyc')).status, 401);
    assert.equal((await k.platform.http.post('/v1/kyc')).status, 401);
    const op = await reviewer(k.platform);
    assert.equal((await k.platform.http.get('/v1/kyc', op.accessToken)).status, 403);
    assert.equal((await k.platform.http.post('/v1/kyc', undefined, op.accessToken)).status, 403);
  });

  it('when another module asks, then the kyc service gives the status and whether the age is verified', async () => {
    const player = await newPlayer(k.platform, 'Approve');
    await startKyc(k.platform, player.accessToken);
    await waitForStatus(k.platform, player.accessToken, 'approved');
    const s = await k.platform.service<{ getStatus(i: { playerId: string }): Promise<{ status: string; ageVerified: boolean; updatedAt: Date | null }> }>('kyc').getStatus({ playerId: player.playerId });
    assert.equal(s.status, 'approved');
    assert.equal(s.ageVerified, true);
    assert.ok(s.updatedAt instanceof Date);
  });
});
