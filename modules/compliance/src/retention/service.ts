/**
 * Retention: the end of the relationship (account closure) starts a clock; when it has run
 * COMPLIANCE_RETENTION_YEARS, the player's personal data is erased by destroying their data key —
 * everything encrypted under it (identity's record, KYC documents, case notes, evidence files and
 * packages) becomes unreadable at once — unless a legal hold stops it. Transaction records stay,
 * pseudonymous (ids and amounts only).
 */
import { DomainError, Problems, uuidv7 } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import type { AuditTrail } from '../cases/history.ts';
import { retainUntil } from './domain.ts';
import type { LegalHoldRow, RetentionRepository } from './repository.ts';

const PLAYER_ID = /^[A-Za-z0-9-]{1,64}$/;

export function createRetention(ctx: PartContext, deps: { repo: RetentionRepository; trail: AuditTrail; years: number; batchMax: number }) {
  const { db } = ctx;
  const { repo, trail, years } = deps;
  const checkPlayer = (playerId: string) => {
    if (!PLAYER_ID.test(playerId)) throw Problems.validation([{ pointer: '/params/playerId', detail: 'must be a player id' }]);
  };

  async function recordClosure(playerId: string, reason: string, actor: string): Promise<{ closedAt: Date; retainUntil: Date }> {
    checkPlayer(playerId);
    return db.tx(async () => {
      const at = await ctx.clock.now();
      if (!(await repo.recordClosure(playerId, at, reason))) {
        throw new DomainError('account-already-closed', 409, 'Already closed', 'The relationship with this player has already ended.');
      }
      await trail.record({ actor, action: 'compliance.account-closed', subject: `player:${playerId}`, reason, data: { closedAt: at.toISOString(), retainUntil: retainUntil(at, years).toISOString() } });
      await ctx.events.publish({ type: 'compliance.account-closed.v1', subject: playerId, data: { playerId, closedAt: at.toISOString() } });
      return { closedAt: at, retainUntil: retainUntil(at, years) };
    });
  }

  async function placeLegalHold(playerId: string, reason: string, actor: string): Promise<LegalHoldRow> {
    checkPlayer(playerId);
    return db.tx(async () => {
      const hold = await repo.insertLegalHold({ id: uuidv7(), playerId, reason, placedBy: actor, at: await ctx.clock.now() });
      await trail.record({ actor, action: 'compliance.legal-hold-placed', subject: `player:${playerId}`, reason, data: { legalHoldId: hold.id } });
      return hold;
    });
  }

  async function releaseLegalHold(id: string, reason: string, actor: string): Promise<LegalHoldRow> {
    return db.tx(async () => {
      const released = await repo.releaseLegalHold(id, actor, reason, await ctx.clock.now());
      if (!released) {
        if (!(await repo.legalHold(id))) throw Problems.notFound('legal hold');
        throw new DomainError('legal-hold-released', 409, 'Already released', 'This legal hold was already released.');
      }
      await trail.record({ actor, action: 'compliance.legal-hold-released', subject: `player:${released.playerId}`, reason, data: { legalHoldId: id } });
      return released;
    });
  }

  /** Erases every player whose retention has run (at most a batch); returns who was erased. */
  async function run(actor: string): Promise<string[]> {
    const now = await ctx.clock.now();
    const due = await repo.erasable(now, years, deps.batchMax);
    const erased: string[] = [];
    for (const playerId of due) {
      const done = await db.tx(async () => {
        const p = await repo.lockErasable(playerId, now, years);
        if (!p) return false;
        // Irreversible and outside this transaction by design (kernel): a rollback below leaves the
        // key destroyed and the row unmarked, and the next run marks it (destroying again is a no-op).
        await ctx.crypto.destroySubjectKey(playerId);
        await repo.markErased(playerId, now);
        await trail.record({ actor, action: 'compliance.player-data-erased', subject: `player:${playerId}`, data: { closedAt: p.closedAt.toISOString(), retentionYears: years } });
        await ctx.events.publish({ type: 'compliance.player-data-erased.v1', subject: playerId, data: { playerId, closedAt: p.closedAt.toISOString(), erasedAt: now.toISOString() } });
        return true;
      });
      if (done) erased.push(playerId);
    }
    if (erased.length) ctx.log.info({ erased: erased.length }, 'retention: personal data erased');
    return erased;
  }

  return { recordClosure, placeLegalHold, releaseLegalHold, run, legalHoldsOf: (playerId: string) => repo.legalHoldsOf(playerId, 200) };
}

export type Retention = ReturnType<typeof createRetention>;
