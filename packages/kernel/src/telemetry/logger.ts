/**
 * pino JSON logs: one line per event, with the trace id and the actor of the request in progress
 * (from requestContext, so module code gets them without threading a logger), and no personal data.
 */
import pino from 'pino';
import { actorOf } from '../audit/audit.ts';
import { requestContext } from '../http/context.ts';

export type Logger = pino.Logger;

/** Fields whose values never reach a log line, at any depth: personal data and secrets. */
export const REDACTED_KEYS: ReadonlySet<string> = new Set([
  'password', 'newPassword', 'currentPassword', 'temporaryPassword', 'email', 'legalName', 'firstName', 'lastName',
  'dateOfBirth', 'address', 'phone', 'documentNumber', 'iban', 'cardNumber',
  'token', 'accessToken', 'refreshToken', 'idToken', 'session', 'secret', 'totpSecret', 'otpauthUri', 'code',
  'authorization', 'cookie', 'set-cookie', 'idempotency-key',
]);
const CENSOR = '[redacted]';
/** Deeper than any object worth logging; beyond it values are dropped, not scanned. */
const REDACT_DEPTH_MAX = 8;

/**
 * A copy of `value` with every REDACTED_KEYS member censored. Objects without such a key are
 * returned as they are (no copy), and the caller's objects are never modified. It runs only for
 * lines that are written, unlike pino's path-based `redact`, which also runs on every child logger.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > REDACT_DEPTH_MAX) return '[too deep]';
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const r = redact(item, depth + 1);
      if (r !== item) (copy ??= [...value])[i] = r;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = REDACTED_KEYS.has(k) ? CENSOR : redact(v, depth + 1);
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return copy ?? value;
}

/** Marks a logger whose bindings already carry the trace id (the mixin then does not repeat it). */
const TRACE_BOUND = Symbol('verity.traceBound');

export interface LoggerOptions {
  base?: Record<string, unknown>;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  destination?: pino.DestinationStream;
}

export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'verity', ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
        bindings: (bindings) => redact(bindings) as Record<string, unknown>,
      },
      mixin(_merge, _level, logger) {
        const ctx = requestContext.get();
        if (!ctx) return {};
        const out: Record<string, unknown> = {};
        if (!(logger as unknown as Record<symbol, unknown>)[TRACE_BOUND]) out.traceId = ctx.trace.traceId;
        if (ctx.principal) out.actor = actorOf(ctx.principal);
        return out;
      },
    },
    opts.destination,
  );
}

/** A child logger bound to one trace, for code that runs outside the request's async context. */
export function traceLogger<L extends { child(bindings: Record<string, unknown>, options?: never): unknown }>(
  log: L,
  traceId: string,
  bindings?: Record<string, unknown>,
  options?: object,
): L {
  const child = log.child(bindings ? { ...bindings, traceId } : { traceId }, options as never) as L;
  (child as unknown as Record<symbol, unknown>)[TRACE_BOUND] = true;
  return child;
}
