/**
 * Sanctions screening through HTTP on real PostgreSQL: importing each list format, screening names
 * (reordered, transliterated, titled; date of birth and country moving the score), screening at
 * registration (a hit holds the player and opens a case), re-screening every player when a list
 * changes, and the daily download from a configured URL.
 */
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { waitFor, type TestPlatform } from '@verity/kernel/testing';
import type { ComplianceService } from '@verity/compliance';
import { downloadList } from '../src/sanctions/download.ts';
import { listBytes } from './fixtures/sanctions-lists.ts';
import { expectStatus, newPlayer, startAmlSanctionsPlatform, unique } from './fixtures/platform.ts';

const CONTENT_TYPE = { ofsi: 'text/csv', 'ofac-sdn-xml': 'application/xml', 'ofac-sdn-csv': 'text/csv' } as const;

async function importList(platform: TestPlatform, token: string, source: keyof typeof CONTENT_TYPE, body: Buffer | string) {
  return platform.http.request('POST', `/v1/sanctions/lists/import?source=${source}`, { rawBody: body as string, token, headers: { 'content-type': CONTENT_TYPE[source] } });
}

const screen = (platform: TestPlatform, token: string, body: Record<string, unknown>) => platform.http.post('/v1/sanctions/screen', body, token);

async function screeningsOf(platform: TestPlatform, token: string, playerId: string) {
  return expectStatus(await platform.http.get(`/v1/sanctions/screenings?playerId=${playerId}`, token), 200, 'listSanctionsScreenings').items as any[];
}

/** An OFSI file with one more target than the fixture (a designation published the next day). */
async function ofsiWithNewTarget(surname: string, given: string, groupId: string): Promise<string> {
  const base = (await listBytes('ConList.csv')).toString('utf8');
  const cells = new Array<string>(36).fill('');
  [cells[0], cells[1], cells[10], cells[13], cells[28], cells[29], cells[31], cells[35]] = [surname, given, '12/05/1979', 'Russia', 'Individual', 'Primary name', 'Russia', groupId];
  return `${base.replace('Last Updated,01/06/2026', 'Last Updated,02/06/2026')}${cells.join(',')}\r\n`;
}

