/**
 * How PSP calls fail. Adapters throw `PspCallError`s that say whether the PSP may have acted; the
 * resilience wrapper turns them into the DomainErrors of the PSP port (contract.ts).
 */
import { DomainError } from '@verity/kernel';

/**
 * - `transient`: the PSP answered 5xx/429 or the connection failed; with the same idempotency key a
 *   retry is safe, and the PSP may or may not have acted.
 * - `rejected`: the PSP refused the request for good (4xx other than 429): no retry, no breaker count.
 * - `not-found`: the object does not exist at the PSP.
 */
export type PspFailureKind = 'transient' | 'rejected' | 'not-found';

export class PspCallError extends Error {
  override name = 'PspCallError';
  readonly kind: PspFailureKind;
  readonly httpStatus?: number;
  readonly pspCode?: string;
  constructor(kind: PspFailureKind, message: string, details: { httpStatus?: number; pspCode?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
    if (details.pspCode !== undefined) this.pspCode = details.pspCode;
  }
}

export const isPspCallError = (err: unknown): err is PspCallError => err instanceof PspCallError;

export const PspProblems = {
  unavailable: (provider: string, retryAfterS: number, why: string) =>
    new DomainError('psp-unavailable', 503, 'Payment provider unavailable', `The payment provider is not reachable right now (${why}). Nothing was charged; try again in ${retryAfterS} seconds.`, { retryAfterSeconds: retryAfterS, provider }),
  outcomeUnknown: (provider: string, why: string) =>
    new DomainError('psp-outcome-unknown', 504, 'Payment provider did not answer', `The payment provider did not confirm the request (${why}); its outcome is settled by a status query.`, { provider }),
  rejected: (provider: string, detail: string) => new DomainError('psp-rejected', 502, 'Payment provider refused the request', detail, { provider }),
  signatureInvalid: (detail = 'The webhook signature does not match its body.') => new DomainError('webhook-signature-invalid', 400, 'Invalid webhook signature', detail),
  timestampStale: (toleranceS: number) =>
    new DomainError('webhook-timestamp-stale', 400, 'Stale webhook', `The webhook's signed timestamp is more than ${toleranceS} seconds away from our clock; it may be a replay.`, { toleranceSeconds: toleranceS }),
} as const;
