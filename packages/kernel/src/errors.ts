/**
 * Errors with stable codes. Services throw `DomainError`s; the HTTP layer turns them into RFC 9457
 * problem+json with `type` = `/problems/<code>`. Anything else becomes a 500 with no detail leaked.
 */
export interface FieldError {
  /** JSON Pointer into the request (`/body/email`). */
  pointer: string;
  detail: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export class DomainError extends Error {
  override name = 'DomainError';
  /** Stable, kebab-case; clients branch on it. */
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly errors?: FieldError[];
  constructor(code: string, status: number, title: string, detail?: string, extensions: Record<string, unknown> = {}, errors?: FieldError[]) {
    super(detail ?? title);
    this.code = code;
    this.status = status;
    this.title = title;
    this.extensions = extensions;
    if (errors) this.errors = errors;
  }
  get detail(): string {
    return this.message;
  }
}

export const problemTypeUri = (code: string) => `/problems/${code}`;

/** Catalogue of the kernel's own problems; modules add theirs with `new DomainError(...)`. */
export const Problems = {
  validation: (errors: FieldError[], detail = 'The request is not valid.') =>
    new DomainError('validation-failed', 400, 'Your request parameters did not validate', detail, {}, errors),
  malformed: (detail: string) => new DomainError('malformed-request', 400, 'The request could not be read', detail),
  unauthenticated: (detail = 'A valid bearer token is required.') => new DomainError('unauthenticated', 401, 'Authentication required', detail),
  sessionEnded: () => new DomainError('session-ended', 401, 'Session ended', 'Your session was ended (signed out, or changed by an administrator). Sign in again.'),
  forbidden: (detail = 'You do not have permission for this action.') => new DomainError('forbidden', 403, 'Forbidden', detail),
  mfaRequired: () => new DomainError('mfa-required', 403, 'Multi-factor authentication required', 'Sign in with your authenticator app to use operator routes.'),
  stepUpRequired: (maxAgeS: number) =>
    new DomainError('step-up-required', 403, 'Recent authentication required', `This action needs a sign-in within the last ${maxAgeS} seconds. Sign in again and retry.`, { maxAgeSeconds: maxAgeS }),
  notFound: (what = 'resource') => new DomainError('not-found', 404, 'Not found', `The ${what} does not exist.`),
  conflict: (detail: string) => new DomainError('conflict', 409, 'Conflict', detail),
  idempotencyKeyReused: () =>
    new DomainError('idempotency-key-reused', 422, 'Idempotency key reused with a different request', 'This Idempotency-Key was first used with another request body or path. Use a new key for a new request.'),
  idempotencyKeyInvalid: () => new DomainError('idempotency-key-invalid', 400, 'Invalid Idempotency-Key', 'Idempotency-Key must be 8 to 255 visible ASCII characters.'),
  idempotencyInProgress: () => new DomainError('idempotency-in-progress', 409, 'The same request is still being processed', 'Retry after a moment to get its result.'),
  payloadTooLarge: (limit: number) => new DomainError('payload-too-large', 413, 'Request body too large', `The body must be at most ${limit} bytes.`),
  unsupportedMediaType: () => new DomainError('unsupported-media-type', 415, 'Unsupported media type', 'Send application/json.'),
  rateLimited: (retryAfterS: number) => new DomainError('rate-limited', 429, 'Too many requests', `Retry in ${retryAfterS} seconds.`, { retryAfterSeconds: retryAfterS }),
  unavailable: (detail: string) => new DomainError('service-unavailable', 503, 'Service unavailable', detail),
  internal: () => new DomainError('internal-error', 500, 'Internal server error', 'Something went wrong on our side. Quote the instance id if you contact support.'),
} as const;

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
