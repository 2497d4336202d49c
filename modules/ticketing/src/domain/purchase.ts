/**
 * Purchases: the states of the money steps and the request a purchase stands for. A purchase is a
 * claim row first (pending); the wallet is reserved outside our transactions, then tickets are
 * issued in one of ours (issued), then the reservation is posted (posted). Any refusal after the
 * reservation voids it (voided); a refusal before it holds nothing (refused); a cancelled
 * competition refunds it (refunded). The trigger `ticketing.purchases_guard` holds the same table.
 */
import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

export const PURCHASE_STATES = ['pending', 'issued', 'posted', 'refused', 'voided', 'refunded'] as const;
export type PurchaseState = (typeof PURCHASE_STATES)[number];

export const PURCHASE_TRANSITIONS: Readonly<Record<PurchaseState, readonly PurchaseState[]>> = {
  pending: ['issued', 'refused', 'voided'],
  issued: ['posted', 'voided', 'refunded'],
  posted: ['refunded'],
  refused: [],
  voided: [],
  refunded: [],
};

/** Tickets one purchase may ask for: a limit on everything (a competition's cap is usually lower). */
export const QUANTITY_MAX = 100;

/** States whose answer is a purchase (201); refused and voided-before-issue answer their problem. */
export const hasTickets = (state: PurchaseState): boolean => state === 'issued' || state === 'posted' || state === 'refunded' || state === 'voided';

export const isFinished = (state: PurchaseState): boolean => state !== 'pending' && state !== 'issued';

export interface PurchaseRequest {
  competitionId: string;
  quantity: number;
  /** Chosen numbers (as many as `quantity`); absent: lucky dip. */
  numbers?: readonly number[];
  skillToken: string;
}

/** SHA-256 of the request's canonical form: the same key with another request is a 422. */
export function requestHash(r: PurchaseRequest): string {
  const canonical = JSON.stringify([r.competitionId, r.quantity, r.numbers ? [...r.numbers] : null, r.skillToken]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Namespace of the ledger transfer ids derived from purchase ids (UUIDv5): retries converge on them. */
const TRANSFER_NAMESPACE = '3f0a3c52-7f0e-4d8e-9a5e-2b1c6d4e8f10';
export type TransferStep = 'reserve' | 'post' | 'void' | 'refund';
export const transferIdFor = (purchaseId: string, step: TransferStep): string => uuidv5(`ticketing/purchase/${purchaseId}/${step}`, TRANSFER_NAMESPACE);

/** What is wrong with the numbers asked for, if anything (range, duplicates, count). */
export function numbersProblem(numbers: readonly number[] | undefined, quantity: number, maxTickets: number): string | undefined {
  if (numbers === undefined) return undefined;
  if (numbers.length !== quantity) return `must list exactly ${quantity} numbers (the quantity)`;
  if (new Set(numbers).size !== numbers.length) return 'must not repeat a number';
  const out = numbers.find((n) => !Number.isInteger(n) || n < 1 || n > maxTickets);
  return out === undefined ? undefined : `must be between 1 and ${maxTickets} (got ${out})`;
}
