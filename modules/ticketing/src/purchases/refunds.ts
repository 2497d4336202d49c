/**
 * Refunds of a cancelled competition, from a job so that it resumes after a crash: each paid
 * purchase is posted if it was still held (same post id as its request used), refunded under a
 * refund id derived from the purchase (a second run, or a duplicated job, asks the ledger for the
 * same refund and gets the first one back: every ticket is refunded once), then marked refunded
 * with its tickets voided. Valid postal entries are voided last.
 */
import { isDomainError } from '@verity/kernel';
import type { PartContext, Ports } from '../contract.ts';
import { transferIdFor } from '../domain/purchase.ts';
import { TicketingEvents, type TicketsVoidedV1 } from '../events.ts';
import type { PostalRepository } from '../postal/repository.ts';
import type { Recovery } from './recovery.ts';
import type { Purchase, PurchasesRepository } from './repository.ts';

const BATCH = 100;
/** Batches one run handles before it hands over to the next run (bounded work per job). */
const BATCHES_PER_RUN_MAX = 200;
export const CANCEL_REASON = 'competition-cancelled';

export interface RefundDeps {
  ctx: PartContext;
  ports: Ports;
  repo: PurchasesRepository;
  postal: PostalRepository;
  recovery: Recovery;
}

export function createRefunds(deps: RefundDeps) {
  const { ctx, ports, repo } = deps;

  async function refundPurchase(p: Purchase): Promise<'refunded' | 'voided' | 'unchanged'> {
    try {
      await ports.payments().post({ transferId: transferIdFor(p.id, 'post'), pendingTransferId: p.reservationId });
    } catch (err) {
      // Never paid (the hold expired or was voided): nothing to give back, the tickets go.
      if (isDomainError(err) && ['transfer-expired', 'transfer-not-pending'].includes(err.code)) return (await deps.recovery.voidIssued(p, CANCEL_REASON)) ? 'voided' : 'unchanged';
      throw err;
    }
    await ports.payments().refund({ transferId: transferIdFor(p.id, 'refund'), originalTransferId: p.reservationId, reason: 'competition cancelled' });
    return ctx.db.tx(async () => {
      if (!(await repo.markSettled(p.id, ['issued', 'posted'], 'refunded'))) return 'unchanged';
      const tickets = await repo.voidTickets(p.id, CANCEL_REASON);
      await ctx.events.publish<TicketsVoidedV1>({ type: TicketingEvents.ticketsVoided, subject: p.competitionId, data: { competitionId: p.competitionId, purchaseId: p.id, ticketIds: tickets.map((t) => t.id), reason: CANCEL_REASON } });
      return 'refunded';
    });
  }

  async function voidPostal(competitionId: string): Promise<number> {
    return ctx.db.tx(async () => {
      const ticketIds = await deps.postal.voidAll(competitionId, CANCEL_REASON);
      if (ticketIds.length) {
        await ctx.events.publish<TicketsVoidedV1>({ type: TicketingEvents.ticketsVoided, subject: competitionId, data: { competitionId, ticketIds, reason: CANCEL_REASON } });
      }
      return ticketIds.length;
    });
  }

  /** Refunds what is left to refund; true when the competition is fully refunded. */
  async function run(competitionId: string, signal?: AbortSignal): Promise<{ refunded: number; voided: number; postalVoided: number; done: boolean }> {
    let refunded = 0;
    let voided = 0;
    for (let batch = 0; batch < BATCHES_PER_RUN_MAX; batch++) {
      const due = await repo.toRefund(competitionId, BATCH);
      if (due.length === 0) {
        const postalVoided = await voidPostal(competitionId);
        ctx.log.info({ competitionId, refunded, voided, postalVoided }, 'cancelled competition refunded');
        return { refunded, voided, postalVoided, done: true };
      }
      for (const p of due) {
        if (signal?.aborted) throw new Error('refund run aborted; the job retries');
        const outcome = await refundPurchase(p);
        if (outcome === 'refunded') refunded++;
        if (outcome === 'voided') voided++;
      }
    }
    return { refunded, voided, postalVoided: 0, done: false };
  }

  return { run };
}

export type Refunds = ReturnType<typeof createRefunds>;
