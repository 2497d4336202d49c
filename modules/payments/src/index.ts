/**
 * The payments module: double-entry ledger, wallets, PSP deposits and payouts, deposit limits,
 * reconciliation (ARCHITECTURE §6). This file is its only import surface.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '@verity/kernel';
import type { BalanceView, TransferView } from './contract.ts';
import { resolveComplianceGate } from './compliance-gate.ts';
import { setupDeposits } from './deposits/setup.ts';
import { setupLedger } from './ledger/setup.ts';
import { setupPayouts } from './payouts/setup.ts';
import { setupSelfExclusionReturn } from './payouts/self-exclusion.ts';
import { setupPsp } from './psp/setup.ts';
import { setupReconciliation } from './reconciliation/setup.ts';
import { setupWallet } from './wallet/setup.ts';

export type { AccountRef, AccountType, BalanceView, TransferState, TransferView, ComplianceGate, GateDecision } from './contract.ts';

/** What other modules (ticketing, draws) call. Amounts are bigint minor units. */
export interface PaymentsService {
  /** Holds `amountMinor` of the player's wallet for a purchase (player_wallet → house_sales of the competition). */
  reserve(input: { transferId: string; playerId: string; competitionId: string; amountMinor: bigint; currency: string; timeoutS?: number; metadata?: Record<string, unknown> }): Promise<TransferView>;
  post(input: { transferId: string; pendingTransferId: string; amountMinor?: bigint }): Promise<TransferView>;
  void(input: { transferId: string; pendingTransferId: string; reason: string }): Promise<TransferView>;
  /** Pays a cash prize into the winner's wallet (prize_liability of the competition → player_wallet). */
  creditPrize(input: { transferId: string; playerId: string; competitionId: string; amountMinor: bigint; currency: string; drawId?: string }): Promise<TransferView>;
  /** Returns (part of) a posted purchase to the player's wallet. */
  refund(input: { transferId: string; originalTransferId: string; amountMinor?: bigint; reason: string }): Promise<TransferView>;
  balance(input: { playerId: string; currency: string }): Promise<BalanceView>;
}

export const paymentsModule = defineModule<PaymentsService>({
  name: 'payments',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['reserve', 'post', 'void', 'creditPrize', 'refund', 'balance'],
  async setup(ctx) {
    const ledger = setupLedger(ctx);
    const psp = await setupPsp(ctx);
    const gate = resolveComplianceGate(ctx);
    const parts = [
      ledger,
      psp, // the webhook endpoint: verified PSP events go to the parts' `pspEvents`
      setupDeposits(ctx, { ledger: ledger.ledger, psp: psp.psp, gate }),
      setupPayouts(ctx, { ledger: ledger.ledger, psp: psp.psp, gate }),
      setupSelfExclusionReturn(ctx, { ledger: ledger.ledger, psp: psp.psp, gate }),
      setupWallet(ctx, { ledger: ledger.ledger }),
      setupReconciliation(ctx, { ledger: ledger.ledger, psp: psp.psp }),
    ];
    psp.dispatchTo(parts);
    return {
      service: ledger.service,
      async routes(app) {
        for (const part of parts) await part.routes?.(app);
      },
      subscribers: parts.flatMap((p) => p.subscribers ?? []),
      jobs: parts.flatMap((p) => p.jobs ?? []),
      start: () => psp.start(),
      async stop() {
        // Commands already queued in the ledger's batcher are written before the PSP sandbox stops.
        await ledger.stop();
        await psp.stop();
      },
    };
  },
});
