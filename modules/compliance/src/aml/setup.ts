/**
 * The AML part (ADR 0011): aggregates fed by payments and identity events, six versioned rules in
 * TypeScript evaluated as each event arrives, alerts that open `aml-alert` cases, and back-tests of
 * candidate rule versions over the stored history.
 */
import { Problems, isDomainError } from '@verity/kernel';
import type { Cases, ModulePart, PartContext } from '../contract.ts';
import { SanctionsProblems } from '../sanctions/errors.ts';
import { createBacktest } from './backtest.ts';
import { createEngine } from './engine.ts';
import { createIngest } from './ingest.ts';
import { createAmlQueries, createAmlRepository } from './repository.ts';
import { registerAmlRoutes } from './routes.ts';
import { createRuleVersions } from './rule-versions.ts';

/** A payment method payments learned the holder name of (from the PSP: card or bank account name). */
export interface PaymentMethodReport {
  playerId: string;
  /** PSP name (`stripe`, `sandbox`). */
  provider: string;
  /** The PSP's id of the method (card fingerprint, `pm_…`): never a card number. */
  methodRef: string;
  holderName: string;
}

export interface AmlPart extends ModulePart {
  /** For payments (through the compliance service): AML checks the holder name against the player. */
  recordPaymentMethod(input: PaymentMethodReport): Promise<{ recorded: boolean; nameScore: number; alertIds: string[] }>;
}

interface IdentityLike {
  getPlayerIdentity(playerId: string): Promise<{ legalName: string }>;
}

const REF = /^[A-Za-z0-9_.:-]{1,255}$/;

export function setupAml(ctx: PartContext, deps: { cases: Cases }): AmlPart {
  const repo = createAmlRepository(ctx.db);
  const queries = createAmlQueries(ctx.db);
  const versions = createRuleVersions(ctx, repo);
  const engine = createEngine({ ctx, repo, queries, versions, cases: deps.cases });
  const ingest = createIngest({ ctx, repo, engine, fx: ctx.config.amlFxRatesToEur });
  const backtest = createBacktest(ctx, repo, queries, versions);

  async function recordPaymentMethod(input: PaymentMethodReport) {
    const bad = (pointer: string, detail: string) => Problems.validation([{ pointer: `/${pointer}`, detail }]);
    if (!/^[A-Za-z0-9-]{1,64}$/.test(input?.playerId ?? '')) throw bad('playerId', 'must be a player id');
    if (!/^[a-z][a-z0-9_-]{0,30}$/.test(input.provider ?? '') || !REF.test(input.methodRef ?? '')) throw bad('methodRef', 'must be a PSP name and the PSP\'s id of the method');
    if (typeof input.holderName !== 'string' || input.holderName.trim().length === 0 || input.holderName.length > 300) throw bad('holderName', 'must be 1..300 characters');
    const identity = ctx.service<Partial<IdentityLike>>('identity');
    if (typeof identity.getPlayerIdentity !== 'function') throw SanctionsProblems.identityUnavailable(input.playerId);
    let legalName: string;
    try {
      legalName = (await identity.getPlayerIdentity(input.playerId)).legalName;
    } catch (err) {
      if (isDomainError(err)) throw err;
      throw SanctionsProblems.identityUnavailable(input.playerId);
    }
    return ingest.recordPaymentMethod({ ...input, legalName });
  }

  return {
    recordPaymentMethod,
    routes: (app) => registerAmlRoutes(app, { ctx, repo, versions, backtest }),
    subscribers: ingest.subscribers,
  };
}
