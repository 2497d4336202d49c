/**
 * The ledger part of the payments module: the Ledger the other parts use, the PaymentsService other
 * modules call, the expiry of reservations, and the operator route listing accounts.
 */
import type { JobDefinition } from '@verity/kernel';
import type { ModulePart, PartContext } from '../contract.ts';
import type { PaymentsService } from '../index.ts';
import { LedgerEvents, type ReservationExpiredV1 } from './contracts.ts';
import { createLedger, DEFAULT_BATCHING, type LedgerEngine } from './ledger.ts';
import { registerLedgerRoutes } from './routes.ts';
import { createPaymentsService, eventDraft, EXPIRY_JOB, scheduleExpiry, SHORT_HOLD_S } from './service.ts';

/** Holds one sweep expires; a sweep that hits it runs again at once (the next timer or cron tick). */
const EXPIRY_SWEEP_MAX = 5_000;

export function setupLedger(ctx: PartContext): ModulePart & { ledger: LedgerEngine; service: PaymentsService; stop(): Promise<void> } {
  const ledger = createLedger({
    db: ctx.db,
    log: ctx.log.child({ component: 'ledger' }),
    houseShards: ctx.config.paymentsHouseShards,
    // Each flush holds a pooled connection: leave most of the pool to everything else.
    batching: { ...DEFAULT_BATCHING, maxBatch: ctx.config.paymentsLedgerBatchMax, maxInFlight: Math.max(1, Math.min(DEFAULT_BATCHING.maxInFlight, ctx.config.databasePoolMax - 2)) },
  });
  const service = createPaymentsService({ ledger, jobs: ctx.jobs, defaultTimeoutS: ctx.config.paymentsReservationTimeoutS });

  const expire: JobDefinition = {
    name: EXPIRY_JOB,
    // Every minute, plus a timer at the next expiry due within the minute (set by each sweep and by short holds).
    cron: '* * * * *',
    retryLimit: 5,
    retryDelayS: 5,
    timeoutS: 120,
    async handle() {
      const expired = await ledger.expireDue({
        limit: EXPIRY_SWEEP_MAX,
        effects: {
          event: eventDraft<ReservationExpiredV1>(LedgerEvents.reservationExpired, 'id', {},
            { id: 'pendingTransferId', amount: 'amountMinor', currency: 'currency', expires_at: 'expiresAt' }),
        },
      });
      if (expired > 0) ctx.log.info({ expired }, 'reservations expired');
      const [next] = await ledger.repository.upcomingExpiries(SHORT_HOLD_S, 1);
      if (next) await scheduleExpiry(ctx.jobs, next);
    },
  };

  return {
    ledger,
    service,
    jobs: [expire],
    routes: (app) => registerLedgerRoutes(app, { ledger, auth: ctx.auth }),
    stop: () => ledger.drain(),
  };
}
