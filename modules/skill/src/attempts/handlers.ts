/**
 * What skill learns from ticketing's purchases: which pass tokens were used (statistics), and for
 * spot-the-ball which tickets each placement became (placement i → the purchase's i-th ticket by
 * number), and which tickets were voided since (they take no part in judging).
 */
import type { CloudEvent, SubscriberDefinition } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { TICKETING_EVENTS, readPurchased, readVoided, type PurchasedRead } from '../events.ts';
import type { AttemptsRepository } from './repository.ts';

async function onPurchased(ctx: PartContext, repo: AttemptsRepository, p: PurchasedRead): Promise<void> {
  if (!p.skillTokenId) return;
  const attempt = await repo.useToken(p.skillTokenId, p.purchaseId, await ctx.clock.now());
  if (!attempt) {
    const known = await repo.byToken(p.skillTokenId);
    ctx.log.warn({ tokenId: p.skillTokenId, purchaseId: p.purchaseId, usedBy: known?.purchaseId ?? null }, known ? 'pass token reported used by a second purchase' : 'purchase names an unknown pass token');
    return;
  }
  if (attempt.playerId !== p.playerId || attempt.competitionId !== p.competitionId) {
    ctx.log.error({ tokenId: p.skillTokenId, purchaseId: p.purchaseId }, 'purchase used a pass token of another player or competition');
    return;
  }
  if (attempt.kind !== 'spot-the-ball') return;
  const tickets = [...p.tickets].sort((a, b) => a.number - b.number);
  await repo.recordTickets(p.competitionId, p.purchaseId, tickets);
  const placements = await repo.placementsOf(attempt.id);
  if (tickets.length !== placements.length) {
    ctx.log.warn({ purchaseId: p.purchaseId, tickets: tickets.length, placements: placements.length }, 'spot-the-ball purchase: ticket and placement counts differ; the extra ones are not linked');
  }
  const n = Math.min(tickets.length, placements.length);
  await repo.linkPlacements(Array.from({ length: n }, (_, i) => ({ seq: placements[i]!.seq, ticketId: tickets[i]!.ticketId, number: tickets[i]!.number })));
}

export function purchaseSubscriber(ctx: PartContext, repo: AttemptsRepository): SubscriberDefinition {
  return {
    name: 'ticket-purchases',
    events: [TICKETING_EVENTS.ticketsPurchased, TICKETING_EVENTS.ticketsVoided],
    retryLimit: 10,
    batchSize: 50,
    async handle(event: CloudEvent) {
      const data = event.data as Record<string, unknown>;
      if (typeof data !== 'object' || data === null) return;
      if (event.type === TICKETING_EVENTS.ticketsPurchased) {
        const p = readPurchased(data);
        if (p) await onPurchased(ctx, repo, p);
        return;
      }
      const v = readVoided(data);
      if (v && v.ticketIds.length) await repo.recordVoided(v.competitionId, v.ticketIds, v.reason);
    },
  };
}
