/**
 * After the draw: each winner's prize is handled from `draws.winner-selected.v1` (our own event, so
 * a slow ledger never holds the draw up): cash is credited to the buyer's wallet through
 * payments.creditPrize under a transfer id derived from the draw and position (a retry credits
 * nothing twice); goods — and cash won by a postal entrant, who has no wallet — go to prize
 * fulfilment as an event. When no winner is left pending, ticketing marks the competition settled.
 */
import { DomainError } from '@verity/kernel';
import { DrawEvents, type DrawSettledV1, type FulfilmentRequestedV1, type PrizeCreditedV1, type TicketsPurchasedV1, type WinnerRecord, type WinnerSelectedV1 } from '../contract.ts';
import { prizeTransferId } from '../domain/prizes.ts';
import type { DrawsDeps } from './deps.ts';
import { SETTLE_JOB } from './run.ts';

export function createSettlement(deps: DrawsDeps) {
  const { ctx, repo } = deps;

  async function fulfil(w: WinnerRecord, data: WinnerSelectedV1, reason: FulfilmentRequestedV1['reason']): Promise<void> {
    const d = (await repo.byId(w.drawId))!;
    const tier = d.manifest!.prizeTiers.find((t) => t.tier === w.tier);
    await ctx.events.publish<FulfilmentRequestedV1>({
      type: DrawEvents.fulfilmentRequested,
      subject: data.competitionId,
      data: {
        drawId: w.drawId, competitionId: data.competitionId, tier: w.tier, ticketId: w.entryId, number: w.number, description: tier?.description ?? `tier ${w.tier}`, reason,
        ...(w.cashMinor !== null ? { cashMinor: w.cashMinor.toString(), currency: w.currency! } : {}),
      },
    });
    await repo.winnerHandled(w.drawId, w.position, 'handed-over', null);
  }

  async function credit(w: WinnerRecord, data: WinnerSelectedV1, playerId: string): Promise<void> {
    const transferId = prizeTransferId(w.drawId, w.position);
    await deps.payments().creditPrize({ transferId, playerId, competitionId: data.competitionId, amountMinor: w.cashMinor!, currency: w.currency!, drawId: w.drawId });
    await repo.winnerHandled(w.drawId, w.position, 'credited', transferId);
    await ctx.events.publish<PrizeCreditedV1>({
      type: DrawEvents.prizeCredited,
      subject: data.competitionId,
      data: { drawId: w.drawId, competitionId: data.competitionId, ticketId: w.entryId, playerId, transferId, amountMinor: w.cashMinor!.toString(), currency: w.currency! },
    });
  }

  /** Subscriber of `draws.winner-selected.v1` (in its transaction, with the inbox record). */
  async function onWinnerSelected(data: WinnerSelectedV1): Promise<void> {
    // Winners of one draw are handled one at a time: the last one must see every other one done
    // to enqueue the settlement (two concurrent transactions would each still see the other pending).
    await repo.lock(data.drawId);
    const w = await repo.lockWinner(data.drawId, data.position);
    if (!w || w.state !== 'pending') return;
    if (w.prizeKind === 'fulfilment') await fulfil(w, data, 'goods');
    else {
      const entry = await repo.entryOf(w.drawId, w.entryId);
      const playerId = await repo.ownerOf(w.entryId);
      if (playerId) await credit(w, data, playerId);
      else if (entry?.entry.kind === 'postal') await fulfil(w, data, 'no-wallet');
      // A paid ticket whose purchase event has not reached us yet: retried with backoff.
      else throw new DomainError('winner-owner-unknown', 503, 'Winner not known yet', `No purchase recorded for ticket ${w.entryId} yet.`);
    }
    if ((await repo.pendingWinners(w.drawId)) === 0) await ctx.jobs.enqueue(SETTLE_JOB, { drawId: w.drawId }, { singletonKey: `settle:${w.drawId}` });
  }

  /** The job: every winner handled → ticketing settled → settled. */
  async function settle(drawId: string): Promise<void> {
    const d = await repo.byId(drawId);
    if (!d || d.state !== 'drawn' || (await repo.pendingWinners(drawId)) > 0) return;
    await deps.ticketing().markSettled({ competitionId: d.competitionId, drawId });
    await ctx.db.tx(async () => {
      const locked = await repo.lock(drawId);
      if (!locked || locked.state !== 'drawn') return;
      await repo.setState(drawId, 'settled');
      await ctx.events.publish<DrawSettledV1>({ type: DrawEvents.drawSettled, subject: d.competitionId, data: { competitionId: d.competitionId, drawId } });
    });
  }

  /** Subscriber of `ticketing.tickets-purchased.v1`: who holds which ticket (for cash prizes). */
  async function onPurchased(data: TicketsPurchasedV1): Promise<void> {
    await repo.recordOwners({ competitionId: data.competitionId, purchaseId: data.purchaseId, playerId: data.playerId, ticketIds: data.tickets.map((t) => t.ticketId.toLowerCase()) });
  }

  /** Subscriber of `ticketing.competition-cancelled.v1`. */
  async function onCancelled(competitionId: string, reason: string): Promise<void> {
    const d = await repo.byCompetition(competitionId);
    if (!d) return;
    const locked = await repo.lock(d.drawId);
    if (!locked || !['pending', 'committed', 'blocked', 'snapshotted', 'failed'].includes(locked.state)) return;
    await repo.setState(d.drawId, 'cancelled', { cancelReason: reason.slice(0, 500) });
    await ctx.audit.record({ actor: 'service:draws', action: 'draws.draw-cancelled', subject: `draw:${d.drawId}`, reason: reason.slice(0, 500), data: { competitionId } });
  }

  return { onWinnerSelected, settle, onPurchased, onCancelled };
}
