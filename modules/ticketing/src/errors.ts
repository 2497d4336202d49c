/** Ticketing's refusals: stable codes buyers and operators branch on (problem+json on the HTTP API). */
import { DomainError, Problems } from '@verity/kernel';
import type { MissingItem } from './domain/terms.ts';

export const TicketingErrors = {
  competitionNotFound: () => new DomainError('competition-not-found', 404, 'Competition not found', 'There is no published competition with this id.'),
  competitionNotOnSale: (state: string) =>
    new DomainError('competition-not-on-sale', 409, 'Competition not on sale', `Tickets cannot be bought while the competition is ${state.replace('_', ' ')}.`, { state }),
  competitionClosed: (closesAt: Date) =>
    new DomainError('competition-closed', 409, 'Competition closed', `Sales closed at ${closesAt.toISOString()}.`, { closesAt: closesAt.toISOString() }),
  soldOut: (remaining: number) =>
    new DomainError('sold-out', 409, 'Sold out', remaining === 0 ? 'Every ticket has been sold.' : `Only ${remaining} ticket(s) are left.`, { remaining }),
  playerCapReached: (cap: number, remaining: number) =>
    new DomainError('player-cap-reached', 409, 'Ticket limit reached', `You may hold at most ${cap} tickets in this competition; you can buy ${remaining} more.`, { cap, remaining }),
  notEligible: (reasons: readonly string[], remainingMinor?: bigint) =>
    new DomainError('not-eligible', 403, 'Not eligible to buy', `You cannot buy tickets now: ${reasons.join(', ')}.`, { reasons, ...(remainingMinor !== undefined ? { remainingMinor: remainingMinor.toString() } : {}) }),
  skillTokenInvalid: (reason: string) =>
    new DomainError('skill-token-invalid', 403, 'Skill test pass not valid', `The skill test pass cannot be used (${reason}). Answer the skill test again.`, { reason }),
  skillTokenUsed: () => new DomainError('skill-token-used', 409, 'Skill test pass already used', 'Each skill test pass buys once. Answer the skill test again for another purchase.'),
  numberTaken: (numbers: readonly number[]) =>
    new DomainError('number-taken', 409, 'Number taken', `These numbers are already taken: ${numbers.join(', ')}.`, { numbers }),
  numbersInvalid: (detail: string) => Problems.validation([{ pointer: '/body/numbers', detail }], `numbers ${detail}.`),
  quantityOverCap: (cap: number) => Problems.validation([{ pointer: '/body/quantity', detail: `must be at most the per-player cap (${cap})` }]),
  idempotencyKeyReused: () => Problems.idempotencyKeyReused(),
  inProgress: () => Problems.idempotencyInProgress(),
  purchaseInterrupted: () =>
    new DomainError('purchase-interrupted', 409, 'Purchase interrupted', 'This purchase was interrupted and cancelled; no money was taken. Buy again with a new Idempotency-Key.'),
  incomplete: (missing: readonly MissingItem[]) =>
    new DomainError('competition-incomplete', 422, 'Competition cannot be published yet', `Missing or invalid: ${missing.map((m) => m.item).join(', ')}.`, { missing }),
  transitionRefused: (from: string, to: string, detail?: string) =>
    new DomainError('competition-transition-refused', 409, 'Not allowed in this state', detail ?? `A competition cannot go from ${from} to ${to}.`, { state: from }),
  notDraft: (state: string) => new DomainError('competition-not-draft', 409, 'Terms are frozen', `Published terms never change (the competition is ${state}).`, { state }),
  documentNotFound: () => new DomainError('document-not-found', 422, 'Document not found', 'No uploaded document has this SHA-256.'),
  overrideNotFound: () => new DomainError('override-not-found', 404, 'Override not found', 'There is no closing-time override with this id for this competition.'),
  overrideNotPending: (state: string) => new DomainError('override-not-pending', 409, 'Override already decided', `The override is ${state}.`, { state }),
  sameOperator: () => new DomainError('second-operator-required', 403, 'Another operator must approve', 'The operator who requested a closing-time change cannot approve it.'),
  closingTimeNotChangeable: (detail: string) => new DomainError('closing-time-not-changeable', 409, 'Closing time cannot change', detail),
  manifestConflict: () => new DomainError('draw-manifest-conflict', 409, 'Another draw manifest is recorded', 'A different draw manifest was already recorded for this competition.'),
  drawMismatch: () => new DomainError('draw-mismatch', 409, 'Another draw', 'The draw named is not the one recorded for this competition.'),
  envelopeDuplicate: (postalEntryId: string) =>
    new DomainError('postal-envelope-duplicate', 409, 'Envelope already recorded', 'An entry with this envelope reference is already recorded (one entry per envelope).', { postalEntryId }),
  notAcceptingPostal: (state: string) =>
    new DomainError('competition-not-accepting-entries', 409, 'Not accepting postal entries', `Postal entries are recorded while a competition is on sale or closed and not yet drawn (it is ${state.replace('_', ' ')}).`, { state }),
  postalIntakeClosed: () =>
    new DomainError('postal-intake-closed', 409, 'Postal intake closed', 'Sales have closed and the draw snapshot is taken from the entries recorded by then: a valid postal entry must be recorded before the closing time. Envelopes that arrive late can still be recorded (as late).'),
  cursorInvalid: () => Problems.validation([{ pointer: '/query/cursor', detail: 'is not a cursor from a previous page' }]),
  receivedInFuture: () => Problems.validation([{ pointer: '/body/receivedAt', detail: 'cannot be in the future' }]),
};
