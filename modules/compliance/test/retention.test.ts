/**
 * Retention with an injected clock: a closed customer's personal data is erased (their data key
 * destroyed) once five years have passed since the account closed, not a day before, and not while a
 * legal hold stands; transaction and case records stay, their free text unreadable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '@verity/kernel';
import type { IdentityService } from '@verity/identity';
import { expectProblem, offsetClock, operator, outboxEvents, startCorePlatformWithClock, verifiedPlayer, type CorePlatform } from './support/core.ts';

const DAY_MS = 86_400_000;

describe('retention', () => {
  const clock = offsetClock();
  let cp: CorePlatform;
  let manager: Awaited<ReturnType<typeof operator>>;
  let analyst: Awaited<ReturnType<typeof operator>>;
  before(async () => {
    cp = await startCorePlatformWithClock(clock);
    // Signed in before the clock moves (sign-in checks TOTP codes against the platform's clock).
    [manager, analyst] = [await operator(cp.platform), await operator(cp.platform, ['compliance-analyst'])];
  });
  after(() => cp?.platform.stop());

  const http = () => cp.platform.http;
  const close = (playerId: string) => http().post(`/v1/retention/players/${playerId}/account-closure`, { reason: 'Customer closed the account' }, manager.accessToken);
  const run = () => http().post('/v1/retention/runs', undefined, manager.accessToken);
  async function identityErased(playerId: string): Promise<boolean> {
    try {
      await cp.platform.service<IdentityService>('identity').getPlayerIdentity(playerId);
      return false;
    } catch (err) {
      if (isDomainError(err) && err.code === 'personal-data-erased') return true;
      throw err;
    }
  }

  it('when five years have passed since the account closed, then the player’s data key is destroyed, unless a legal hold stands', async () => {
    const [gone, held, open] = [await verifiedPlayer(cp), await verifiedPlayer(cp), await verifiedPlayer(cp)];
    const complaint = await http().post('/v1/cases', { type: 'complaint', subject: `player:${gone.playerId}`, summary: 'Account closure request' }, manager.accessToken);
    const caseId = complaint.body.case.caseId;
    await http().post(`/v1/cases/${caseId}/notes`, { text: 'Customer Ada Lovelace asked to close; reason: moving abroad.' }, manager.accessToken);
    const closedGone = await close(gone.playerId);
    assert.equal(closedGone.status, 201, JSON.stringify(closedGone.body));
    const retainUntil = new Date(closedGone.body.retainUntil);
    assert.equal(retainUntil.getUTCFullYear() - new Date(closedGone.body.closedAt).getUTCFullYear(), 5);
    await close(held.playerId);
    const hold = await http().post('/v1/legal-holds', { playerId: held.playerId, reason: 'Litigation: claim 2031-117' }, manager.accessToken);
    assert.equal(hold.status, 201, JSON.stringify(hold.body));

    clock.advance(5 * 365 * DAY_MS);
    let result = await run();
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.deepEqual(result.body, { erased: 0, playerIds: [] }, 'not before five years to the day');
    assert.equal(await identityErased(gone.playerId), false);

    clock.advance(2 * DAY_MS);
    result = await run();
    assert.deepEqual(result.body.playerIds, [gone.playerId]);
    assert.equal(await identityErased(gone.playerId), true);
    assert.equal(await identityErased(held.playerId), false, 'a legal hold stops erasure');
    assert.equal(await identityErased(open.playerId), false, 'an open account is never erased');

    // The records stay; what named the person cannot be read any more.
    const theCase = await http().get(`/v1/cases/${caseId}`, manager.accessToken);
    const note = theCase.body.history.find((h: any) => h.action === 'note-added');
    assert.equal(note.textErased, true);
    assert.equal(note.text, undefined);
    const status = await http().get(`/v1/retention/players/${gone.playerId}`, manager.accessToken);
    assert.ok(status.body.erasedAt);
    assert.equal((await outboxEvents(cp.platform, 'compliance.player-data-erased.v1', gone.playerId)).length, 1);
    assert.deepEqual((await run()).body.playerIds, [], 'erased once');

    const released = await http().post(`/v1/legal-holds/${hold.body.legalHoldId}/release`, { reason: 'Claim settled' }, manager.accessToken);
    assert.equal(released.status, 200);
    expectProblem(await http().post(`/v1/legal-holds/${hold.body.legalHoldId}/release`, { reason: 'again' }, manager.accessToken), 409, 'legal-hold-released');
    assert.deepEqual((await run()).body.playerIds, [held.playerId]);
    assert.equal(await identityErased(held.playerId), true);
    const audit = await cp.platform.db.query<{ subject: string }>("select subject from kernel.audit_log where action = 'compliance.player-data-erased' order by sequence");
    assert.deepEqual(audit.map((a) => a.subject), [`player:${gone.playerId}`, `player:${held.playerId}`]);
  });

  it('when someone without retention:manage asks, then legal holds and runs are refused', async () => {
    expectProblem(await http().post('/v1/retention/runs', undefined, analyst.accessToken), 403, 'forbidden');
    expectProblem(await http().post('/v1/legal-holds', { playerId: 'abc', reason: 'because' }, analyst.accessToken), 403, 'forbidden');
  });
});
