/** The price of the audit chain: a bare insert+commit against an audit record append. */
import { createAuditLog } from '../packages/kernel/src/audit/audit.ts';
import type { Db } from '../packages/kernel/src/db/db.ts';
import { round } from './http.ts';
import { runLanes } from './lanes.ts';

export interface RateFigures {
  perS: number;
  meanMs: number;
  p99Ms: number;
}

/** Runs `op` back to back on `concurrency` lanes for `durationMs`. */
async function runFor(durationMs: number, concurrency: number, op: () => Promise<unknown>): Promise<RateFigures> {
  const times: number[] = [];
  const { perS } = await runLanes(durationMs, concurrency, op, times);
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  return { perS: round(perS), meanMs: round(mean, 3), p99Ms: round(times[Math.floor(times.length * 0.99)]!, 3) };
}

export interface CommitVsAudit {
  concurrency: number;
  bareCommit: RateFigures;
  auditAppend: RateFigures;
  /** Audit appends per second divided by bare commits per second. */
  throughputRatio: number;
}

export async function commitVsAudit(db: Db, options: { durationMs: number; concurrency: number }): Promise<CommitVsAudit> {
  await db.query('create table if not exists public.bench_commits (id bigint generated always as identity primary key, data jsonb not null)');
  const audit = createAuditLog(db, 'bench');
  const payload = { actor: 'system', action: 'bench.appended', subject: 'bench:1', data: { n: 1, note: 'benchmark' } };
  const bareCommit = await runFor(options.durationMs, options.concurrency, () =>
    db.tx(() => db.query('insert into public.bench_commits (data) values ($1)', [JSON.stringify(payload)])),
  );
  const auditAppend = await runFor(options.durationMs, options.concurrency, () => audit.record(payload));
  return { concurrency: options.concurrency, bareCommit, auditAppend, throughputRatio: round(auditAppend.perS / bareCommit.perS, 3) };
}
