/**
 * How skill follows a competition's life from ticketing's events: publication freezes its test,
 * the closing time bounds attempts, closing opens spot-the-ball judging, cancellation ends it all.
 */
import type { CloudEvent, SubscriberDefinition } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { TICKETING_EVENTS, dateOf, readClosed, readPublished, uuidOf } from '../events.ts';
import type { TestsRepository } from './repository.ts';

export function competitionSubscriber(ctx: PartContext, repo: TestsRepository): SubscriberDefinition {
  const handlers: Record<string, (d: Record<string, unknown>) => Promise<void>> = {
    async [TICKETING_EVENTS.published](d) {
      const p = readPublished(d);
      if (!p) return;
      await repo.applyCompetition({ competitionId: p.competitionId, state: 'scheduled', ...(p.closesAt ? { closesAt: p.closesAt } : {}), ...(p.drawKind ? { drawKind: p.drawKind } : {}), winners: p.winners });
      if (await repo.freeze(p.competitionId, await ctx.clock.now())) {
        await ctx.audit.record({ actor: 'system', action: 'skill.test-frozen', subject: `competition:${p.competitionId}`, data: { competitionId: p.competitionId } });
      }
    },
    async [TICKETING_EVENTS.opened](d) {
      const competitionId = uuidOf(d.competitionId);
      if (competitionId) await repo.applyCompetition({ competitionId, state: 'open' });
    },
    async [TICKETING_EVENTS.closed](d) {
      const c = readClosed(d);
      if (c) await repo.applyCompetition({ ...c, state: 'closed' });
    },
    async [TICKETING_EVENTS.cancelled](d) {
      const competitionId = uuidOf(d.competitionId);
      if (competitionId) await repo.applyCompetition({ competitionId, state: 'cancelled', cancelReason: typeof d.reason === 'string' ? d.reason.slice(0, 500) : 'cancelled' });
    },
    async [TICKETING_EVENTS.closingTimeChanged](d) {
      const competitionId = uuidOf(d.competitionId);
      const closesAt = dateOf(d.newClosesAt);
      if (competitionId && closesAt) await repo.setClosesAt(competitionId, closesAt);
    },
  };
  return {
    name: 'competition-lifecycle',
    events: Object.keys(handlers),
    retryLimit: 10,
    async handle(event: CloudEvent) {
      const data = event.data;
      if (typeof data !== 'object' || data === null) return;
      await handlers[event.type]?.(data as Record<string, unknown>);
    },
  };
}
