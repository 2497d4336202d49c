/**
 * The draw's state machine (ADR 0015). Pure: the same table is enforced by a trigger on
 * `draws.draws`, so no code path (or hand-written SQL) can skip a step.
 *
 *   pending ──manifest logged + checkpointed──▶ committed ──close snapshot reconciled──▶ snapshotted
 *                                                  │                                        │
 *                                                  └──mismatch / unsettled──▶ blocked ──────┤ (re-snapshot)
 *                                                                                           ▼
 *                         settled ◀──every winner paid or handed over── drawn ◀──beacon + selection
 *   pending | committed | blocked | snapshotted | failed ──competition cancelled──▶ cancelled
 *   snapshotted ──no beacon round obtainable (R and every fallback)──▶ failed
 */
import { DomainError } from '@verity/kernel';

export const DRAW_STATES = ['pending', 'committed', 'snapshotted', 'drawn', 'settled', 'blocked', 'failed', 'cancelled'] as const;
export type DrawState = (typeof DRAW_STATES)[number];

export const TRANSITIONS: Readonly<Record<DrawState, readonly DrawState[]>> = {
  pending: ['committed', 'cancelled'],
  committed: ['snapshotted', 'blocked', 'cancelled'],
  blocked: ['snapshotted', 'cancelled'],
  snapshotted: ['drawn', 'failed', 'cancelled'],
  drawn: ['settled'],
  failed: ['cancelled'],
  settled: [],
  cancelled: [],
};

export const canMove = (from: DrawState, to: DrawState): boolean => TRANSITIONS[from].includes(to);

export function assertMove(from: DrawState, to: DrawState): void {
  if (!canMove(from, to)) {
    throw new DomainError('draw-transition-not-allowed', 409, 'The draw cannot move to that state', `A ${from} draw cannot become ${to}.`, { from, to });
  }
}

/** States in which the close snapshot exists (entry proofs can be served once the draw is public). */
export const isFinal = (s: DrawState): boolean => TRANSITIONS[s].length === 0;
