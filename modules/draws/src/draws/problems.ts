/** The draws module's problems (stable `code`s, RFC 9457 via the kernel's DomainError). */
import { DomainError } from '@verity/kernel';

export const DrawProblems = {
  notFound: () => new DomainError('draw-not-found', 404, 'No draw', 'This competition has no draw (unknown, or not a random draw).'),
  notCommitted: (state: string) =>
    new DomainError('draw-not-committed', 409, 'The draw manifest is not committed yet', 'The manifest is being logged; it is published before sales open.', { state }),
  notSnapshotted: (state: string) =>
    new DomainError('draw-not-ready', 409, 'The draw cannot run yet', `The draw is ${state}: it runs once the competition has closed and its entries are snapshotted and reconciled.`, { state }),
  notDrawn: (state: string) =>
    new DomainError('draw-not-drawn', 409, 'The draw has not been drawn yet', `The draw is ${state}; its result and evidence are published once it is drawn.`, { state }),
  roundNotYet: (round: number, at: Date) =>
    new DomainError('beacon-round-not-yet-available', 409, 'The beacon round does not exist yet', `The draw uses beacon round ${round}, produced at ${at.toISOString()}. Run it after that time.`, { round, availableAt: at.toISOString() }),
  windowsPassed: () => new DomainError('draw-failed', 409, 'The draw failed', 'No beacon round committed to by the manifest could be obtained within its window.'),
  notBlocked: () => new DomainError('draw-not-blocked', 409, 'The draw is not blocked', 'Only a blocked draw can retry its close snapshot.'),
  snapshotLate: () =>
    new DomainError('draw-snapshot-late', 409, 'The close snapshot was logged after the beacon round', 'The close record reached the log after round R was produced, so the draw cannot be run fairly: cancel the competition (every ticket is refunded).'),
  ticketNotFound: () => new DomainError('ticket-not-found', 404, 'No such ticket', 'You have no ticket with this id in this draw.'),
  entryNotInSnapshot: () => new DomainError('entry-not-in-snapshot', 404, 'The ticket is not in the draw', 'This ticket is not a valid entry of the close snapshot (voided before close).'),
  proofNotYet: (state: string) =>
    new DomainError('draw-not-snapshotted', 409, 'The close snapshot is not taken yet', `The draw is ${state}; entry proofs exist once the competition has closed and its snapshot is logged.`, { state }),
};
