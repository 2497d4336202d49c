/**
 * Manual review: an application the vendor sends to review opens a kyc-review case through the
 * compliance service (here a stand-in module recording the calls; review-compliance.test.ts runs
 * the real one), waits in the operators' queue, and an operator decides it with a reason (MFA,
 * kyc:review, audited), which publishes the new status.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defineModule } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';
import { operatorSession } from '@verity/identity/testing';
import { application, newPlayer, reviewer, startKyc, startKycPlatform, verificationEvents, waitForStatus, type KycPlatform } from './support/kyc.ts';

interface OpenedCase {
  type: string;
  subject: string;
  summary: string;
  data: Record<string, unknown>;
  dedupeKey?: string;
}

describe('KYC manual review', () => {
  let k: KycPlatform;
  const opened: OpenedCase[] = [];
  before(async () => {
    const stand = defineModule({
      name: 'compliance',
      migrationsDir: await mkdtemp(path.join(os.tmpdir(), 'kyc-compliance-stand-in-')),
      remoteMethods: ['openCase'],
      setup: () => ({
        service: {
          async openCase(input: OpenedCase) {
            const same = opened.findIndex((c) => c.dedupeKey === input.dedupeKey);
            if (same < 0) opened.push(input);
            return { caseId: `case-${same < 0 ? opened.length : same + 1}` };
          },
        },
      }),
    });
    k = await startKycPlatform({ modules: [stand] });
  });
  after(() => k?.platform.stop());

  async function inReview() {
    const player = await newPlayer(k.platform, 'Review');
    await startKyc(k.platform, player.accessToken);
    const status = await waitForStatus(k.platform, player.accessToken, 'manual_review');
    return { player, applicationId: status.applicationId as string };
  }

  const decide = (applicationId: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    k.platform.http.post(`/v1/kyc/applications/${applicationId}/decision`, body, token, headers);

  it('when the vendor asks for a review, then a kyc-review case is opened and the application waits in the queue', async () => {
    const { player, applicationId } = await inReview();
    const kase = await waitFor(() => opened.find((c) => c.subject === `player:${player.playerId}`), { what: 'the kyc-review case' });
    assert.equal(kase.type, 'kyc-review');
    assert.equal(kase.data.applicationId, applicationId);
    assert.equal(kase.dedupeKey, `kyc-review:${applicationId}:1`);
    assert.equal(JSON.stringify(kase).includes('Review'), false, 'no name in the case');
    await waitFor(async () => (await application(k.platform, player.playerId)).review_case_id, { what: 'the case id recorded' });

    const op = await reviewer(k.platform);
    const queue = await k.platform.http.get('/v1/kyc/reviews', op.accessToken);
    assert.equal(queue.status, 200);
    const item = queue.body.items.find((i: { applicationId: string }) => i.applicationId === applicationId);
    assert.ok(item, 'listed in the review queue');
    assert.equal(item.playerId, player.playerId);
    assert.equal(item.reason, 'needs-manual-review');
    assert.match(item.reviewCaseId, /^case-/);
    assert.equal(item.vendor, 'sandbox');
    assert.equal(item.vendorStatus, 'complete/review');
  });

  it('when an operator approves with a reason, then the player is approved, the change is published and the decision audited', async () => {
    const { player, applicationId } = await inReview();
    const op = await reviewer(k.platform);
    const res = await decide(applicationId, op.accessToken, { decision: 'approve', reason: 'Passport and utility bill checked by hand; match registration.' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'approved');
    assert.equal(res.body.reason, 'operator-approved');
    const last = res.body.history.at(-1);
    assert.equal(last.actor, `operator:${op.operatorId}`);
    assert.equal(last.note, 'Passport and utility bill checked by hand; match registration.');
    const status = await waitForStatus(k.platform, player.accessToken, 'approved');
    assert.equal(status.ageVerified, true);
    assert.deepEqual((await verificationEvents(k.platform, player.playerId)).map((e) => `${e.status}:${e.reason}`), ['pending:null', 'manual_review:needs-manual-review', 'approved:operator-approved']);
    const audit = await k.platform.db.one<{ actor: string; reason: string; data: Record<string, unknown> }>(
      "select actor, reason, data from kernel.audit_log where action = 'kyc.application-decided' and subject = $1",
      [`player:${player.playerId}`],
    );
    assert.equal(audit.actor, `operator:${op.operatorId}`);
    assert.match(audit.reason, /checked by hand/);
    assert.equal(audit.data.decision, 'approve');
    assert.equal((await k.platform.http.get('/v1/kyc/reviews?limit=200', op.accessToken)).body.items.some((i: { applicationId: string }) => i.applicationId === applicationId), false, 'left the queue');
  });

  it('when an operator asks for documents or rejects, then the status is resubmit or rejected_final', async () => {
    const op = await reviewer(k.platform);
    const a = await inReview();
    assert.equal((await decide(a.applicationId, op.accessToken, { decision: 'request_resubmit', reason: 'Photo too blurred to read.' })).body.status, 'resubmit');
    assert.equal((await waitForStatus(k.platform, a.player.accessToken, 'resubmit')).canStart, true);
    const b = await inReview();
    assert.equal((await decide(b.applicationId, op.accessToken, { decision: 'reject', reason: 'Document reported stolen.' })).body.status, 'rejected_final');
  });

  it('when the application is not in review, or the body is incomplete, then the decision is refused with a problem', async () => {
    const op = await reviewer(k.platform);
    const { applicationId } = await inReview();
    assert.equal((await decide(applicationId, op.accessToken, { decision: 'approve' })).status, 400);
    assert.equal((await decide(applicationId, op.accessToken, { decision: 'maybe', reason: 'unsure' })).status, 400);
    assert.equal((await decide(applicationId, op.accessToken, { decision: 'approve', reason: 'ok, verified', extra: 1 })).status, 400);
    assert.equal((await decide(applicationId, op.accessToken, { decision: 'approve', reason: 'Verified by hand.' })).status, 200);
    const twice = await decide(applicationId, op.accessToken, { decision: 'reject', reason: 'Changed my mind.' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'kyc-not-in-review');
    assert.equal((await decide(randomUUID(), op.accessToken, { decision: 'approve', reason: 'Verified by hand.' })).status, 404);
  });

  it('when a retry repeats a decision with the same Idempotency-Key, then the first answer is replayed', async () => {
    const op = await reviewer(k.platform);
    const { applicationId } = await inReview();
    const key = randomUUID();
    const body = { decision: 'approve', reason: 'Verified by hand.' };
    const first = await decide(applicationId, op.accessToken, body, { 'idempotency-key': key });
    const again = await decide(applicationId, op.accessToken, body, { 'idempotency-key': key });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });

  it('when someone without kyc:review decides, then it is forbidden; support may read the queue but not decide', async () => {
    const { player, applicationId } = await inReview();
    assert.equal((await decide(applicationId, player.accessToken, { decision: 'approve', reason: 'I am me.' })).status, 403);
    const support = await operatorSession(k.platform, ['support']);
    assert.equal((await k.platform.http.get('/v1/kyc/reviews', support.accessToken)).status, 200);
    assert.equal((await decide(applicationId, support.accessToken, { decision: 'approve', reason: 'Looks fine.' })).status, 403);
    assert.equal((await k.platform.http.get(`/v1/kyc/applications/${applicationId}`, support.accessToken)).status, 200);
  });

  it('when the queue is read page by page, then every waiting application appears once, oldest first', async () => {
    await inReview();
    await inReview();
    const op = await reviewer(k.platform);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { applicationId: string; queuedAt: string }[]; nextCursor: string | null } } = await k.platform.http.get(`/v1/kyc/reviews?limit=1${cursor ? `&cursor=${cursor}` : ''}`, op.accessToken);
      assert.equal(page.status, 200);
      seen.push(...page.body.items.map((i) => i.applicationId));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = (await k.platform.http.get('/v1/kyc/reviews?limit=200', op.accessToken)).body.items.map((i: { applicationId: string }) => i.applicationId);
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.length >= 2);
    assert.equal((await k.platform.http.get('/v1/kyc/reviews?cursor=bm9wZQ', op.accessToken)).status, 400);
  });
});
