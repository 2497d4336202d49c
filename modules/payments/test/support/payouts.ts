/**
 * Test support for wallet, withdrawal, payout and reconciliation tests: a compliance module fixture,
 * a platform with the sandbox PSP on a known port, wallet funding through the ledger, sandbox
 * controls, and a fake OIDC issuer to mint operator tokens with any sign-in time.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, defineModule } from '@verity/kernel';
import type { GateDecision } from '@verity/payments';
import { startTestPlatform, waitFor, type TestPlatform, freePort } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { paymentsModule } from '@verity/payments';
import { createLedger, DEFAULT_BATCHING, type LedgerEngine } from '../../src/ledger/ledger.ts';

export const PROVIDER = 'sandbox';

/** A compliance module: allows everyone unless told to refuse a player; records the cases opened. */
export function complianceFixture() {
  const refused = new Map<string, string[]>();
  const cases: { caseId: string; type: string; subject: string; summary: string; data: Record<string, unknown> }[] = [];
  const decide = async ({ playerId }: { playerId: string }): Promise<GateDecision> => {
    const reasons = refused.get(playerId);
    return reasons ? { allowed: false, reasons } : { allowed: true, reasons: [] };
  };
  const module = defineModule({
    name: 'compliance',
    migrationsDir: path.join(import.meta.dirname, 'no-migrations'),
    remoteMethods: [],
    setup: () => ({
      service: {
        canDeposit: decide,
        canWithdraw: decide,
        async openCase(input: { type: string; subject: string; summary: string; data: Record<string, unknown> }) {
          const caseId = randomUUID();
          cases.push({ caseId, ...input });
          return { caseId };
        },
      },
    }),
  });
  return { module, cases, refuse: (playerId: string, reasons: string[]) => void refused.set(playerId, reasons) };
}

export { freePort };

export interface PayoutsPlatform {
  platform: TestPlatform;
  ledger: LedgerEngine;
  sandboxUrl: string;
}

/** Payments + identity (+ extra modules), the sandbox PSP on a known port, fast payout retries. */
export async function startPayoutsPlatform(options: { modules?: any[]; env?: Record<string, string>; config?: Record<string, unknown> } = {}): Promise<PayoutsPlatform> {
  const port = await freePort();
  const platform = await startTestPlatform({
    modules: [identityModule, paymentsModule, ...(options.modules ?? [])],
    env: {
      PSP_PROVIDER: 'sandbox',
      PSP_SANDBOX_PORT: String(port),
      PSP_RETRY_MAX: '0',
      PSP_BREAKER_HALF_OPEN_MS: '200',
      PAYMENTS_PAYOUT_SETTLE_DELAY_S: '1',
      PAYMENTS_PAYOUT_RETRY_DELAY_S: '1',
      PAYMENTS_PAYOUT_RETRY_LIMIT: '1',
      QUEUE_SUPERVISE_INTERVAL_S: '2',
      ...options.env,
    },
    config: options.config as never,
  });
  const ledger = createLedger({ db: platform.db, log: createLogger('silent'), houseShards: 1, batching: { ...DEFAULT_BATCHING, maxBatch: 1 } });
  return { platform, ledger, sandboxUrl: `http://127.0.0.1:${port}` };
}

/**
 * Money in as a deposit books it: psp_clearing → player_wallet, with the PSP payment it came from
 * (a payout goes back to that payment's method; `pspPaymentId` containing "decline" makes the
 * sandbox bank bounce the payout).
 */
export async function fundWallet(ledger: LedgerEngine, playerId: string, amountMinor: bigint, options: { currency?: string; pspPaymentId?: string; settledIn?: TestPlatform } = {}): Promise<string> {
  const depositId = randomUUID();
  const currency = options.currency ?? 'GBP';
  const pspPaymentId = options.pspPaymentId ?? `pay_test_${depositId.slice(0, 8)}`;
  // With `settledIn`, the sandbox's settlement report lists it too (as a real deposit would be).
  if (options.settledIn) appendSettlementLine(options.settledIn, { kind: 'payment', pspObjectId: pspPaymentId, reference: depositId, amountMinor, currency });
  await ledger.transfer({
    transferId: randomUUID(),
    kind: 'deposit',
    debit: { type: 'psp_clearing', ownerId: PROVIDER, currency },
    credit: { type: 'player_wallet', ownerId: playerId, currency },
    amountMinor,
    metadata: { depositId, reference: depositId, pspPaymentId },
  });
  return depositId;
}

/**
 * A line in the sandbox PSP's settlement report of `settledAt`'s day, as if the PSP had settled it
 * (deposits booked straight into the ledger by `fundWallet` have no sandbox payment behind them).
 */
export function appendSettlementLine(platform: TestPlatform, line: { kind: 'payment' | 'payout' | 'refund'; pspObjectId: string; reference: string; amountMinor: bigint; currency?: string; settledAt?: Date }): void {
  const dir = path.join(platform.config.dataDir, 'psp-sandbox', 'settlements');
  mkdirSync(dir, { recursive: true });
  const at = (line.settledAt ?? new Date()).toISOString();
  appendFileSync(path.join(dir, `${at.slice(0, 10)}.csv`), `${line.kind},${line.pspObjectId},${line.reference},${line.amountMinor},${line.currency ?? 'GBP'},${at}\n`);
}

export async function sandboxControl(sandboxUrl: string, patch: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sandboxUrl}/sandbox/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  if (res.status !== 200) throw new Error(`sandbox control: ${res.status} ${await res.text()}`);
}

/** Payout objects the sandbox created for one of our references (from its journal: its last state each). */
export function sandboxPayouts(platform: TestPlatform, reference: string): { id: string; status: string; reference: string }[] {
  const file = path.join(platform.config.dataDir, 'psp-sandbox', 'objects.jsonl');
  if (!existsSync(file)) return [];
  const byId = new Map<string, { id: string; status: string; reference: string }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line) as { object: string; id: string; status: string; reference: string };
    if (o.object === 'payout' && o.reference === reference) byId.set(o.id, o);
  }
  return [...byId.values()];
}

export const idem = () => ({ 'idempotency-key': randomUUID() });

export async function requestWithdrawal(platform: TestPlatform, token: string, amountMinor: string, currency = 'GBP') {
  return platform.http.post('/v1/wallet/withdrawals', { amountMinor, currency }, token, idem());
}

export async function withdrawalStatus(platform: TestPlatform, id: string): Promise<string | undefined> {
  return (await platform.db.maybeOne<{ status: string }>('select status from payments.withdrawals where id = $1', [id]))?.status;
}

export async function waitForStatus(platform: TestPlatform, id: string, status: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await withdrawalStatus(platform, id)) === status, { timeoutMs, intervalMs: 100, what: `withdrawal ${id} to be ${status} (is ${await withdrawalStatus(platform, id)})` });
}

export async function walletBalance(platform: TestPlatform, playerId: string, currency = 'GBP'): Promise<{ posted: bigint; reserved: bigint }> {
  const row = await platform.db.one<{ posted: bigint; reserved: bigint }>(
    `select coalesce(sum(posted_credits - posted_debits), 0)::bigint as posted, coalesce(sum(pending_debits), 0)::bigint as reserved
       from payments.accounts where type = 'player_wallet' and owner_id = $1 and currency = $2`,
    [playerId, currency],
  );
  return row;
}

/** A Cognito-like issuer whose tokens say whatever a test needs (roles, amr, auth_time). */
export { fakeOidcIssuer as fakeIssuer } from '@verity/kernel/testing';
