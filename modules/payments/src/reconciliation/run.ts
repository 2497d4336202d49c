/**
 * One reconciliation run: proves the ledger (entries sum to zero per currency; every account's
 * stored balance and holds equal its entries and pending transfers) and compares the PSP's
 * settlement report of a day with our movements. Every discrepancy becomes a finance exception.
 */
import { uuidv7, type Logger } from '@verity/kernel';
import type { PartContext, PspAdapter, SettlementLine } from '../contract.ts';
import type { FinanceExceptions, RaiseInput } from './exceptions.ts';
import type { ReconciliationRepository } from './repository.ts';
import { compareSettlement, shiftDay, type SettlementComparison } from './settlement.ts';

/** Findings per check and run: a broken ledger must not drown finance in a million rows. */
const FINDINGS_MAX = 500;
const MOVEMENTS_MAX = 2_000_000;
const REPORTED_MAX = 100;

export interface ReconciliationReport {
  runId: string;
  trigger: 'scheduled' | 'manual';
  settlementDay: string;
  status: 'clean' | 'discrepancies' | 'failed';
  ledger: { unbalancedCurrencies: number; balanceMismatches: number };
  settlement: { provider: string; lines: number; movements: number; matched: number; missing: number; extra: number; amountMismatch: number; error?: string };
  /** Discrepancies found (at most 100 listed); `exceptionId` absent when the same one was open already. */
  discrepancies: { kind: string; subject: string; exceptionId?: string }[];
  discrepancyCount: number;
  startedAt: Date;
  finishedAt: Date;
}

export function createReconciliation(deps: { ctx: PartContext; repo: ReconciliationRepository; psp: PspAdapter; exceptions: FinanceExceptions }) {
  const { ctx, repo, psp, exceptions } = deps;
  const log: Logger = ctx.log.child({ component: 'reconciliation' });

  async function ledgerFindings(): Promise<RaiseInput[]> {
    return repo.integritySnapshot(async () => {
      const found: RaiseInput[] = [];
      for (const u of await repo.unbalancedCurrencies(FINDINGS_MAX)) {
        found.push({ kind: 'entries-unbalanced', subject: u.currency, currency: u.currency, details: { currency: u.currency, sumMinor: u.sumMinor, transferIds: u.transferIds } });
      }
      for (const m of await repo.balanceMismatches(FINDINGS_MAX)) {
        found.push({ kind: 'balance-mismatch', subject: `account:${m.accountId}`, currency: m.currency, details: { ...m } });
      }
      return found;
    });
  }

  async function settlementFindings(day: string): Promise<{ comparison: SettlementComparison; found: RaiseInput[] }> {
    const reports: { line: SettlementLine; ofDay: boolean }[] = [];
    for (const d of [shiftDay(day, -1), day, shiftDay(day, 1)]) {
      for (const line of await psp.settlementReport(d)) reports.push({ line, ofDay: d === day });
    }
    const from = new Date(`${shiftDay(day, -1)}T00:00:00.000Z`);
    const to = new Date(`${shiftDay(day, 2)}T00:00:00.000Z`);
    const movements = await repo.clearingMovements(psp.name, from, to, MOVEMENTS_MAX);
    const comparison = compareSettlement(reports, movements, day);
    const found = comparison.discrepancies.slice(0, FINDINGS_MAX).map((d): RaiseInput => ({
      kind: d.kind, subject: d.key, currency: d.currency,
      details: { settlementDay: day, provider: psp.name, settlementKind: d.settlementKind, reference: d.reference, pspAmountMinor: d.pspAmountMinor, ourAmountMinor: d.ourAmountMinor, pspObjectIds: d.pspObjectIds, transferIds: d.transferIds },
    }));
    return { comparison, found };
  }

  async function run(input: { trigger: 'scheduled' | 'manual'; requestedBy: string; day?: string }): Promise<ReconciliationReport> {
    const runId = uuidv7();
    const day = input.day ?? (await repo.yesterdayUtc());
    const startedAt = await ctx.db.now();
    await repo.insertRun({ id: runId, trigger: input.trigger, requestedBy: input.requestedBy, settlementDay: day });
    const findings = await ledgerFindings();
    const count = (kind: RaiseInput['kind']) => findings.filter((f) => f.kind === kind).length;
    const ledger = { unbalancedCurrencies: count('entries-unbalanced'), balanceMismatches: count('balance-mismatch') };
    const settlement: ReconciliationReport['settlement'] = { provider: psp.name, lines: 0, movements: 0, matched: 0, missing: 0, extra: 0, amountMismatch: 0 };
    try {
      const { comparison, found } = await settlementFindings(day);
      Object.assign(settlement, { lines: comparison.lines, movements: comparison.movements, matched: comparison.matched });
      for (const d of comparison.discrepancies) {
        if (d.kind === 'settlement-missing') settlement.missing++;
        else if (d.kind === 'settlement-extra') settlement.extra++;
        else settlement.amountMismatch++;
      }
      findings.push(...found);
    } catch (err) {
      // The ledger checks still count; the settlement comparison is retried by the next run.
      settlement.error = err instanceof Error ? err.message.slice(0, 300) : 'settlement report unavailable';
      log.error({ err, runId, day }, 'reconciliation: the settlement report could not be compared');
    }
    const discrepancies: ReconciliationReport['discrepancies'] = [];
    for (const f of findings) {
      const e = await exceptions.raise({ ...f, runId });
      if (discrepancies.length < REPORTED_MAX) discrepancies.push({ kind: f.kind, subject: f.subject, ...(e ? { exceptionId: e.id } : {}) });
    }
    const status = settlement.error ? 'failed' : findings.length ? 'discrepancies' : 'clean';
    const report: ReconciliationReport = {
      runId, trigger: input.trigger, settlementDay: day, status, ledger, settlement, discrepancies, discrepancyCount: findings.length,
      startedAt, finishedAt: await ctx.db.now(),
    };
    await repo.finishRun(runId, status === 'failed' ? 'failed' : 'completed', report, findings.length);
    log.info({ runId, day, status, discrepancies: findings.length }, 'reconciliation run finished');
    return report;
  }

  return { run };
}

export type Reconciliation = ReturnType<typeof createReconciliation>;
