/**
 * Manual review with the real compliance module: the kyc-review case appears in the compliance
 * case list, and compliance's read model learns each verification change from kyc's events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import { operatorSession } from '@verity/identity/testing';
import { complianceModule } from '@verity/compliance';
import { application, newPlayer, reviewer, startKyc, startKycPlatform, waitForStatus, type KycPlatform } from './support/kyc.ts';

describe('KYC manual review with the compliance module', () => {
  let k: KycPlatform;
  before(async () => {
    k = await startKycPlatform({ modules: [complianceModule] });
  });
  after(() => k?.platform.stop());

  it('when a verification goes to manual review, then compliance holds a kyc-review case for it, and the operator decision approves the player', async () => {
    const player = await newPlayer(k.platform, 'Review');
    await startKyc(k.platform, player.accessToken);
    const { applicationId } = await waitForStatus(k.platform, player.accessToken, 'manual_review');
    const caseId = await waitFor(async () => (await application(k.platform, player.playerId)).review_case_id, { what: 'the compliance case id', timeoutMs: 15_000 });

    const op = await reviewer(k.platform);
    const cases = await k.platform.http.get(`/v1/cases?type=kyc-review&playerId=${player.playerId}`, op.accessToken);
    assert.equal(cases.status, 200);
    assert.deepEqual(cases.body.items.map((c: { caseId: string }) => c.caseId), [caseId]);
    assert.equal(cases.body.items[0].subject, `player:${player.playerId}`);
    assert.equal(cases.body.items[0].data.applicationId, applicationId);

    const decided = await k.platform.http.post(`/v1/kyc/applications/${applicationId}/decision`, { decision: 'approve', reason: 'Documents verified by hand.' }, op.accessToken);
    assert.equal(decided.status, 200);
    await waitForStatus(k.platform, player.accessToken, 'approved');
  });

  it('when the kyc-review case is decided in the compliance console, then the KYC application is settled by that decision', async () => {
    const player = await newPlayer(k.platform, 'Review');
    await startKyc(k.platform, player.accessToken);
    await waitForStatus(k.platform, player.accessToken, 'manual_review');
    const caseId = await waitFor(async () => (await application(k.platform, player.playerId)).review_case_id, { what: 'the compliance case id', timeoutMs: 15_000 });

    const op = await operatorSession(k.platform, ['compliance-manager']);
    const decided = await k.platform.http.post(`/v1/cases/${caseId}/decisions`, { outcome: 'approved', reason: 'Documents checked on the case.' }, op.accessToken);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    await waitForStatus(k.platform, player.accessToken, 'approved', 15_000);
  });
});
