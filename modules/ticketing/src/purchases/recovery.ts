/**
 * Finishes purchases a crash (or a lost response from the ledger) left between steps, well before
 * their reservation expires (TICKETING_RECOVERY_AFTER_S ≪ TICKETING_RESERVATION_TIMEOUT_S):
 * - pending (claimed, maybe reserved, no tickets): voided — the reservation, if any, is released;
 * - issued (tickets, not posted): posted under the purchase's post id; if the reservation expired or
 *   was voided meanwhile, the tickets are voided instead (numbers back to the pool, tickets-voided).
 * Every step is compare-and-set on the purchase row and idempotent in the ledger: two runs at once,
 * or a run racing a retried request, end in the same state.
 */
import { isDomainError, type Logger } from '@verity/kernel';
import type { PartContext, Ports } from '../contract.ts';
import type { SoldCounters } from '../competitions/cache.ts';
import { transferIdFor } from '../domain/purchase.ts';
import { TicketingErrors } from '../errors.ts';
import { TicketingEvents, type TicketsVoidedV1 } from '../events.ts';
import type { PoolRepository } from '../pool/repository.ts';
import type { Purchase, PurchasesRepository, StoredProblem } from './repository.ts';

export const RECOVERY_JOB = 'purchase-recovery';
/** Purchases one run looks at; a full batch runs again at once. */
export const RECOVERY_BATCH_MAX = 500;

export interface RecoveryDeps {
  ctx: PartContext;
  ports: Ports;
  repo: PurchasesRepository;
  pool: PoolRepository;
  counters: SoldCounters;
  inflight: ReadonlySet<string>;
}

export interface RecoveryReport {
  voidedPending: number;
  posted: number;
  voidedIssued: number;
}

const interrupted = (): StoredProblem => {
  const e = TicketingErrors.purchaseInterrupted();
  return { status: e.status, code: e.code, title: e.title, detail: e.detail, extensions: e.extensions };
};

export function createRecovery(deps: RecoveryDeps) {
  const { ctx, ports, repo } = deps;
  const log: Logger = ctx.log.child({ component: 'purchase-recovery' });

  async function voidPending(p: Purchase): Promise<boolean> {
    // The row first: a request still driving this purchase then loses its issue and voids too.
    if (!(await repo.finishWithout(p.id, 'voided', interrupted()))) return false;
    try {
      await ports.payments().void({ transferId: transferIdFor(p.id, 'void'), pendingTransferId: p.reservationId, reason: 'purchase interrupted' });
    } catch (err) {
      if (!(isDomainError(err) && ['transfer-not-found', 'transfer-not-pending', 'transfer-expired'].includes(err.code))) {
        log.warn({ err, purchaseId: p.id }, 'reservation of an interrupted purchase not voided; the ledger releases it at expiry');
      }
    }
    return true;
  }

  /** Posts an issued purchase; when the hold is gone, its tickets are voided. */
  async function settleIssued(p: Purchase): Promise<'posted' | 'voided' | 'unchanged'> {
    try {
      await ports.payments().post({ transferId: transferIdFor(p.id, 'post'), pendingTransferId: p.reservationId });
    } catch (err) {
      if (isDomainError(err) && ['transfer-expired', 'transfer-not-pending'].includes(err.code)) {
        return (await voidIssued(p, err.code === 'transfer-expired' ? 'reservation-expired' : 'reservation-voided')) ? 'voided' : 'unchanged';
      }
      throw err;
    }
    return (await repo.markPosted([p.id])) === 1 ? 'posted' : 'unchanged';
  }

  async function voidIssued(p: Purchase, reason: string): Promise<boolean> {
    const voided = await ctx.db.tx(async () => {
      if (!(await repo.markSettled(p.id, ['issued'], 'voided'))) return undefined;
      const tickets = await repo.voidTickets(p.id, reason);
      await deps.pool.release(p.competitionId, tickets.map((t) => t.number));
      await repo.subtractPlayerTickets(p.competitionId, p.playerId, tickets.length);
      await ctx.events.publish<TicketsVoidedV1>({ type: TicketingEvents.ticketsVoided, subject: p.competitionId, data: { competitionId: p.competitionId, purchaseId: p.id, ticketIds: tickets.map((t) => t.id), reason } });
      return tickets;
    });
    if (!voided) return false;
    await deps.counters.add(p.competitionId, -voided.length).catch(() => {});
    log.warn({ purchaseId: p.id, tickets: voided.length, reason }, 'tickets of an unpaid purchase voided');
    return true;
  }

  async function run(): Promise<RecoveryReport> {
    const report: RecoveryReport = { voidedPending: 0, posted: 0, voidedIssued: 0 };
    const stuck = await repo.unfinished(ctx.config.ticketingRecoveryAfterS, RECOVERY_BATCH_MAX);
    for (const p of stuck) {
      if (deps.inflight.has(p.id)) continue;
      try {
        if (p.state === 'pending') {
          if (await voidPending(p)) report.voidedPending++;
        } else {
          const outcome = await settleIssued(p);
          if (outcome === 'posted') report.posted++;
          if (outcome === 'voided') report.voidedIssued++;
        }
      } catch (err) {
        log.warn({ err, purchaseId: p.id }, 'purchase not recovered; the next run retries');
      }
    }
    if (report.voidedPending + report.posted + report.voidedIssued > 0) log.info(report, 'stuck purchases finished');
    return report;
  }

  return { run, voidIssued };
}

export type Recovery = ReturnType<typeof createRecovery>;
