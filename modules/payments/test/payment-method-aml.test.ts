/**
 * The card behind a deposit, checked by compliance's AML rule "payment-method name not matching the
 * player": the platform with identity, the real kyc module (sandbox vendor), compliance and payments.
 * A deposit paid with a card in another person's name opens an aml-alert case; one in the player's
 * own name is recorded and does not. The name reaches compliance through a payments job, never in
 * an event or in clear in the job queue. Without a compliance module the report is dropped cleanly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor, type TestPlatform } from '@verity/kernel/testing';
import { operatorSession, playerToken } from '@verity/identity/testing';
import { complianceModule } from '@verity/compliance';
import { kycModule } from '@verity/kyc';
import { DEBIT_CHALLENGE, DEBIT_FRICTIONLESS, completeChallenge, deposit, freePort, startPspPlatform, waitForDeposit, type PspPlatform } from './support/psp.ts';

const REPORT_QUEUE = 'payments.job.deposit-payment-method';

/** A player the kyc sandbox approves (last name "Approve") and compliance lets deposit. */
async function eligiblePlayer(platform: TestPlatform, legalName: string) {
  const player = await playerToken(platform.http, { legalName });
  const started = await platform.http.post('/v1/kyc', undefined, player.accessToken);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  await waitFor(async () => (await platform.http.get('/v1/eligibility', player.accessToken)).body.deposit?.allowed === true || undefined, { what: 'the player to be allowed to deposit', timeoutMs: 15_000 });
  return player;
}

/** The jobs that carried this deposit's report, once each has run. */
async function finishedReports(platform: TestPlatform, depositId: string) {
  return waitFor(async () => {
    const rows = await platform.db.query<{ state: string; data: string }>(
      `select state::text, data::text from pgboss.job where name = $1 and data->'data'->>'depositId' = $2`,
      [REPORT_QUEUE, depositId],
    );
    return rows.length > 0 && rows.every((r) => r.state === 'completed') ? rows : undefined;
  }, { what: 'the payment-method report to run', timeoutMs: 15_000 });
}

describe('payment-method AML check of deposits', () => {
  let p: PspPlatform;
  let analyst: string;
  before(async () => {
    p = await startPspPlatform({
      KYC_PROVIDER: 'sandbox',
      KYC_SANDBOX_PORT: String(await freePort()),
      KYC_SANDBOX_CHECK_DELAY_MS: '50',
      KYC_CHECK_POLL_S: '1',
      QUEUE_SUPERVISE_INTERVAL_S: '1',
      // The webhook, not a status query, settles the challenged deposit.
      PAYMENTS_DEPOSIT_STATUS_CHECK_S: '120',
    }, [kycModule, complianceModule]);
    analyst = (await operatorSession(p.platform, ['compliance-analyst'])).accessToken;
  });
  after(() => p?.platform.stop());

  const amlCases = async (playerId: string) => {
    const res = await p.platform.http.get(`/v1/cases?type=aml-alert&playerId=${playerId}`, analyst);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items as { caseId: string; subject: string; data: Record<string, any> }[];
  };

  it('when a deposit is paid with a card in another person\'s name, then compliance opens an aml-alert case on the player', async () => {
    const player = await eligiblePlayer(p.platform, 'Grace Approve');
    const res = await deposit(p.platform, player.accessToken, { amountMinor: '2000', paymentMethod: DEBIT_CHALLENGE, cardholderName: 'JOHN  SMITH ' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'requires_action');
    await completeChallenge(res.body.actionUrl);
    await waitForDeposit(p.platform, res.body.depositId, (d) => d.status === 'succeeded', 'the deposit to succeed');
    const settledBy = await p.platform.db.one<{ outcome: string }>("select outcome from payments.psp_webhook_events where reference = $1 and event_type = 'payment.succeeded'", [res.body.depositId]);
    assert.equal(settledBy.outcome, 'applied');

    const [alertCase, ...more] = await waitFor(async () => {
      const items = await amlCases(player.playerId);
      return items.length ? items : undefined;
    }, { what: 'the aml-alert case', timeoutMs: 15_000 });
    assert.equal(more.length, 0);
    assert.equal(alertCase!.subject, `player:${player.playerId}`);
    assert.equal(alertCase!.data.ruleId, 'payment-method-name');
    assert.match(alertCase!.data.facts.paymentMethod, /^sandbox:fp_[0-9a-f]{24}$/);
    assert.equal(alertCase!.data.facts.nameScore, 0);

    // The name went to compliance, and nowhere in clear on the way.
    const reports = await finishedReports(p.platform, res.body.depositId);
    for (const r of reports) assert.doesNotMatch(r.data, /SMITH/i);
    const events = await p.platform.db.query<{ data: string }>("select data::text from payments.outbox where subject = $1", [res.body.depositId]);
    assert.ok(events.length > 0);
    for (const e of events) assert.doesNotMatch(e.data, /SMITH/i);
    const stored = await p.platform.db.one<{ row: string }>('select row_to_json(d)::text as row from payments.deposits d where deposit_id = $1', [res.body.depositId]);
    assert.doesNotMatch(stored.row, /SMITH/i);
  });

  it('when a deposit is paid with a card in the player\'s own name, then the card is recorded and no alert is raised', async () => {
    const player = await eligiblePlayer(p.platform, 'Grace Approve');
    const res = await deposit(p.platform, player.accessToken, { amountMinor: '1500', paymentMethod: DEBIT_FRICTIONLESS, cardholderName: 'MS GRACE APPROVE' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'succeeded');
    await finishedReports(p.platform, res.body.depositId);
    // Compliance's own record of the card (the holder name is kept there encrypted; only its score is read).
    const [method, ...others] = await p.platform.db.query<{ name_score: string }>('select name_score::text from compliance.aml_payment_methods where player_id = $1', [player.playerId]);
    assert.equal(others.length, 0);
    assert.ok(Number(method!.name_score) >= 0.5, method!.name_score);
    assert.deepEqual(await amlCases(player.playerId), []);
  });

  it('when the cardholder name is blank or has control characters, then the deposit is a 400 problem and nothing is charged', async () => {
    const player = await eligiblePlayer(p.platform, 'Grace Approve');
    for (const cardholderName of ['   ', 'JOHN\nSMITH', 'x'.repeat(101)]) {
      const res = await deposit(p.platform, player.accessToken, { amountMinor: '1000', paymentMethod: DEBIT_FRICTIONLESS, cardholderName });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'validation-failed');
    }
    const rows = await p.platform.db.query('select 1 from payments.deposits where player_id = $1', [player.playerId]);
    assert.equal(rows.length, 0);
  });
});

describe('payment-method report without a compliance module', () => {
  let p: PspPlatform;
  before(async () => {
    p = await startPspPlatform({ QUEUE_SUPERVISE_INTERVAL_S: '1' });
  });
  after(() => p?.platform.stop());

  it('when a deposit with a cardholder name succeeds and no compliance module runs, then the deposit is credited and the report is dropped, not retried', async () => {
    const player = await playerToken(p.platform.http);
    const res = await deposit(p.platform, player.accessToken, { amountMinor: '1200', paymentMethod: DEBIT_FRICTIONLESS, cardholderName: 'JOHN SMITH' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'succeeded');
    const [report, ...more] = await finishedReports(p.platform, res.body.depositId);
    assert.equal(more.length, 0);
    assert.equal(report!.state, 'completed');
    const retried = await p.platform.db.query("select 1 from pgboss.job where name = $1 and retry_count > 0 and data->'data'->>'depositId' = $2", [REPORT_QUEUE, res.body.depositId]);
    assert.equal(retried.length, 0);
  });
});
