/**
 * The compliance module: eligibility, safer gambling, cases with SLA timers, AML rules, sanctions
 * screening, retention and evidence packages. This file is its only import surface.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule, isDomainError } from '@verity/kernel';
import type { PaymentMethodReport } from './aml/setup.ts';
import { setupAml } from './aml/setup.ts';
import { setupCases } from './cases/setup.ts';
import type { GateDecision, OpenCaseInput } from './contract.ts';
import { setupEligibility } from './eligibility/setup.ts';
import { setupRetention } from './retention/setup.ts';
import { setupSanctions } from './sanctions/setup.ts';

export type { CaseType, EligibilityReason, GateDecision, OpenCaseInput } from './contract.ts';
export type { PaymentMethodReport } from './aml/setup.ts';

/** What other modules call before acting (payments, ticketing) and to raise cases. */
export interface ComplianceService {
  canDeposit(input: { playerId: string; amountMinor: bigint; currency: string }): Promise<GateDecision>;
  canPurchase(input: { playerId: string; amountMinor: bigint; currency: string; competitionId?: string }): Promise<GateDecision>;
  canWithdraw(input: { playerId: string; amountMinor: bigint; currency: string }): Promise<GateDecision>;
  openCase(input: OpenCaseInput): Promise<{ caseId: string }>;
  /** Payments reports a payment method whose holder name the PSP gave: AML compares it with the player's legal name. */
  recordPaymentMethod(input: PaymentMethodReport): Promise<{ recorded: boolean; nameScore: number; alertIds: string[] }>;
}

export const complianceModule = defineModule<ComplianceService>({
  name: 'compliance',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['canDeposit', 'canPurchase', 'canWithdraw', 'openCase', 'recordPaymentMethod'],
  setup(ctx) {
    const cases = setupCases(ctx);
    const eligibility = setupEligibility(ctx, { cases: cases.cases, holds: cases.holds });
    const sanctions = setupSanctions(ctx, { cases: cases.cases, holds: cases.holds });
    const aml = setupAml(ctx, { cases: cases.cases });
    const retention = setupRetention(ctx, { cases: cases.cases, core: { cases: cases.internals, eligibility: eligibility.internals } });
    const parts = [cases, eligibility, sanctions, aml, retention];
    return {
      service: {
        canDeposit: eligibility.canDeposit,
        canPurchase: eligibility.canPurchase,
        async canWithdraw(input) {
          // Every payout is screened against the current lists first: a hit places the sanctions
          // hold that the eligibility check then refuses on (aml-sanctions, ADR 0011).
          try {
            await sanctions.screening.screenPlayer(input.playerId, 'payout');
          } catch (err) {
            if (!(isDomainError(err) && (err.status === 404 || err.status === 410))) throw err;
          }
          return eligibility.canWithdraw(input);
        },
        async openCase(input) {
          return { caseId: (await cases.cases.open(input)).caseId };
        },
        recordPaymentMethod: aml.recordPaymentMethod,
      },
      async routes(app) {
        for (const part of parts) await part.routes?.(app);
      },
      subscribers: parts.flatMap((p) => p.subscribers ?? []),
      jobs: parts.flatMap((p) => p.jobs ?? []),
      async start() {
        for (const part of parts) await part.start?.();
      },
      async stop() {
        for (const part of [...parts].reverse()) await part.stop?.();
      },
    };
  },
});
