/**
 * AML through HTTP on real PostgreSQL: each rule fires on crafted history and stays quiet on benign
 * history, an alert opens an aml-alert case, rules are versioned (create, activate, history kept),
 * and a back-test returns the alerts a candidate version would have raised without raising any.
 * History comes in as payments' and identity's events, with the times they happened.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uuidv7 } from '@verity/kernel';
import { waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { loginPlayer, operatorSession } from '@verity/identity/testing';
import { complianceModule, type ComplianceService } from '@verity/compliance';
import { daysAgo, deposit, hoursAgo, paymentsStandIn, purchase, voided, withdrawal, type PaymentsEvent, type PaymentsStandIn } from './fixtures/payments-stand-in.ts';
import { expectStatus, newPlayer, startAmlSanctionsPlatform, unique } from './fixtures/platform.ts';

describe('AML rules', () => {
  let platform: TestPlatform;
  let admin: string;
  let payments: PaymentsStandIn;

  before(async () => {
    ({ platform, admin } = await startAmlSanctionsPlatform({ modules: [identityModule, complianceModule, paymentsStandIn] }));
    payments = platform.service<PaymentsStandIn>('payments');
  });
  after(() => platform?.stop());

  const alertsOf = async (playerId: string, ruleId?: string): Promise<any[]> =>
    expectStatus(await platform.http.get(`/v1/aml/alerts?playerId=${playerId}${ruleId ? `&ruleId=${ruleId}` : ''}`, admin), 200, 'listAmlAlerts').items;

  /** Emits the events and waits until AML has handled every one of them (its inbox has them). */
  async function history(events: PaymentsEvent[]): Promise<void> {
    const ids = await payments.emit(events);
    await waitFor(async () => {
      const rows = await platform.db.query<{ n: number }>("select count(*)::int as n from compliance.inbox where subscriber = 'aml-payments' and event_id = any($1::uuid[])", [ids]);
      return rows[0]!.n === ids.length;
    }, { what: 'AML to handle the events', timeoutMs: 15_000 });
  }

  /** The alerts are raised in the delivery that stores the trigger: once it is stored, they exist. */
  const settle = history;

  test('when the rules are listed, then the six rules are there, each with an active version 1 of its defaults', async () => {
    const rules = expectStatus(await platform.http.get('/v1/aml/rules', admin), 200, 'listAmlRules').items;
    assert.deepEqual(rules.map((r: any) => r.ruleId).sort(), ['cdd-threshold', 'deposit-velocity', 'payment-method-name', 'rapid-in-out', 'shared-device', 'structuring']);
    for (const r of rules) {
      assert.equal(r.activeVersion.version, 1);
      assert.equal(r.activeVersion.status, 'active');
      assert.ok(r.parameterSchema.properties);
    }
    const cdd = rules.find((r: any) => r.ruleId === 'cdd-threshold');
    assert.deepEqual(cdd.activeVersion.parameters, { thresholdEurMinor: 200000, windowHours: 24, realertAfterDays: 30 });
  });

  test('when linked deposits reach EUR 2,000 within 24 hours, then a CDD alert opens an aml-alert case once; spread over two days they do not', async () => {
    const linked = uuidv7();
    await settle([deposit(linked, 120_000, { at: hoursAgo(20) }), deposit(linked, 90_000, { at: hoursAgo(2) })]);
    const [alert, ...more] = await alertsOf(linked, 'cdd-threshold');
    assert.equal(more.length, 0);
    assert.deepEqual([alert.facts.totalEurMinor, alert.facts.depositCount, alert.ruleVersion], ['210000', 2, 1]);
    assert.ok(alert.caseId);
    const c = expectStatus(await platform.http.get(`/v1/cases/${alert.caseId}`, admin), 200, 'getCase').case;
    assert.deepEqual([c.type, c.subject, c.data.ruleId, c.data.alertId], ['aml-alert', `player:${linked}`, 'cdd-threshold', alert.alertId]);
    // A further deposit within the re-alert window raises nothing new.
    await settle([deposit(linked, 50_000)]);
    assert.equal((await alertsOf(linked, 'cdd-threshold')).length, 1);

    const spread = uuidv7();
    await settle([deposit(spread, 120_000, { at: hoursAgo(30) }), deposit(spread, 90_000, { at: hoursAgo(1) })]);
    assert.equal((await alertsOf(spread, 'cdd-threshold')).length, 0);
  });

  test('when a deposit is in pounds, then it counts at the configured EUR rate', async () => {
    const player = uuidv7();
    await settle([deposit(player, 180_000, { currency: 'GBP' })]); // £1,800 × 1.17 = €2,106
    const [alert] = await alertsOf(player, 'cdd-threshold');
    assert.equal(alert?.facts.totalEurMinor, '210600');
    const under = uuidv7();
    await settle([deposit(under, 170_000, { currency: 'GBP' })]); // €1,989
    assert.equal((await alertsOf(under, 'cdd-threshold')).length, 0);
  });

  test('when several deposits sit just under the threshold within the window, then structuring is alerted; ordinary amounts are not', async () => {
    const structurer = uuidv7();
    await settle([deposit(structurer, 190_000, { at: hoursAgo(60) }), deposit(structurer, 195_000, { at: hoursAgo(30) }), deposit(structurer, 185_000, { at: hoursAgo(1) })]);
    const [alert] = await alertsOf(structurer, 'structuring');
    assert.equal(alert?.facts.depositsJustUnder, 3);
    const ordinary = uuidv7();
    await settle([deposit(ordinary, 50_000, { at: hoursAgo(50) }), deposit(ordinary, 40_000, { at: hoursAgo(20) }), deposit(ordinary, 60_000, { at: hoursAgo(1) })]);
    assert.equal((await alertsOf(ordinary, 'structuring')).length, 0);
  });

  test('when money is deposited, hardly played and withdrawn within a day, then rapid in-out is alerted; after real play it is not', async () => {
    const mule = uuidv7();
    await settle([deposit(mule, 100_000, { at: hoursAgo(10) }), purchase(mule, 5_000, { at: hoursAgo(9) })]);
    // A purchase voided (tickets not issued) is no play.
    const voidedId = uuidv7();
    await settle([purchase(mule, 40_000, { at: hoursAgo(8), transferId: voidedId }), voided(voidedId, 40_000)]);
    await settle([withdrawal(mule, 90_000, { at: hoursAgo(1) })]);
    const [alert] = await alertsOf(mule, 'rapid-in-out');
    assert.deepEqual([alert?.facts.depositedEurMinor, alert?.facts.playedEurMinor, alert?.facts.withdrawalEurMinor], ['100000', '5000', '90000']);

    const player = uuidv7();
    await settle([deposit(player, 100_000, { at: hoursAgo(10) }), purchase(player, 60_000, { at: hoursAgo(8) })]);
    await settle([withdrawal(player, 40_000, { at: hoursAgo(1) })]);
    assert.equal((await alertsOf(player, 'rapid-in-out')).length, 0);
  });

  test('when deposits jump to ten times the player\'s usual, then velocity is alerted; a usual day is not', async () => {
    const usual = (playerId: string) => Array.from({ length: 20 }, (_, i) => deposit(playerId, 2_000, { at: daysAgo(25 - i) })); // €20 a day
    const jumper = uuidv7();
    await settle(usual(jumper));
    await settle([deposit(jumper, 150_000, { at: hoursAgo(1) })]); // €1,500 against ~€20
    const [alert] = await alertsOf(jumper, 'deposit-velocity');
    assert.equal(alert?.facts.recentEurMinor, '150000');
    assert.equal(alert?.facts.multiplier, 10);

    const steady = uuidv7();
    await settle(usual(steady));
    await settle([deposit(steady, 6_000, { at: hoursAgo(1) })]);
    assert.equal((await alertsOf(steady, 'deposit-velocity')).length, 0);
    // A new player with no history has no baseline: a first large deposit is CDD's business, not velocity's.
    const newcomer = uuidv7();
    await settle([deposit(newcomer, 150_000)]);
    assert.equal((await alertsOf(newcomer, 'deposit-velocity')).length, 0);
  });

  test('when a rule changes, then it is a new version: draft, activated with a reason, the old one retired and kept', async () => {
    const created = await platform.http.post('/v1/aml/rules/shared-device/versions', { parameters: { minAccountsPerIp: 1000 }, reason: 'Test traffic all comes from 127.0.0.1' }, admin);
    const draft = expectStatus(created, 201, 'createAmlRuleVersion');
    assert.deepEqual([draft.version, draft.status, draft.parameters.minAccountsPerIp, draft.parameters.minAccountsPerDevice], [2, 'draft', 1000, 3]);
    const active = expectStatus(await platform.http.post('/v1/aml/rules/shared-device/versions/2/activate', { reason: 'Reviewed and back-tested' }, admin), 200, 'activateAmlRuleVersion');
    assert.equal(active.status, 'active');
    const rule = expectStatus(await platform.http.get('/v1/aml/rules/shared-device', admin), 200, 'getAmlRule');
    assert.deepEqual(rule.versions.map((v: any) => `${v.version}:${v.status}`), ['1:retired', '2:active']);

    const again = await platform.http.post('/v1/aml/rules/shared-device/versions/2/activate', { reason: 'again' }, admin);
    assert.equal(again.status, 409);
    const invalid = await platform.http.post('/v1/aml/rules/cdd-threshold/versions', { parameters: { thresholdEurMinor: -5, colour: 1 }, reason: 'bad values' }, admin);
    assert.equal(invalid.status, 400);
    assert.ok(invalid.body.errors.some((e: any) => e.pointer === '/body/parameters/thresholdEurMinor'));
    assert.equal((await platform.http.post('/v1/aml/rules/no-such-rule/versions', { parameters: {}, reason: 'nothing' }, admin)).status, 404);
    const analyst = await operatorSession(platform, ['compliance-analyst']);
    assert.equal((await platform.http.post('/v1/aml/rules/cdd-threshold/versions', { parameters: {}, reason: 'not mine to do' }, analyst.accessToken)).status, 403);
    assert.equal((await platform.http.get('/v1/aml/rules', analyst.accessToken)).status, 200);
  });

  test('when three accounts sign in from one device, then the device is alerted; two accounts are not', async () => {
    const device = `device-${unique()}-install`;
    const signIn = async (deviceId: string) => {
      const p = await newPlayer(platform);
      const res = await platform.http.post('/v1/auth/login', { email: p.email, password: p.password }, undefined, { 'x-device-id': deviceId });
      expectStatus(res, 200, 'login');
      return p.playerId;
    };
    const first = await signIn(device);
    await signIn(device);
    const other = await signIn(`device-${unique()}-other`);
    await waitFor(async () => (await platform.db.query('select 1 from compliance.aml_sign_ins where player_id = $1', [other])).length > 0, { what: 'the sign-ins to be ingested' });
    assert.equal((await alertsOf(first, 'shared-device')).length + (await alertsOf(other, 'shared-device')).length, 0);

    const third = await signIn(device);
    const [alert] = await waitFor(async () => {
      const items = await alertsOf(third, 'shared-device');
      return items.length ? items : undefined;
    }, { what: 'the shared-device alert' });
    assert.deepEqual([alert.facts.via, alert.facts.accountCount, alert.ruleVersion], ['device', 3, 2]);
    assert.ok(alert.facts.accounts.includes(first));
    assert.ok(alert.caseId);
  });

  test('when a payment method is in another name, then it is alerted; the player\'s own name, written the card way, is not', async () => {
    const compliance = platform.service<ComplianceService>('compliance');
    const player = await newPlayer(platform, { legalName: 'Ada Augusta Lovelace' });
    const own = await compliance.recordPaymentMethod({ playerId: player.playerId, provider: 'sandbox', methodRef: `card_${unique()}`, holderName: 'MRS A LOVELACE' });
    assert.equal(own.recorded, true);
    assert.ok(own.nameScore >= 0.5, String(own.nameScore));
    assert.equal(own.alertIds.length, 0);
    const ref = `card_${unique()}`;
    const foreign = await compliance.recordPaymentMethod({ playerId: player.playerId, provider: 'sandbox', methodRef: ref, holderName: 'JOHN SMITH' });
    assert.equal(foreign.alertIds.length, 1);
    const [alert] = await alertsOf(player.playerId, 'payment-method-name');
    assert.deepEqual([alert.facts.paymentMethod, alert.facts.nameScore], [`sandbox:${ref}`, 0]);
    // Reported again, the same method is nothing new.
    assert.equal((await compliance.recordPaymentMethod({ playerId: player.playerId, provider: 'sandbox', methodRef: ref, holderName: 'JOHN SMITH' })).recorded, false);
    await assert.rejects(compliance.recordPaymentMethod({ playerId: player.playerId, provider: 'sandbox', methodRef: ref, holderName: '' }), { code: 'validation-failed' });
  });

  test('when a candidate version is back-tested, then it returns the alerts it would have raised over stored history and raises none', async () => {
    const small = uuidv7();
    await settle([deposit(small, 60_000, { at: hoursAgo(5) }), deposit(small, 50_000, { at: hoursAgo(3) })]); // €1,100: under today's threshold
    assert.equal((await alertsOf(small, 'cdd-threshold')).length, 0);
    const alertsBefore = expectStatus(await platform.http.get('/v1/aml/alerts?limit=200', admin), 200, 'listAmlAlerts').items.length;
    const casesBefore = (await platform.db.query("select count(*)::int as n from compliance.cases where type = 'aml-alert'"))[0]!.n;

    const result = expectStatus(await platform.http.post('/v1/aml/rules/cdd-threshold/backtest', { parameters: { thresholdEurMinor: 100_000 } }, admin), 200, 'backtestAmlRule');
    assert.equal(result.parameters.thresholdEurMinor, 100_000);
    assert.equal(result.basedOnVersion, 1);
    assert.ok(result.triggersReplayed > 10 && !result.truncated);
    const wouldBe = result.alerts.find((a: any) => a.playerId === small);
    assert.ok(wouldBe, 'the €1,100 player would have been alerted at €1,000');
    assert.deepEqual([wouldBe.alreadyRaised, wouldBe.facts.totalEurMinor], [false, '110000']);
    assert.ok(result.alerts.some((a: any) => a.alreadyRaised), 'alerts the live rule raised are marked');
    assert.equal(new Set(result.alerts.map((a: any) => a.dedupeKey)).size, result.alerts.length, 'deduplicated like live alerts');

    const alertsAfter = expectStatus(await platform.http.get('/v1/aml/alerts?limit=200', admin), 200, 'listAmlAlerts').items.length;
    const casesAfter = (await platform.db.query("select count(*)::int as n from compliance.cases where type = 'aml-alert'"))[0]!.n;
    assert.deepEqual([alertsAfter, casesAfter], [alertsBefore, casesBefore]);
    assert.equal((await alertsOf(small, 'cdd-threshold')).length, 0);

    // The same parameters stored as a version and activated raise live alerts from then on.
    const v2 = expectStatus(await platform.http.post('/v1/aml/rules/cdd-threshold/versions', { parameters: { thresholdEurMinor: 100_000 }, reason: 'Lower threshold after back-test' }, admin), 201, 'create');
    expectStatus(await platform.http.post(`/v1/aml/rules/cdd-threshold/versions/${v2.version}/activate`, { reason: 'Back-test reviewed' }, admin), 200, 'activate');
    const later = uuidv7();
    await settle([deposit(later, 110_000)]);
    const [live] = await alertsOf(later, 'cdd-threshold');
    assert.equal(live?.ruleVersion, v2.version);

    const window = await platform.http.post('/v1/aml/rules/cdd-threshold/backtest', { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, admin);
    assert.equal(window.status, 400);
    assert.equal((await platform.http.post('/v1/aml/rules/cdd-threshold/backtest', { version: 99 }, admin)).status, 404);
  });

  test('when a player signs in, then identity publishes only keyed hashes of the IP address and device', async () => {
    const p = await newPlayer(platform);
    await loginPlayer(platform.http, p.email, p.password);
    const rows = await waitFor(async () => {
      const r = await platform.db.query<{ ip_hash: string | null; device_hash: string | null }>('select ip_hash, device_hash from compliance.aml_sign_ins where player_id = $1', [p.playerId]);
      return r.length ? r : undefined;
    }, { what: 'the sign-in' });
    assert.match(rows[0]!.ip_hash ?? '', /^[A-Za-z0-9_=+/-]{20,}$/);
    assert.ok(!(rows[0]!.ip_hash ?? '').includes('127.0.0.1'));
  });
});
