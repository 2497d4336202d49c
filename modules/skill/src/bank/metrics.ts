/**
 * Prometheus gauges of the question bank on the platform's /metrics: pass-rate alerts raised and
 * question versions suspended by them. Read from the database at scrape time (two small counts).
 */
import client from 'prom-client';
import { httpTelemetry, type Db, type HttpApp } from '@verity/kernel';

export function registerBankMetrics(app: HttpApp, db: Db): void {
  const { registry } = httpTelemetry(app).metrics;
  const counts = async () => db.one<{ alerts: bigint; suspended: bigint }>(
    `select (select count(*) from skill.pass_rate_alerts) as alerts,
            (select count(*) from skill.questions q join skill.question_versions v on v.id = q.active_version_id
              where q.retired_at is null and v.state = 'suspended') as suspended`,
  );
  new client.Gauge({
    name: 'skill_question_pass_rate_alerts',
    help: 'Question versions whose pass rate rose above the configured threshold (skill.pass-rate-alert): they no longer deter enough entrants.',
    registers: [registry],
    async collect() {
      this.set(Number((await counts()).alerts));
    },
  });
  new client.Gauge({
    name: 'skill_questions_suspended',
    help: 'Live questions whose active version is suspended by a pass-rate alert (not drawn until revised and approved).',
    registers: [registry],
    async collect() {
      this.set(Number((await counts()).suspended));
    },
  });
}
