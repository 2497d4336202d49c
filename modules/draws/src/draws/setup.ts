/**
 * Wires the draw life cycle: subscribers of ticketing's competition events and of our own winner
 * events, the jobs (commit, snapshot, draw at round time, settle), and the routes.
 */
import type { ComplianceService } from '@verity/compliance';
import type { CloudEvent, HttpApp, JobDefinition, ModuleContext, SubscriberDefinition } from '@verity/kernel';
import type { PaymentsService } from '@verity/payments';
import type { TicketingService } from '@verity/ticketing';
import type { Beacons } from '../beacon/setup.ts';
import {
  DrawEvents, TicketingEvents, type ClosingTimeChangedV1, type CompetitionCancelledV1, type CompetitionClosedV1, type CompetitionPublishedV1, type TicketsPurchasedV1, type WinnerSelectedV1,
} from '../contract.ts';
import type { DrawsSettings } from '../settings.ts';
import { createBundles } from './bundle.ts';
import { COMMIT_JOB, createCommit } from './commit.ts';
import type { DrawsDeps } from './deps.ts';
import { createDrawsRepository } from './repository.ts';
import { registerDrawRoutes } from './routes.ts';
import { createRun, SETTLE_JOB } from './run.ts';
import { createSettlement } from './settle.ts';
import { createSnapshot, DRAW_JOB, SNAPSHOT_JOB } from './snapshot.ts';

export function setupDraws(ctx: ModuleContext, beacons: Beacons, settings: DrawsSettings) {
  const deps: DrawsDeps = {
    ctx,
    repo: createDrawsRepository(ctx.db),
    beacons,
    settings,
    ticketing: () => ctx.service<TicketingService>('ticketing'),
    payments: () => ctx.service<PaymentsService>('payments'),
    compliance: () => ctx.service<ComplianceService>('compliance'),
  };
  const commit = createCommit(deps);
  const snapshot = createSnapshot(deps, commit);
  const bundles = createBundles(deps);
  const run = createRun(deps, { commit, bundles });
  const settlement = createSettlement(deps);

  const on = <T>(name: string, type: string, handle: (data: T) => Promise<void>, extra: Partial<SubscriberDefinition> = {}): SubscriberDefinition => ({
    name,
    events: [type],
    handle: (event: CloudEvent) => handle(event.data as T),
    ...extra,
  });
  const subscribers: SubscriberDefinition[] = [
    on<CompetitionPublishedV1>('on-competition-published', TicketingEvents.competitionPublished, commit.onPublished),
    on<CompetitionClosedV1>('on-competition-closed', TicketingEvents.competitionClosed, (d) => snapshot.onClosed(d.competitionId)),
    on<ClosingTimeChangedV1>('on-closing-time-changed', TicketingEvents.closingTimeChanged, (d) => snapshot.onClosingTimeChanged(d.competitionId, new Date(d.newClosesAt))),
    on<CompetitionCancelledV1>('on-competition-cancelled', TicketingEvents.competitionCancelled, (d) => settlement.onCancelled(d.competitionId, d.reason ?? 'cancelled')),
    on<TicketsPurchasedV1>('on-tickets-purchased', TicketingEvents.ticketsPurchased, settlement.onPurchased, { concurrency: 4, batchSize: 50 }),
    on<WinnerSelectedV1>('on-winner-selected', DrawEvents.winnerSelected, settlement.onWinnerSelected, { retryLimit: 20, retryDelayS: 2 }),
  ];
  const byDraw = (fn: (drawId: string) => Promise<unknown>) => async (data: { drawId: string }) => void (await fn(data.drawId));
  const jobs: JobDefinition<any>[] = [
    { name: COMMIT_JOB, handle: byDraw(commit.commit), retryLimit: 20, retryDelayS: 2, timeoutS: 120 },
    { name: SNAPSHOT_JOB, handle: byDraw(snapshot.snapshot), retryLimit: 10, retryDelayS: 5, timeoutS: 3_600, heartbeatS: 30 },
    { name: DRAW_JOB, handle: (data: { drawId: string; attempt?: number }) => run.onTimer(data), retryLimit: 10, retryDelayS: 5, timeoutS: 900, heartbeatS: 30 },
    { name: SETTLE_JOB, handle: byDraw(settlement.settle), retryLimit: 20, retryDelayS: 5, timeoutS: 120 },
  ];

  return {
    deps,
    run,
    subscribers,
    jobs,
    routes: (app: HttpApp) => registerDrawRoutes(app, { deps, run, snapshot }),
  };
}
