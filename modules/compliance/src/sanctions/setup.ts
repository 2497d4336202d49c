/**
 * The sanctions part (ADR 0011): list imports (upload and daily download), screening in the style
 * of yente's logic-v1, players screened at registration, before payouts (the `screening` other
 * parts call) and again whenever a list changes; a hit holds the player and opens a case.
 */
import type { Cases, Holds, ModulePart, PartContext, Screening } from '../contract.ts';
import { downloadJob, registrationSubscriber, rescreenJob } from './handlers.ts';
import { createSanctionsRepository } from './repository.ts';
import { registerSanctionsRoutes } from './routes.ts';
import { createScreener } from './screener.ts';
import { createSanctions, type Sanctions } from './service.ts';

export interface SanctionsPart extends ModulePart {
  /** For eligibility: screen a player before a payout. */
  screening: Screening;
  internals: { sanctions: Sanctions };
}

export function setupSanctions(ctx: PartContext, deps: { cases: Cases; holds: Holds }): SanctionsPart {
  const { config } = ctx;
  if (config.sanctionsCandidateCutoff >= config.sanctionsHitThreshold) {
    throw new Error(`SANCTIONS_CANDIDATE_CUTOFF (${config.sanctionsCandidateCutoff}) must be below SANCTIONS_HIT_THRESHOLD (${config.sanctionsHitThreshold})`);
  }
  const repo = createSanctionsRepository(ctx.db);
  const screen = createScreener(repo, { hitThreshold: config.sanctionsHitThreshold, candidateCutoff: config.sanctionsCandidateCutoff });
  const sanctions = createSanctions({ ctx, repo, screen, cases: deps.cases, holds: deps.holds, importMaxBytes: config.sanctionsImportMaxBytes });
  const handlerDeps = { ctx, repo, sanctions };
  const download = downloadJob(handlerDeps);
  const downloadConfigured = [...(config.sanctionsOfsiUrl ? ['ofsi'] : []), ...(config.sanctionsOfacUrl ? ['ofac-sdn'] : [])];
  return {
    screening: { screenPlayer: sanctions.screenPlayer, latest: sanctions.latest },
    internals: { sanctions },
    routes: (app) => registerSanctionsRoutes(app, { ctx, repo, sanctions, importMaxBytes: config.sanctionsImportMaxBytes, downloadConfigured }),
    subscribers: [registrationSubscriber(handlerDeps)],
    jobs: [rescreenJob(handlerDeps, config.sanctionsRescreenBatchSize), ...(download ? [download] : [])],
  };
}
