/**
 * Holds on a player (sanctions, investigation, payout): placed and lifted by case decisions and by
 * the sanctions part, each change audited and announced. Eligibility reads the active ones.
 */
import { DomainError, actorFromContext, uuidv7 } from '@verity/kernel';
import type { HoldKind, Holds, PartContext } from '../contract.ts';
import type { AuditTrail } from './history.ts';
import type { CasesRepository } from './repository.ts';

export const HOLD_KINDS: readonly HoldKind[] = ['sanctions', 'investigation', 'payout'];
const PLAYER_ID = /^[A-Za-z0-9-]{1,64}$/;
const REASON_MAX = 500;

/** Actor of a service-side action: the request's principal, or `system` for jobs and subscribers. */
export const actorOrSystem = (): string => {
  const a = actorFromContext();
  return a === 'anonymous' ? 'system' : a;
};

function validate(input: { playerId: string; kind: HoldKind; reason: string }): void {
  const bad = (detail: string) => new DomainError('hold-invalid', 400, 'Invalid hold', detail);
  if (typeof input.playerId !== 'string' || !PLAYER_ID.test(input.playerId)) throw bad('playerId must be a player id.');
  if (!HOLD_KINDS.includes(input.kind)) throw bad(`kind must be one of ${HOLD_KINDS.join(', ')}.`);
  if (typeof input.reason !== 'string' || input.reason.length === 0 || input.reason.length > REASON_MAX) throw bad(`reason must be 1..${REASON_MAX} characters.`);
}

export interface HoldsEngine extends Holds {
  /** Lifts this case's holds of a kind and those tied to no case; returns how many were lifted. */
  liftForCase(input: { playerId: string; kind: HoldKind; caseId: string; reason: string; actor: string }): Promise<number>;
}

export function createHolds(ctx: PartContext, repo: CasesRepository, trail: AuditTrail): HoldsEngine {
  const { db } = ctx;

  async function announceLift(playerId: string, kind: HoldKind, caseId: string | null, reason: string, actor: string, lifted: number): Promise<void> {
    if (lifted === 0) return;
    await trail.record({ actor, action: 'compliance.hold-lifted', subject: `player:${playerId}`, reason: reason.slice(0, REASON_MAX), data: { kind, caseId, lifted } });
    await ctx.events.publish({ type: 'compliance.hold-lifted.v1', subject: playerId, data: { playerId, kind, caseId } });
  }

  return {
    async place(input) {
      validate(input);
      const actor = actorOrSystem();
      await db.tx(async () => {
        const placed = await repo.placeHold({
          id: uuidv7(), playerId: input.playerId, kind: input.kind, caseId: input.caseId ?? null, reason: input.reason, placedBy: actor, at: await ctx.clock.now(),
        });
        if (!placed) return;
        await trail.record({ actor, action: 'compliance.hold-placed', subject: `player:${input.playerId}`, reason: input.reason, data: { kind: input.kind, caseId: input.caseId ?? null } });
        await ctx.events.publish({ type: 'compliance.hold-placed.v1', subject: input.playerId, data: { playerId: input.playerId, kind: input.kind, caseId: input.caseId ?? null } });
      });
    },

    async lift(input) {
      validate(input);
      const actor = actorOrSystem();
      await db.tx(async () => {
        const lifted = await repo.liftHolds({ playerId: input.playerId, kind: input.kind, caseId: input.caseId ?? null, reason: input.reason, liftedBy: actor, at: await ctx.clock.now() });
        await announceLift(input.playerId, input.kind, input.caseId ?? null, input.reason, actor, lifted.length);
      });
    },

    async liftForCase(input) {
      validate(input);
      return db.tx(async () => {
        const lifted = await repo.liftHolds({
          playerId: input.playerId, kind: input.kind, caseId: input.caseId, alsoUnattached: true, reason: input.reason, liftedBy: input.actor, at: await ctx.clock.now(),
        });
        await announceLift(input.playerId, input.kind, input.caseId, input.reason, input.actor, lifted.length);
        return lifted.length;
      });
    },

    active: (playerId) => repo.activeHoldKinds(playerId),
  };
}
