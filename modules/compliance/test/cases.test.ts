/**
 * Compliance cases over HTTP on real PostgreSQL: opening (deduplicated), assignment, notes,
 * evidence, decisions with reasons, four eyes for decisions that release money or override a
 * control, reopening, holds, the one-query history with its audit records, and lists.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verifyAuditRecords } from '@verity/kernel';
import type { TestOperator } from '@verity/identity/testing';
import { eligibility, expectProblem, fakeIssuer, operator, outboxEvents, startCorePlatform, verifiedPlayer, type CorePlatform } from './support/core.ts';

describe('compliance cases', () => {
  let cp: CorePlatform;
  let alice: TestOperator;
  let bob: TestOperator;
  let analyst: TestOperator;
  let issuer: Awaited<ReturnType<typeof fakeIssuer>>;
  before(async () => {
    issuer = await fakeIssuer();
    cp = await startCorePlatform({ env: { COMPLIANCE_EVIDENCE_MAX_BYTES: '2048', OIDC_ISSUERS: JSON.stringify([{ issuer: issuer.issuer, jwksUri: issuer.jwksUri }]) } });
    [alice, bob, analyst] = [await operator(cp.platform), await operator(cp.platform), await operator(cp.platform, ['compliance-analyst'])];
  });
  after(async () => {
    await cp?.platform.stop();
    await issuer?.close();
  });

  const http = () => cp.platform.http;
  const getCase = (id: string, token = alice.accessToken) => http().get(`/v1/cases/${id}`, token);
  const decide = (id: string, body: Record<string, unknown>, op: TestOperator) => http().post(`/v1/cases/${id}/decisions`, body, op.accessToken);

  it('when the same alert opens a case twice, then there is one case; once it is closed, the next alert opens a new one', async () => {
    const player = await verifiedPlayer(cp);
    const input = { type: 'aml-alert' as const, subject: `player:${player.playerId}`, summary: 'Deposits just under threshold', data: { rule: 'structuring', version: 3 }, dedupeKey: `structuring:${player.playerId}` };
    const first = await cp.compliance.openCase(input);
    const second = await cp.compliance.openCase(input);
    assert.equal(second.caseId, first.caseId);
    assert.equal((await outboxEvents(cp.platform, 'compliance.case-opened.v1', first.caseId)).length, 1);
    await decide(first.caseId, { outcome: 'no-further-action', reason: 'Salary pattern explained' }, alice);
    const third = await cp.compliance.openCase(input);
    assert.notEqual(third.caseId, first.caseId);
  });

  it('when a complaint is assigned, noted, given evidence and decided, then its whole history comes back in one read, each step with its audit record', async () => {
    const player = await verifiedPlayer(cp);
    const opened = await http().post('/v1/cases', { type: 'complaint', subject: `player:${player.playerId}`, summary: 'Prize delivery late', data: { channel: 'email' } }, alice.accessToken);
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const caseId = opened.body.case.caseId;
    assert.equal(opened.body.case.state, 'open');
    assert.equal(opened.body.case.playerId, player.playerId);
    assert.ok(opened.body.case.allowedOutcomes.some((o: any) => o.outcome === 'upheld'));

    const assigned = await http().post(`/v1/cases/${caseId}/assignment`, { assignee: 'me' }, alice.accessToken);
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    assert.equal(assigned.body.case.state, 'in_progress');
    assert.equal(assigned.body.case.assignee, alice.operatorId);
    assert.equal((await http().post(`/v1/cases/${caseId}/notes`, { text: 'Called Ms Lovelace; courier confirmed delay.' }, alice.accessToken)).status, 201);
    const bytes = Buffer.from('courier email: parcel held at depot 3 days');
    const withEvidence = await http().post(`/v1/cases/${caseId}/evidence`, { filename: 'courier-email.txt', contentType: 'text/plain', contentBase64: bytes.toString('base64') }, alice.accessToken);
    assert.equal(withEvidence.status, 201, JSON.stringify(withEvidence.body));
    const evidence = withEvidence.body.evidence[0];
    assert.equal(evidence.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(evidence.sizeBytes, String(bytes.length));
    const download = await fetch(`${cp.platform.url}/v1/cases/${caseId}/evidence/${evidence.evidenceId}`, { headers: { authorization: `Bearer ${bob.accessToken}` } });
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);

    const decided = await decide(caseId, { outcome: 'upheld', reason: 'Delivery SLA missed; goodwill offered' }, alice);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    assert.equal(decided.body.case.state, 'closed');
    assert.equal(decided.body.case.outcome, 'upheld');
    assert.equal(decided.body.case.decidedBy, alice.operatorId);

    const { body } = await getCase(caseId, bob.accessToken);
    assert.deepEqual(body.history.map((h: any) => h.action), ['opened', 'assigned', 'note-added', 'evidence-added', 'decided']);
    assert.deepEqual(body.history.map((h: any) => h.toState ?? null), ['open', 'in_progress', null, null, 'closed']);
    assert.equal(body.history[2].text, 'Called Ms Lovelace; courier confirmed delay.');
    assert.equal(body.history[4].text, 'Delivery SLA missed; goodwill offered');
    for (const h of body.history) assert.match(h.auditHash, /^[0-9a-f]{64}$/);
    const audit = await cp.platform.db.query<{ id: string; leaf_hash: string; action: string; data: Record<string, unknown> }>(
      "select id, leaf_hash, action, data from kernel.audit_log where subject = $1 and action like 'compliance.case-%' order by sequence", [`case:${caseId}`],
    );
    // Every history row is one audit record; reading evidence is audited too (not a case change).
    assert.deepEqual(audit.filter((a) => a.action !== 'compliance.case-evidence-downloaded').map((a) => a.leaf_hash), body.history.map((h: any) => h.auditHash));
    assert.equal(audit.filter((a) => a.action === 'compliance.case-evidence-downloaded').length, 1);
    // Free text stays out of the append-only audit log: only its hash is there.
    assert.equal(JSON.stringify(audit).includes('Lovelace'), false);
    assert.equal(audit.find((a) => a.action === 'compliance.case-note-added')!.data.textSha256, createHash('sha256').update('Called Ms Lovelace; courier confirmed delay.').digest('hex'));
    assert.equal((await verifyAuditRecords(cp.platform.db)).ok, true);
  });

  it('when a sanctions hit is cleared as a false positive, then a second operator must approve it with MFA before the hold is lifted', async () => {
    const player = await verifiedPlayer(cp);
    const { caseId } = await cp.compliance.openCase({ type: 'sanctions-hit', subject: `player:${player.playerId}`, summary: 'OFSI candidate 0.82', data: { score: 0.82 } });
    // The screening part holds the player as it opens the case; here a first decision places the hold.
    await decide(caseId, { outcome: 'confirmed-match', reason: 'Looks like the listed person' }, alice);
    await http().post(`/v1/cases/${caseId}/reopen`, { reason: 'Passport shows different DOB' }, alice.accessToken);
    assert.deepEqual((await eligibility(cp.platform, player.accessToken)).body.deposit.reasons, ['sanctions-hold']);

    const proposed = await decide(caseId, { outcome: 'false-positive', reason: 'DOB differs by 20 years' }, alice);
    assert.equal(proposed.status, 200, JSON.stringify(proposed.body));
    assert.equal(proposed.body.case.state, 'pending_second_approval');
    assert.equal(proposed.body.case.proposedOutcome, 'false-positive');
    assert.deepEqual((await eligibility(cp.platform, player.accessToken)).body.deposit.reasons, ['sanctions-hold'], 'nothing released yet');

    expectProblem(await decide(caseId, { approval: 'approve', reason: 'self-approval' }, alice), 403, 'four-eyes-required');
    expectProblem(await decide(caseId, { approval: 'approve', reason: 'analyst' }, analyst), 403, 'forbidden');
    expectProblem(await decide(caseId, { outcome: 'confirmed-match', reason: 'another decision' }, bob), 409, 'approval-required');
    const approved = await decide(caseId, { approval: 'approve', reason: 'Checked the passport copy' }, bob);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.case.state, 'closed');
    assert.equal(approved.body.case.decidedBy, alice.operatorId);
    assert.equal(approved.body.case.secondApprover, bob.operatorId);
    assert.deepEqual((await eligibility(cp.platform, player.accessToken)).body.deposit.reasons, []);
    const last = approved.body.history.at(-1);
    assert.equal(last.action, 'decision-approved');
    assert.deepEqual(last.detail.holdsLifted, ['sanctions']);
    const holds = await http().get(`/v1/holds?playerId=${player.playerId}&includeLifted=true`, alice.accessToken);
    assert.equal(holds.body.items[0].liftedBy, `operator:${bob.operatorId}`);
    const [decidedEvent] = await outboxEvents(cp.platform, 'compliance.case-decided.v1', caseId).then((e) => e.slice(-1));
    assert.equal(decidedEvent!.secondApprover, bob.operatorId);
  });

  it('when the second approver signed in too long ago or without MFA, then the approval is refused and the proposal still waits', async () => {
    const player = await verifiedPlayer(cp);
    const { caseId } = await cp.compliance.openCase({ type: 'payout-exception', subject: `player:${player.playerId}`, summary: 'Payout held by bank', data: {} });
    await decide(caseId, { outcome: 'released', reason: 'Bank cleared it' }, alice);
    const stale = await issuer.token({ groups: ['compliance-manager'], authTimeS: Math.floor(Date.now() / 1000) - 3_600 });
    expectProblem(await http().post(`/v1/cases/${caseId}/decisions`, { approval: 'approve', reason: 'looks fine' }, stale), 403, 'step-up-required');
    const noMfa = await issuer.token({ groups: ['compliance-manager'], amr: ['pwd'] });
    expectProblem(await http().post(`/v1/cases/${caseId}/decisions`, { approval: 'approve', reason: 'looks fine' }, noMfa), 403, 'mfa-required');
    assert.equal((await getCase(caseId)).body.case.state, 'pending_second_approval');
    const fresh = await issuer.token({ groups: ['compliance-manager'] });
    const approved = await http().post(`/v1/cases/${caseId}/decisions`, { approval: 'approve', reason: 'Checked with the bank' }, fresh);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.case.outcome, 'released');
  });

  it('when the second operator rejects a proposed decision, then the case goes back to work and nothing is released', async () => {
    const player = await verifiedPlayer(cp);
    const { caseId } = await cp.compliance.openCase({ type: 'operator-override', subject: `player:${player.playerId}`, summary: 'Lift deposit cap for VIP', data: {} });
    await decide(caseId, { outcome: 'approved', reason: 'Affordability checked' }, bob);
    const rejected = await decide(caseId, { approval: 'reject', reason: 'Affordability evidence is 14 months old' }, alice);
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.case.state, 'in_progress');
    assert.equal(rejected.body.case.proposedOutcome, undefined);
    assert.deepEqual(rejected.body.history.slice(-2).map((h: any) => h.action), ['decision-proposed', 'decision-rejected']);
    const refused = await decide(caseId, { outcome: 'rejected', reason: 'Override refused' }, alice);
    assert.equal(refused.body.case.state, 'closed');
    assert.equal(refused.body.case.outcome, 'rejected');
  });

  it('when a closed case is reopened, then it is open again with a new due date, and decisions, notes and states are checked', async () => {
    const player = await verifiedPlayer(cp);
    const opened = await http().post('/v1/cases', { type: 'complaint', subject: `player:${player.playerId}`, summary: 'Skill question unclear' }, alice.accessToken);
    const caseId = opened.body.case.caseId;
    expectProblem(await decide(caseId, { outcome: 'refunded', reason: 'not an outcome' }, alice), 400, 'case-outcome-invalid');
    expectProblem(await decide(caseId, { reason: 'no outcome' }, alice), 400, 'outcome-required');
    await decide(caseId, { outcome: 'not-upheld', reason: 'Question was clear' }, alice);
    expectProblem(await decide(caseId, { outcome: 'upheld', reason: 'again' }, alice), 409, 'case-transition-not-allowed');
    expectProblem(await http().post(`/v1/cases/${caseId}/assignment`, { assignee: 'me' }, alice.accessToken), 409, 'case-transition-not-allowed');
    const reopened = await http().post(`/v1/cases/${caseId}/reopen`, { reason: 'ADR body asked us to look again' }, bob.accessToken);
    assert.equal(reopened.status, 200, JSON.stringify(reopened.body));
    assert.equal(reopened.body.case.state, 'open');
    assert.equal(reopened.body.case.reopenCount, 1);
    assert.equal(reopened.body.case.outcome, undefined);
    assert.ok(new Date(reopened.body.case.dueAt) > new Date(opened.body.case.dueAt));
    expectProblem(await http().post(`/v1/cases/${caseId}/reopen`, { reason: 'twice' }, bob.accessToken), 409, 'case-transition-not-allowed');
    const upheld = await decide(caseId, { outcome: 'upheld', reason: 'On review, the wording was ambiguous' }, bob);
    assert.equal(upheld.body.case.outcome, 'upheld');
    expectProblem(await http().post('/v1/cases/01900000-0000-7000-8000-000000000000/notes', { text: 'x' }, alice.accessToken), 404, 'not-found');
    expectProblem(await http().post(`/v1/cases/${caseId}/evidence`, { filename: 'big.bin', contentType: 'application/octet-stream', contentBase64: Buffer.alloc(4096).toString('base64') }, alice.accessToken), 413, 'evidence-too-large');
    expectProblem(await http().post(`/v1/cases/${caseId}/notes`, { text: 'x', extra: 1 }, alice.accessToken), 400, 'validation-failed');
    expectProblem(await http().post(`/v1/cases/${caseId}/notes`, { text: 'analyst note' }, (await operator(cp.platform, ['support'])).accessToken), 403, 'forbidden');
  });

  it('when cases are listed, then filters by type, state, assignee, player and overdue apply and the cursor pages through them', async () => {
    const player = await verifiedPlayer(cp);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await cp.compliance.openCase({ type: 'payout-exception', subject: `player:${player.playerId}`, summary: `Payout ${i} bounced`, data: { i } })).caseId);
    }
    await http().post(`/v1/cases/${ids[1]}/assignment`, { assignee: bob.operatorId }, alice.accessToken);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await http().get(`/v1/cases?type=payout-exception&playerId=${player.playerId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, alice.accessToken);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((c: any) => c.caseId));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    const bobs = await http().get(`/v1/cases?assignee=me&playerId=${player.playerId}`, bob.accessToken);
    assert.deepEqual(bobs.body.items.map((c: any) => c.caseId), [ids[1]]);
    const inProgress = await http().get(`/v1/cases?state=in_progress&playerId=${player.playerId}`, alice.accessToken);
    assert.deepEqual(inProgress.body.items.map((c: any) => c.caseId), [ids[1]]);
    await cp.platform.db.query("update compliance.cases set due_at = now() - interval '1 minute' where id = $1", [ids[3]]);
    const overdue = await http().get(`/v1/cases?overdue=true&playerId=${player.playerId}`, alice.accessToken);
    assert.deepEqual(overdue.body.items.map((c: any) => [c.caseId, c.overdue]), [[ids[3], true]]);
    expectProblem(await http().get('/v1/cases?cursor=bm9wZQ', alice.accessToken), 400, 'validation-failed');
    expectProblem(await http().get('/v1/cases?type=nope', alice.accessToken), 400, 'validation-failed');
  });
});