describe('sanctions lists and screening', () => {
  let platform: TestPlatform;
  let admin: string;

  before(async () => {
    ({ platform, admin } = await startAmlSanctionsPlatform({ env: { SANCTIONS_IMPORT_MAX_BYTES: '200000' } }));
  });
  after(() => platform?.stop());

  test('when each list format is imported, then every import is a new version of its list and an identical file changes nothing', async () => {
    const ofsi = expectStatus(await importList(platform, admin, 'ofsi', await listBytes('ConList.csv')), 201, 'import OFSI');
    assert.deepEqual([ofsi.source, ofsi.version, ofsi.entryCount], ['ofsi', 1, 14]);
    assert.ok(ofsi.rescreenRunId);
    const xml = expectStatus(await importList(platform, admin, 'ofac-sdn-xml', await listBytes('sdn.xml')), 201, 'import SDN XML');
    assert.deepEqual([xml.source, xml.version, xml.entryCount], ['ofac-sdn', 1, 12]);
    const csv = expectStatus(await importList(platform, admin, 'ofac-sdn-csv', await listBytes('sdn.csv')), 201, 'import SDN CSV');
    assert.deepEqual([csv.source, csv.version, csv.entryCount], ['ofac-sdn', 2, 12]);
    const again = expectStatus(await importList(platform, admin, 'ofac-sdn-csv', await listBytes('sdn.csv')), 200, 'import SDN CSV again');
    assert.deepEqual([again.unchanged, again.version, again.rescreenRunId], [true, 2, undefined]);

    const lists = expectStatus(await platform.http.get('/v1/sanctions/lists', admin), 200, 'listSanctionsLists');
    assert.deepEqual(lists.current.map((l: any) => `${l.source}@${l.version}:${l.format}`).sort(), ['ofac-sdn@2:ofac-sdn-csv', 'ofsi@1:ofsi']);
    assert.equal(lists.versions.length, 3);
    assert.equal(lists.current.find((l: any) => l.source === 'ofsi').publishedAt, '01/06/2026');
  });

  test('when a list file is malformed, too large, of an unknown kind or sent by someone without the permission, then it is refused and nothing changes', async () => {
    const bad = await importList(platform, admin, 'ofac-sdn-xml', '<html><body>maintenance</body></html>');
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'sanctions-list-invalid');
    const big = await importList(platform, admin, 'ofsi', 'x'.repeat(250_000));
    assert.equal(big.status, 413);
    const unknown = await platform.http.request('POST', '/v1/sanctions/lists/import?source=eu', { rawBody: 'a', token: admin, headers: { 'content-type': 'text/csv' } });
    assert.equal(unknown.status, 400);
    const { accessToken } = await newPlayer(platform);
    assert.equal((await importList(platform, accessToken, 'ofsi', await listBytes('ConList.csv'))).status, 403);
    assert.equal((await importList(platform, '', 'ofsi', 'x')).status, 401);
    const lists = expectStatus(await platform.http.get('/v1/sanctions/lists', admin), 200, 'listSanctionsLists');
    assert.equal(lists.versions.length, 3);
  });

  test('when reordered, transliterated, titled or mistyped names are screened, then the listed person is a hit with scores and explanations', async () => {
    for (const name of ['Putin Vladimir', 'Владимир Путин', 'President Vladimir V. Putin', 'Sergey Lavrov', 'Dr. Ayman al-Zawahiri', 'Aliaksandr Lukashenka', 'Abramovitch Roman', 'Kim Jong-un']) {
      const result = expectStatus(await screen(platform, admin, { name }), 200, `screen ${name}`);
      assert.equal(result.outcome, 'hit', `${name}: ${JSON.stringify(result.matches[0])}`);
      const top = result.matches[0];
      assert.ok(top.score >= 0.7 && top.band === 'hit');
      assert.ok(top.explanation.length >= 1 && typeof top.features.person_name_jaro_winkler === 'number');
      assert.equal(result.algorithmVersion, 'verity-logic-v1.1');
      assert.ok(result.screeningId);
    }
    const clean = expectStatus(await screen(platform, admin, { name: 'Ada Lovelace' }), 200, 'screen a clean name');
    assert.deepEqual([clean.outcome, clean.matches.length, clean.bestScore], ['clear', 0, null]);
    const vessel = expectStatus(await screen(platform, admin, { name: 'Northern Light Trader', entityTypes: ['vessel'] }), 200, 'screen a vessel');
    assert.equal(vessel.matches[0].entityType, 'vessel');
    const invalid = await screen(platform, admin, { name: '!!!' });
    assert.equal(invalid.status, 400);
  });

  test('when the date of birth or country agrees or conflicts, then the score moves up or down and a namesake drops to a candidate', async () => {
    const plain = expectStatus(await screen(platform, admin, { name: 'Sergey Lavrov' }), 200, 'plain').matches[0];
    const agreeing = expectStatus(await screen(platform, admin, { name: 'Sergey Lavrov', dateOfBirth: '1950-03-21', country: 'RU' }), 200, 'agreeing').matches[0];
    const conflicting = expectStatus(await screen(platform, admin, { name: 'Sergey Viktorovich Lavrov', dateOfBirth: '1991-07-02', country: 'GB' }), 200, 'conflicting');
    assert.ok(agreeing.score > plain.score || agreeing.score === 1, `${agreeing.score} vs ${plain.score}`);
    assert.ok(agreeing.qualifiers.dob_day_match > 0 && agreeing.qualifiers.country_match > 0);
    assert.ok(conflicting.bestScore < plain.score && conflicting.bestScore >= 0.5, String(conflicting.bestScore));
    assert.equal(conflicting.outcome, 'candidates');
    assert.ok(conflicting.matches[0].qualifiers.dob_year_disjoint < 0 && conflicting.matches[0].qualifiers.country_mismatch < 0);
  });

  test('when a player with a sanctioned name registers, then payouts are held, a sanctions-hit case opens, and the decision records its algorithm version', async () => {
    const player = await newPlayer(platform, { legalName: 'Vladimir Vladimirovich Putin', dateOfBirth: '1952-10-07' });
    const holds = await waitFor(async () => {
      const res = expectStatus(await platform.http.get(`/v1/holds?playerId=${player.playerId}`, admin), 200, 'listHolds');
      return res.items.length ? res.items : undefined;
    }, { what: 'a sanctions hold', timeoutMs: 15_000 });
    assert.equal(holds[0].kind, 'sanctions');
    const cases = expectStatus(await platform.http.get(`/v1/cases?type=sanctions-hit&playerId=${player.playerId}`, admin), 200, 'listCases').items;
    assert.equal(cases.length, 1);
    assert.equal(holds[0].caseId, cases[0].caseId);
    assert.equal(cases[0].data.trigger, 'registration');
    const [screening] = await screeningsOf(platform, admin, player.playerId);
    assert.deepEqual([screening.outcome, screening.trigger, screening.algorithmVersion, screening.caseId], ['hit', 'registration', 'verity-logic-v1.1', cases[0].caseId]);
    assert.equal(screening.listIds.length, 2);
    const eligibility = expectStatus(await platform.http.get(`/v1/eligibility?playerId=${player.playerId}`, admin), 200, 'getEligibility');
    assert.ok(eligibility.withdraw.reasons.includes('sanctions-hold'));

    // Screening again (before a payout) finds the same case instead of opening another.
    const again = expectStatus(await platform.http.post(`/v1/sanctions/players/${player.playerId}/screen`, {}, admin), 200, 'screenPlayer');
    assert.deepEqual([again.outcome, again.caseId], ['hit', cases[0].caseId]);
    assert.equal(expectStatus(await platform.http.get(`/v1/cases?type=sanctions-hit&playerId=${player.playerId}`, admin), 200, 'listCases').items.length, 1);
  });

  test('when an ordinary player registers, then the screening is recorded clear and nothing is held', async () => {
    const player = await newPlayer(platform, { legalName: `Ada ${unique()} Lovelace` });
    const [screening] = await waitFor(async () => {
      const items = await screeningsOf(platform, admin, player.playerId);
      return items.length ? items : undefined;
    }, { what: 'a registration screening' });
    assert.deepEqual([screening.outcome, screening.caseId], ['clear', null]);
    assert.equal(expectStatus(await platform.http.get(`/v1/holds?playerId=${player.playerId}`, admin), 200, 'listHolds').items.length, 0);

    // Asking whether the player may withdraw (what payments does before a payout) screens them again.
    await platform.service<ComplianceService>('compliance').canWithdraw({ playerId: player.playerId, amountMinor: 1_000n, currency: 'GBP' });
    const [latest] = await screeningsOf(platform, admin, player.playerId);
    assert.deepEqual([latest.trigger, latest.outcome], ['payout', 'clear']);
  });

  test('when the API is described, then the sanctions operations are in the OpenAPI document', async () => {
    const doc = expectStatus(await platform.http.get('/openapi.json'), 200, 'openapi');
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((p) => Object.values(p).map((o) => o.operationId));
    for (const id of ['importSanctionsList', 'screenName', 'listSanctionsLists', 'refreshSanctionsLists', 'listSanctionsScreenings', 'screenPlayer', 'listAmlRules', 'getAmlRule', 'createAmlRuleVersion', 'activateAmlRuleVersion', 'backtestAmlRule', 'listAmlAlerts']) {
      assert.ok(ids.includes(id), id);
    }
  });

  test('when a list changes, then every screened player is screened again and a newly listed one is held', async () => {
    const surname = `Zorinsky${unique().replace(/\d/g, '')}`;
    const player = await newPlayer(platform, { legalName: `Boris ${surname}`, dateOfBirth: '1979-05-12' });
    await waitFor(async () => (await screeningsOf(platform, admin, player.playerId)).length === 1, { what: 'the registration screening' });
    const imported = expectStatus(await importList(platform, admin, 'ofsi', await ofsiWithNewTarget(surname.toUpperCase(), 'Boris', '990999')), 201, 'import the next OFSI version');
    assert.equal(imported.version, 2);
    const run = await waitFor(async () => {
      const lists = expectStatus(await platform.http.get('/v1/sanctions/lists', admin), 200, 'listSanctionsLists');
      return lists.rescreenRuns.find((r: any) => r.runId === imported.rescreenRunId && r.status === 'finished');
    }, { what: 'the re-screening run to finish', timeoutMs: 20_000 });
    assert.ok(run.screened >= 3 && run.hits >= 2, JSON.stringify(run));
    const [latest] = await screeningsOf(platform, admin, player.playerId);
    assert.deepEqual([latest.trigger, latest.outcome], ['list-change', 'hit']);
    assert.equal(latest.matches[0].listRef, '990999');
    const holds = expectStatus(await platform.http.get(`/v1/holds?playerId=${player.playerId}`, admin), 200, 'listHolds').items;
    assert.equal(holds[0]?.kind, 'sanctions');
  });
});

