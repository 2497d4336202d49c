/**
 * Eligibility over HTTP on real PostgreSQL: every refusal reason, who may ask for whom, the read
 * model fed by kyc events, the national self-exclusion register at registration, and payments'
 * gate turning a refusal into problem+json.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@verity/kernel/testing';
import { operatorSession } from '@verity/identity/testing';
import { eligibility, expectProblem, idem, newPlayer, operator, outboxEvents, startCorePlatform, verifiedPlayer, type CorePlatform } from './support/core.ts';

const reasonsOf = (body: any) => ({ deposit: body.deposit.reasons, purchase: body.purchase.reasons, withdraw: body.withdraw.reasons });

describe('eligibility', () => {
  let cp: CorePlatform;
  let manager: Awaited<ReturnType<typeof operator>>;
  before(async () => {
    cp = await startCorePlatform({ payments: true });
    manager = await operator(cp.platform);
  });
  after(() => cp?.platform.stop());

  it('when a player has just registered, then they are not verified and may not deposit, buy or withdraw', async () => {
    const player = await newPlayer(cp);
    const res = await eligibility(cp.platform, player.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.playerId, player.playerId);
    assert.deepEqual(reasonsOf(res.body), { deposit: ['not-verified'], purchase: ['not-verified'], withdraw: ['not-verified'] });
    assert.equal(res.body.deposit.allowed, false);
  });

  it('when kyc approves the player, then everything is allowed; when a later decision expires it, then they are refused again', async () => {
    const player = await verifiedPlayer(cp);
    const ok = await eligibility(cp.platform, player.accessToken);
    assert.deepEqual(reasonsOf(ok.body), { deposit: [], purchase: [], withdraw: [] });
    assert.equal(ok.body.purchase.allowed, true);
    await cp.kyc.setVerification({ playerId: player.playerId, status: 'expired', ageVerified: true });
    await waitFor(async () => (await eligibility(cp.platform, player.accessToken)).body.deposit.reasons.includes('not-verified'), { what: 'expiry to reach eligibility' });
  });

  it('when the player is under 18 at registration, or kyc refuses them as under age, then the reason is under-age', async () => {
    const young = new Date();
    young.setUTCFullYear(young.getUTCFullYear() - 16);
    const minor = await newPlayer(cp, { dateOfBirth: young.toISOString().slice(0, 10) });
    const res = await eligibility(cp.platform, minor.accessToken);
    assert.deepEqual(res.body.purchase.reasons, ['under-age', 'not-verified']);

    const other = await verifiedPlayer(cp);
    await cp.kyc.setVerification({ playerId: other.playerId, status: 'rejected_final', ageVerified: false, reason: 'under-age' });
    await waitFor(async () => (await eligibility(cp.platform, other.accessToken)).body.deposit.reasons.includes('under-age'), { what: 'the under-age refusal' });
  });

  it('when an investigation or a sanctions hold is placed by a case decision, then the matching reasons refuse; a payout hold stops withdrawals only', async () => {
    const player = await verifiedPlayer(cp);
    const aml = await cp.platform.http.post('/v1/cases', { type: 'aml-alert', subject: `player:${player.playerId}`, summary: 'Structuring pattern' }, manager.accessToken);
    assert.equal(aml.status, 201, JSON.stringify(aml.body));
    const decided = await cp.platform.http.post(`/v1/cases/${aml.body.case.caseId}/decisions`, { outcome: 'investigation-opened', reason: 'EDD requested' }, manager.accessToken);
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    let res = await eligibility(cp.platform, player.accessToken);
    assert.deepEqual(reasonsOf(res.body), { deposit: ['open-investigation'], purchase: ['open-investigation'], withdraw: ['open-investigation'] });

    const { caseId } = await cp.compliance.openCase({ type: 'sanctions-hit', subject: `player:${player.playerId}`, summary: 'OFSI candidate', data: { score: 0.91 } });
    await cp.platform.http.post(`/v1/cases/${caseId}/decisions`, { outcome: 'confirmed-match', reason: 'DOB and nationality match' }, manager.accessToken);
    res = await eligibility(cp.platform, player.accessToken);
    assert.deepEqual(res.body.deposit.reasons, ['sanctions-hold', 'open-investigation']);

    const payoutOnly = await verifiedPlayer(cp);
    const pe = await cp.platform.http.post('/v1/cases', { type: 'payout-exception', subject: `player:${payoutOnly.playerId}`, summary: 'Payout bounced twice' }, manager.accessToken);
    await cp.platform.http.post(`/v1/cases/${pe.body.case.caseId}/decisions`, { outcome: 'blocked', reason: 'Bank details under review' }, manager.accessToken);
    res = await eligibility(cp.platform, payoutOnly.accessToken);
    assert.deepEqual(reasonsOf(res.body), { deposit: [], purchase: [], withdraw: ['open-investigation'] });
  });

  it('when the account is closed, then deposits and purchases are refused with account-closed and the balance can still be paid out', async () => {
    const player = await verifiedPlayer(cp);
    const closed = await cp.platform.http.post(`/v1/retention/players/${player.playerId}/account-closure`, { reason: 'Customer asked to close' }, manager.accessToken);
    assert.equal(closed.status, 201, JSON.stringify(closed.body));
    const res = await eligibility(cp.platform, player.accessToken);
    assert.deepEqual(reasonsOf(res.body), { deposit: ['account-closed'], purchase: ['account-closed'], withdraw: [] });
    expectProblem(await cp.platform.http.post(`/v1/retention/players/${player.playerId}/account-closure`, { reason: 'again' }, manager.accessToken), 409, 'account-already-closed');
  });

  it('when an operator with cases:read or kyc:read asks for a player, then they get the answer; others and other players are refused', async () => {
    const player = await newPlayer(cp);
    const byManager = await eligibility(cp.platform, manager.accessToken, `?playerId=${player.playerId}`);
    assert.equal(byManager.status, 200);
    assert.deepEqual(byManager.body.withdraw.reasons, ['not-verified']);
    const support = await operatorSession(cp.platform, ['support']);
    assert.equal((await eligibility(cp.platform, support.accessToken, `?playerId=${player.playerId}`)).status, 200);
    const finance = await operatorSession(cp.platform, ['finance']);
    expectProblem(await eligibility(cp.platform, finance.accessToken, `?playerId=${player.playerId}`), 403, 'forbidden');
    expectProblem(await eligibility(cp.platform, manager.accessToken), 400, 'validation-failed');
    const someoneElse = await newPlayer(cp);
    expectProblem(await eligibility(cp.platform, someoneElse.accessToken, `?playerId=${player.playerId}`), 403, 'forbidden');
    expectProblem(await cp.platform.http.get('/v1/eligibility'), 401, 'unauthenticated');
  });

  it('when the national register lists the player at registration, then they are self-excluded and marketing stops', async () => {
    const player = await newPlayer(cp, { legalName: 'Sam Excluded-Smith' });
    await waitFor(async () => (await eligibility(cp.platform, player.accessToken)).body.purchase.reasons.includes('self-excluded'), { what: 'the register match' });
    const status = await cp.platform.http.get('/v1/safer-gambling', player.accessToken);
    assert.equal(status.body.nationalRegister, 'excluded');
    assert.equal(status.body.marketingSuppressed, true);
    assert.equal((await outboxEvents(cp.platform, 'compliance.self-excluded.v1', player.playerId))[0]?.source, 'national-register');

    // A person put on the sandbox's list by name, date of birth and postcode (hashes only).
    const listed = await fetch(`${cp.registerUrl}/sandbox/exclusions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'Grace', lastName: 'Hopper', dateOfBirth: '1986-12-09', postcode: 'EC1A 1BB' }),
    });
    assert.equal(listed.status, 201);
    const grace = await newPlayer(cp, { legalName: 'Grace Brewster Hopper', dateOfBirth: '1986-12-09', address: { line1: '1 King St', city: 'London', postcode: 'ec1a1bb', country: 'GB' } });
    await waitFor(async () => (await eligibility(cp.platform, grace.accessToken)).body.deposit.reasons.includes('self-excluded'), { what: 'the listed person to be excluded' });
    const clear = await newPlayer(cp, { legalName: 'Grace Hopper', dateOfBirth: '1986-12-10' });
    assert.equal((await cp.platform.http.get('/v1/safer-gambling', clear.accessToken)).body.nationalRegister, 'not-excluded');
  });

  it('when payments asks for a refused player, then the deposit is a problem+json naming the reasons', async () => {
    const player = await newPlayer(cp);
    const res = await cp.platform.http.post('/v1/wallet/deposits', { amountMinor: '1000', currency: 'GBP', paymentMethod: '4000000000000036' }, player.accessToken, idem());
    expectProblem(res, 403, 'deposit-not-allowed');
    assert.deepEqual(res.body.reasons, ['not-verified']);
    const decision = await cp.compliance.canWithdraw({ playerId: player.playerId, amountMinor: 100n, currency: 'GBP' });
    assert.deepEqual(decision, { allowed: false, reasons: ['not-verified'] });
  });
});
