// Token signing-key rotation: a new key signs at once, the old one stays published until its tokens
// have expired, then is retired; a second identity process follows the rotation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule, type IdentityService } from '@verity/identity';
import { loginPlayer, playerToken } from '@verity/identity/testing';

const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const jwksKids = async (p: TestPlatform) => ((await p.http.get('/.well-known/jwks.json')).body as JSONWebKeySet).keys.map((k) => k.kid);

describe('identity: signing-key rotation', () => {
  let p: TestPlatform;
  before(async () => {
    p = await startTestPlatform({ modules: [identityModule] });
  });
  after(() => p?.stop());

  /** Runs the hourly key job now, through the queue as the cron would, and waits for it to finish. */
  const runKeyJob = async () => {
    const id = await p.bus.jobsFor('identity').enqueue('signing-keys', {});
    await waitFor(async () => (await p.db.query("select 1 from pgboss.job where id = $1 and state = 'completed'", [id])).length === 1, { what: 'the signing-keys job' });
  };

  it('when the key is rotated, then old tokens still verify, new tokens carry the new kid, the JWKS has both, and retirement removes the old one', async () => {
    const player = await playerToken(p.http);
    const oldKid = kidOf(player.accessToken);
    const rotated = await p.service<IdentityService>('identity').rotateSigningKey();
    assert.notEqual(rotated.kid, oldKid);
    assert.deepEqual([...rotated.publishedKids].sort(), [oldKid, rotated.kid].sort());

    assert.equal((await p.http.get('/v1/me', player.accessToken)).status, 200, 'a token of the previous key still works');
    const fresh = await loginPlayer(p.http, player.email, player.password);
    assert.equal(kidOf(fresh.accessToken), rotated.kid);
    const refreshed = await p.http.post('/v1/auth/refresh', { refreshToken: player.refreshToken });
    assert.equal(kidOf(refreshed.body.accessToken), rotated.kid);
    assert.deepEqual((await jwksKids(p)).sort(), [oldKid, rotated.kid].sort());

    // Not yet: the old key's tokens may live another 15 minutes.
    await runKeyJob();
    assert.ok((await jwksKids(p)).includes(oldKid));

    // Once the access-token lifetime and the margin have passed since it was superseded, it is retired.
    await p.db.query("update identity.signing_keys set superseded_at = now() - interval '1 hour' where kid = $1", [oldKid]);
    await runKeyJob();
    assert.deepEqual(await jwksKids(p), [rotated.kid], 'the old kid left the JWKS');
    const jwks = createLocalJWKSet((await p.http.get('/.well-known/jwks.json')).body);
    await assert.rejects(jwtVerify(player.accessToken, jwks), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await jwtVerify(fresh.accessToken, jwks);
    const retired = await p.db.query<{ retired: boolean }>('select retired_at is not null as retired from identity.signing_keys where kid = $1', [oldKid]);
    assert.deepEqual(retired, [{ retired: true }]);
  });

  it('when the current key reaches its rotation age, then the hourly job makes a new one, once', async () => {
    const previous = kidOf((await playerToken(p.http)).accessToken);
    await p.db.query("update identity.signing_keys set created_at = now() - interval '31 days' where kid = $1", [previous]);
    await Promise.all([runKeyJob(), runKeyJob()]);
    const current = (await p.db.query<{ kid: string }>('select kid from identity.signing_keys where superseded_at is null and retired_at is null'))[0]?.kid;
    assert.ok(current && current !== previous, 'a new current key');
    const player = await playerToken(p.http);
    assert.equal(kidOf(player.accessToken), current);
    const live = await p.db.query('select kid from identity.signing_keys where retired_at is null');
    assert.equal(live.length, 2, 'one rotation, not one per run: the new key is young, the old one still published');
  });
});

describe('identity: two identity processes on one database', () => {
  let p1: TestPlatform;
  let p2: TestPlatform;
  before(async () => {
    p1 = await startTestPlatform({ modules: [identityModule] });
    // The same database and master key, as two replicas of the identity service would have.
    p2 = await startTestPlatform({ modules: [identityModule], config: { databaseUrl: p1.config.databaseUrl! }, env: { VERITY_KEY_FILE: p1.config.keyFile } });
  });
  after(async () => {
    await p2?.stop();
    await p1?.stop();
  });

  it('when one process rotates the key, then the other verifies the new kid (reloading its keys) and signs with the new key', async () => {
    const player = await playerToken(p1.http);
    assert.equal((await p2.http.get('/v1/me', player.accessToken)).status, 200);
    const { kid } = await p1.service<IdentityService>('identity').rotateSigningKey();
    const fromP1 = await loginPlayer(p1.http, player.email, player.password);
    assert.equal(kidOf(fromP1.accessToken), kid);

    const seenByP2 = await p2.http.get('/v1/me', fromP1.accessToken);
    assert.equal(seenByP2.status, 200, JSON.stringify(seenByP2.body));
    const fromP2 = await loginPlayer(p2.http, player.email, player.password);
    assert.equal(kidOf(fromP2.accessToken), kid, 'the reload also moved its signing to the new key');
    assert.ok((await jwksKids(p2)).includes(kid));
    await jwtVerify(player.accessToken, createLocalJWKSet((await p2.http.get('/.well-known/jwks.json')).body), { issuer: p2.config.publicUrl });
  });
});
