/**
 * SLA timers of cases on the kernel queue (short SLAs via COMPLIANCE_CASE_SLA_SECONDS): the reminder
 * at 75 %, the escalation when overdue, nothing for a closed case, and a timer that was pending when
 * the platform stopped firing exactly once in the platform started after it on the same database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { coreEnv, coreModules, operator, outboxEvents, startCorePlatform, type CorePlatform } from './support/core.ts';

const historyActions = async (p: TestPlatform, caseId: string) =>
  (await p.db.query<{ action: string }>('select action from compliance.case_history where case_id = $1 order by seq', [caseId])).map((r) => r.action);

/** The queue's record of a case timer: `created` while pending, `completed` once it ran. */
const timerStates = async (p: TestPlatform, caseId: string) =>
  (await p.db.query<{ name: string; state: string }>("select name, state from pgboss.job where singleton_key in ($1, $2) order by name, created_on", [`${caseId}:reminder`, `${caseId}:escalation`]));

const bothTimersDone = (p: TestPlatform, caseId: string) => waitFor(async () => {
  const states = await timerStates(p, caseId);
  return states.length === 2 && states.every((s) => s.state === 'completed');
}, { what: 'both SLA timers to complete', timeoutMs: 20_000 });

describe('case SLA timers', () => {
  describe('on one platform', { concurrency: true }, () => {
    let cp: CorePlatform;
    let manager: Awaited<ReturnType<typeof operator>>;
    before(async () => {
      cp = await startCorePlatform({ env: { COMPLIANCE_CASE_SLA_SECONDS: 'complaint=4,payout-exception=2' } });
      manager = await operator(cp.platform);
    });
    after(() => cp?.platform.stop());

    it('when a case passes 75 % of its SLA and then its due time, then one reminder and one escalation are recorded in history, audit and events', async () => {
      const opened = await cp.platform.http.post('/v1/cases', { type: 'complaint', subject: 'player:01900000-0000-7000-8000-00000000abcd', summary: 'Withdrawal slow' }, manager.accessToken);
      const caseId = opened.body.case.caseId;
      assert.equal(new Date(opened.body.case.dueAt).getTime() - new Date(opened.body.case.createdAt).getTime(), 4000);
      await waitFor(async () => (await historyActions(cp.platform, caseId)).includes('escalated'), { what: 'the escalation', timeoutMs: 15_000 });
      await bothTimersDone(cp.platform, caseId);
      assert.deepEqual(await historyActions(cp.platform, caseId), ['opened', 'sla-reminder', 'escalated']);
      const view = await cp.platform.http.get(`/v1/cases/${caseId}`, manager.accessToken);
      assert.equal(view.body.case.overdue, true);
      assert.ok(view.body.case.remindedAt && view.body.case.escalatedAt);
      assert.ok(new Date(view.body.case.remindedAt) < new Date(view.body.case.escalatedAt));
      assert.equal(view.body.history.at(-1).detail.escalatedTo, 'compliance-manager');
      assert.equal((await outboxEvents(cp.platform, 'compliance.case-sla-reminder.v1', caseId)).length, 1);
      assert.deepEqual((await outboxEvents(cp.platform, 'compliance.case-escalated.v1', caseId)).map((e) => e.escalatedTo), ['compliance-manager']);
      const audit = await cp.platform.db.query<{ action: string }>("select action from kernel.audit_log where subject = $1 and actor = 'system' order by sequence", [`case:${caseId}`]);
      assert.deepEqual(audit.map((a) => a.action), ['compliance.case-sla-reminder', 'compliance.case-escalated']);
      const overdue = await cp.platform.http.get('/v1/cases?overdue=true', manager.accessToken);
      assert.ok(overdue.body.items.some((c: any) => c.caseId === caseId));
    });

    it('when a case is decided before its SLA runs out, then its timers fire into nothing', async () => {
      const opened = await cp.platform.http.post('/v1/cases', { type: 'payout-exception', subject: 'player:01900000-0000-7000-8000-00000000abce', summary: 'Payout pending at bank' }, manager.accessToken);
      const caseId = opened.body.case.caseId;
      await cp.platform.http.post(`/v1/cases/${caseId}/decisions`, { outcome: 'resolved', reason: 'Bank confirmed payment' }, manager.accessToken);
      await bothTimersDone(cp.platform, caseId);
      assert.deepEqual(await historyActions(cp.platform, caseId), ['opened', 'decided']);
    });
  });

  it('when the platform stops with a case timer pending and another starts on the same database, then the timers fire once', async () => {
    const { env } = await coreEnv({ env: { COMPLIANCE_CASE_SLA_SECONDS: 'aml-alert=8' } });
    const first = await startTestPlatform({ modules: coreModules(), env });
    let caseId: string;
    let databaseUrl: string;
    try {
      databaseUrl = first.config.databaseUrl!;
      caseId = (await first.service<any>('compliance').openCase({ type: 'aml-alert', subject: 'player:01900000-0000-7000-8000-00000000abcf', summary: 'Velocity x10', data: {} })).caseId;
      assert.deepEqual((await timerStates(first, caseId)).map((s) => s.state), ['created', 'created'], 'both timers wait in the queue');
    } finally {
      await first.stop();
    }
    const { env: env2 } = await coreEnv({ env: { COMPLIANCE_CASE_SLA_SECONDS: 'aml-alert=8' } });
    const second = await startTestPlatform({ modules: coreModules(), env: env2, config: { databaseUrl } });
    try {
      assert.deepEqual(await historyActions(second, caseId), ['opened'], 'nothing fired while no platform ran');
      await waitFor(async () => (await historyActions(second, caseId)).includes('escalated'), { what: 'the escalation after the restart', timeoutMs: 20_000 });
      await bothTimersDone(second, caseId);
      assert.deepEqual(await historyActions(second, caseId), ['opened', 'sla-reminder', 'escalated']);
      const events = await second.db.query<{ type: string }>("select type from compliance.outbox where subject = $1 and type like 'compliance.case-%' order by position", [caseId]);
      assert.deepEqual(events.map((e) => e.type), ['compliance.case-opened.v1', 'compliance.case-sla-reminder.v1', 'compliance.case-escalated.v1']);
    } finally {
      await second.stop();
    }
  });
});
