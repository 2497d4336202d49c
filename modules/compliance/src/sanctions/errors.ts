/** The sanctions part's problems (problem+json codes clients branch on). */
import { DomainError } from '@verity/kernel';

export const SanctionsProblems = {
  listInvalid: (detail: string) => new DomainError('sanctions-list-invalid', 422, 'The sanctions list could not be read', detail),
  listTooLarge: (max: number) => new DomainError('sanctions-list-too-large', 413, 'Sanctions list too large', `A list file may hold at most ${max} bytes or entries.`),
  identityUnavailable: (playerId: string) =>
    new DomainError('screening-identity-unavailable', 503, 'Player identity unavailable', `The identity of player ${playerId} could not be read for screening; retry later.`),
  downloadFailed: (detail: string) => new DomainError('sanctions-download-failed', 502, 'Sanctions list download failed', detail),
} as const;
