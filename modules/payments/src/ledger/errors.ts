/** The ledger's refusals: stable codes callers branch on (problem+json on the HTTP API). */
import { DomainError, Problems } from '@verity/kernel';

export const LedgerErrors = {
  invalid: (field: string, detail: string) => Problems.validation([{ pointer: `/${field.replaceAll('.', '/')}`, detail }], `${field} ${detail}.`),
  amountInvalid: (detail: string) => new DomainError('amount-invalid', 400, 'Invalid amount', detail),
  currencyMismatch: (debit: string, credit: string) =>
    new DomainError('currency-mismatch', 400, 'Currencies differ', `The debit account is in ${debit} and the credit account in ${credit}; a transfer moves one currency.`),
  busy: () => new DomainError('ledger-busy', 503, 'Ledger busy', 'Too many ledger commands are waiting; retry with the same transfer id.'),
};

/** A refusal from `payments.ledger_apply` (its `code`) as the DomainError callers see. */
export function fromResultCode(code: string, extra: Record<string, unknown>): DomainError {
  switch (code) {
    case 'insufficient-funds':
      return new DomainError(code, 409, 'Insufficient funds', 'The available balance does not cover this amount.');
    case 'transfer-id-reused':
      return new DomainError(code, 409, 'Transfer id reused', 'This transfer id was already used with a different input. Use a new id for a new transfer.');
    case 'transfer-not-pending':
      return new DomainError(code, 409, 'Transfer not pending', 'Only a pending transfer can be posted or voided.', { state: extra.state });
    case 'transfer-expired':
      return new DomainError(code, 409, 'Reservation expired', 'The reservation expired and its hold was released.', { expiresAt: extra.expiresAt });
    case 'transfer-not-found':
      return new DomainError(code, 404, 'Transfer not found', 'There is no transfer with this id.');
    case 'amount-exceeds-pending':
      return new DomainError('amount-invalid', 400, 'Invalid amount', 'A post cannot exceed the amount reserved.', { pendingAmountMinor: extra.pendingAmountMinor });
    case 'transfer-not-refundable':
      return new DomainError(code, 409, 'Transfer not refundable', 'Only a posted transfer of the right kind that is not itself a refund can be refunded.');
    case 'refund-exceeds-original':
      return new DomainError(code, 409, 'Refund exceeds the original', 'All refunds of a transfer together cannot exceed its amount.', { refundableMinor: extra.refundableMinor });
    case 'transfer-in-progress':
      return new DomainError(code, 409, 'Transfer in progress', 'A transfer with this id is being written by another request; retry with the same id.');
    default:
      // An unexpected database error inside one command of an isolated batch: never shown to the caller.
      return Object.assign(Problems.internal(), { cause: extra });
  }
}
