/** The log's problem types (RFC 9457 `type` = /problems/<code>). */
import { DomainError } from '../errors.ts';

export const LogProblems = {
  sizeBeyondTree: (size: number, treeSize: number) =>
    new DomainError('log-size-beyond-tree', 400, 'Tree size beyond the log', `The log has ${treeSize} leaves; size ${size} does not exist yet.`, { treeSize }),
  indexBeyondSize: (index: number, size: number) =>
    new DomainError('log-index-beyond-size', 400, 'Leaf index outside the tree', `Leaf ${index} is not in a tree of ${size} leaves.`, { size }),
  rangeInvalid: (from: number, to: number) =>
    new DomainError('log-range-invalid', 400, 'Invalid tree range', `A consistency proof goes from a smaller tree to a larger one; from=${from} is larger than to=${to}.`),
  entryNotFound: (what: string) => new DomainError('log-entry-not-found', 404, 'Log entry not found', `No leaf ${what} has been integrated into the log.`),
  checkpointNotFound: (size: number) => new DomainError('log-checkpoint-not-found', 404, 'Checkpoint not found', `No checkpoint was signed at size ${size}.`),
  notCheckpointed: (index: number, retryAfterSeconds: number) =>
    new DomainError('log-entry-not-checkpointed', 409, 'Entry not yet in a signed checkpoint', `Leaf ${index} is integrated but no signed checkpoint covers it yet.`, { retryAfterSeconds }),
  notIntegrated: (ref: string, timeoutMs: number) =>
    new DomainError('log-not-integrated', 503, 'Not integrated in time', `${ref} was not integrated within ${timeoutMs} ms (not committed, or the integrator is behind).`),
  witnessInvalid: (detail: string) => new DomainError('log-witness-key-invalid', 400, 'Invalid witness key', detail),
  witnessExists: (name: string) => new DomainError('log-witness-exists', 409, 'Witness already registered', `A witness named ${name} is registered.`),
  cosignatureInvalid: (detail: string) => new DomainError('log-cosignature-invalid', 422, 'Cosignature refused', detail),
  witnessUnknown: (name: string) => new DomainError('log-witness-unknown', 422, 'Unknown witness', `No witness named ${name} with that key is registered.`),
} as const;