describe('sanctions list download', () => {
  let server: Server;
  let base: string;
  let platform: TestPlatform;
  let admin: string;
  const served: string[] = [];

  before(async () => {
    const files: Record<string, Buffer> = { '/ConList.csv': await listBytes('ConList.csv'), '/sdn.xml': await listBytes('sdn.xml') };
    server = http.createServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === '/slow') return; // never answers
      const body = files[req.url ?? ''];
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ platform, admin } = await startAmlSanctionsPlatform({ env: { SANCTIONS_OFSI_URL: `${base}/ConList.csv`, SANCTIONS_OFAC_URL: `${base}/sdn.xml`, SANCTIONS_DOWNLOAD_TIMEOUT_MS: '2000' } }));
  });
  after(async () => {
    await platform?.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('when a download is asked for, then both configured lists are fetched and imported as downloaded versions', async () => {
    expectStatus(await platform.http.post('/v1/sanctions/lists/refresh', {}, admin), 202, 'refreshSanctionsLists');
    const lists = await waitFor(async () => {
      const res = expectStatus(await platform.http.get('/v1/sanctions/lists', admin), 200, 'listSanctionsLists');
      return res.current.length === 2 ? res : undefined;
    }, { what: 'both lists downloaded', timeoutMs: 20_000 });
    assert.deepEqual(lists.current.map((l: any) => `${l.source}:${l.format}:${l.origin}:${l.importedBy}`).sort(), ['ofac-sdn:ofac-sdn-xml:download:system', 'ofsi:ofsi:download:system']);
    assert.ok(served.includes('/ConList.csv') && served.includes('/sdn.xml'));
  });

  test('when the list server does not answer in time or answers an error, then the download fails with a reason instead of hanging', async () => {
    await assert.rejects(downloadList(`${base}/slow`, { timeoutMs: 300, maxBytes: 1_000_000 }), { code: 'sanctions-download-failed' });
    await assert.rejects(downloadList(`${base}/missing.csv`, { timeoutMs: 2_000, maxBytes: 1_000_000 }), { code: 'sanctions-download-failed' });
    await assert.rejects(downloadList(`${base}/sdn.xml`, { timeoutMs: 2_000, maxBytes: 100 }), { code: 'sanctions-list-too-large' });
  });
});
