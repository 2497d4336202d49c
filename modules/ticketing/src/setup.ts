/**
 * The composition of the ticketing module: repositories, caches, the number pool, the use cases of
 * each part, their routes and jobs, and the TicketingService other modules call.
 */
import { Problems, type JobDefinition } from '@verity/kernel';
import type { ComplianceService } from '@verity/compliance';
import type { PaymentsService } from '@verity/payments';
import type { Failpoints, ModulePart, PartContext, Ports, SkillService } from './contract.ts';
import { createCompetitionCache, createSoldCounters } from './competitions/cache.ts';
import { createCompetitionsRepository } from './competitions/repository.ts';
import { registerCompetitionRoutes } from './competitions/routes.ts';
import { createCompetitionService, REFUND_JOB, TIMER_JOB, type TimerData } from './competitions/service.ts';
import { competitionView } from './competitions/views.ts';
import { createEntries, ENTRIES_PAGE_MAX } from './entries.ts';
import type { TicketingService } from './index.ts';
import { createAllocator } from './pool/allocator.ts';
import { createPoolRepository } from './pool/repository.ts';
import { createPostalRepository } from './postal/repository.ts';
import { registerPostalRoutes } from './postal/routes.ts';
import { createPostalService } from './postal/service.ts';
import { createPostedMarker } from './purchases/poster.ts';
import { createRecovery, RECOVERY_BATCH_MAX, RECOVERY_JOB } from './purchases/recovery.ts';
import { createRefunds } from './purchases/refunds.ts';
import { createPurchasesRepository } from './purchases/repository.ts';
import { registerPurchaseRoutes } from './purchases/routes.ts';
import { createPurchaseService } from './purchases/service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SWEEP_LIMIT = 100;

/** Service arguments may come over HTTP from another process: a bad id is a 400, never a database error. */
function uuidArg(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw Problems.validation([{ pointer: `/${field}`, detail: 'must be a UUID' }]);
  return value.toLowerCase();
}
function textArg(value: unknown, field: string, max = 200): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw Problems.validation([{ pointer: `/${field}`, detail: `must be 1..${max} characters` }]);
  return value;
}

export function setupTicketing(ctx: PartContext, failpoints: Failpoints): ModulePart & { service: TicketingService } {
  const { db, config } = ctx;
  const ports: Ports = {
    payments: () => ctx.service<PaymentsService>('payments'),
    compliance: () => ctx.service<ComplianceService>('compliance'),
    skill: () => ctx.service<SkillService>('skill'),
  };
  const competitions = createCompetitionsRepository(db);
  const purchasesRepo = createPurchasesRepository(db);
  const poolRepo = createPoolRepository(db);
  const postalRepo = createPostalRepository(db);
  const cache = createCompetitionCache(competitions, config.ticketingCompetitionCacheTtlMs);
  const counters = createSoldCounters(ctx.cache, competitions, config.ticketingCounterTtlMs);
  const allocator = createAllocator(poolRepo);
  const poster = createPostedMarker(purchasesRepo, ctx.log);

  const competitionService = createCompetitionService(ctx, { repo: competitions, cache, ports });
  const purchases = createPurchaseService({ ctx, ports, repo: purchasesRepo, competitions, cache, counters, allocator, poster, failpoints });
  const recovery = createRecovery({ ctx, ports, repo: purchasesRepo, pool: poolRepo, counters, inflight: purchases.inflight });
  const refunds = createRefunds({ ctx, ports, repo: purchasesRepo, postal: postalRepo, recovery });
  const postal = createPostalService(ctx, { ports, repo: postalRepo, competitions, allocator, counters });
  const entries = createEntries(db, { competitions, purchases: purchasesRepo });

  const jobs: JobDefinition<any>[] = [
    { name: TIMER_JOB, retryLimit: 5, retryDelayS: 2, handle: (data: TimerData) => competitionService.runTimer(data) },
    // Catches a timer that was lost or a competition whose manifest came after its opening time.
    { name: 'competition-sweep', cron: '* * * * *', retryLimit: 1, handle: () => competitionService.sweep(SWEEP_LIMIT) },
    {
      name: RECOVERY_JOB, cron: '* * * * *', retryLimit: 2, timeoutS: 120,
      async handle() {
        const r = await recovery.run();
        if (r.voidedPending + r.posted + r.voidedIssued >= RECOVERY_BATCH_MAX) await ctx.jobs.enqueue(RECOVERY_JOB, {}, { singletonKey: 'again' });
      },
    },
    {
      name: REFUND_JOB, retryLimit: 20, retryDelayS: 10, timeoutS: 600, heartbeatS: 30,
      async handle(data: { competitionId: string }, run) {
        const r = await refunds.run(uuidArg(data.competitionId, 'competitionId'), run.signal);
        if (!r.done) await ctx.jobs.enqueue(REFUND_JOB, { competitionId: data.competitionId }, { singletonKey: `refund:${data.competitionId}:next` });
      },
    },
  ];

  const service: TicketingService = {
    async getCompetition(input) {
      const c = await competitions.get(uuidArg(input?.competitionId, 'competitionId'));
      return c ? competitionView(c, c.state === 'draft' ? undefined : await counters.sold(c.id)) : undefined;
    },
    async getSalesSummary(input) {
      const s = await entries.salesSummary(uuidArg(input?.competitionId, 'competitionId'));
      if (!s) throw Problems.notFound('competition');
      return s;
    },
    async listEntries(input) {
      const limit = input?.limit;
      if (!Number.isInteger(limit) || limit < 1 || limit > ENTRIES_PAGE_MAX) throw Problems.validation([{ pointer: '/limit', detail: `must be 1..${ENTRIES_PAGE_MAX}` }]);
      if (input.afterNumber !== undefined && !(Number.isInteger(input.afterNumber) && input.afterNumber >= 0)) throw Problems.validation([{ pointer: '/afterNumber', detail: 'must be a non-negative integer' }]);
      return entries.list(uuidArg(input.competitionId, 'competitionId'), input.afterNumber, limit);
    },
    async recordDrawManifest(input) {
      if (!Number.isSafeInteger(input?.logIndex) || input.logIndex < 0) throw Problems.validation([{ pointer: '/logIndex', detail: 'must be a non-negative integer' }]);
      await competitionService.recordDrawManifest({ competitionId: uuidArg(input.competitionId, 'competitionId'), drawId: textArg(input.drawId, 'drawId', 64), manifestHash: textArg(input.manifestHash, 'manifestHash', 128), logIndex: input.logIndex });
    },
    async markDrawn(input) {
      await competitionService.markDrawn({ competitionId: uuidArg(input?.competitionId, 'competitionId'), drawId: textArg(input.drawId, 'drawId', 64), resultHash: textArg(input.resultHash, 'resultHash', 128) });
    },
    async markSettled(input) {
      await competitionService.markSettled({ competitionId: uuidArg(input?.competitionId, 'competitionId'), drawId: textArg(input.drawId, 'drawId', 64) });
    },
    async getTicket(input) {
      return entries.ticketOf(uuidArg(input?.ticketId, 'ticketId'), textArg(input.playerId, 'playerId', 64));
    },
  };

  return {
    service,
    async routes(app) {
      registerCompetitionRoutes(app, ctx, { service: competitionService, repo: competitions, counters });
      registerPurchaseRoutes(app, ctx, { service: purchases, repo: purchasesRepo });
      registerPostalRoutes(app, ctx, postal);
    },
    jobs,
    stop: () => poster.stop(),
  };
}
