/**
 * The resilience wrapper around one PSP (ADR 0007), with cockatiel. Per call, outermost first:
 *
 *   retry (same idempotency key, exponential backoff with jitter)
 *     → circuit breaker (consecutive failures open it; after a delay one trial call passes)
 *       → bulkhead (calls in flight + a bounded queue)
 *         → timeout (aborts the adapter's HTTP call)
 *
 * Retried: failures that came back fast (network error, 5xx, 429) — safe because a write carries the
 * same idempotency key on every attempt and the PSP dedupes on it; never a new key. A write that
 * timed out is not retried: its time budget is spent and its outcome is unknown, which the caller
 * settles by a status query or the webhook. Reads are retried after timeouts too.
 * Breaker open or bulkhead full: `psp-unavailable` (503 with retry-after) at once, nothing sent.
 */
import {
  BrokenCircuitError, BulkheadRejectedError, CircuitState, ConsecutiveBreaker, ExponentialBackoff, TaskCancelledError, TimeoutStrategy,
  bulkhead, circuitBreaker, handleWhen, retry, timeout, wrap, type RetryPolicy,
} from 'cockatiel';
import type { Logger } from '@verity/kernel';
import type { PspAdapter } from '../contract.ts';
import { PspCallError, PspProblems } from './errors.ts';
import type { CallOptions, PspDriver } from './types.ts';

export interface ResiliencePolicy {
  timeoutMs: number;
  retryMax: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  breakerFailures: number;
  breakerHalfOpenMs: number;
  bulkheadMax: number;
  bulkheadQueue: number;
}

export type CircuitName = 'closed' | 'open' | 'half-open' | 'isolated';

export type ResilienceEvent =
  | { type: 'breaker-opened' | 'breaker-closed' | 'breaker-half-open' }
  | { type: 'retry'; operation: string; attempt: number; delayMs: number }
  | { type: 'timeout' | 'rejected-open' | 'rejected-bulkhead'; operation: string };

/** The wrapped PSP the parts use: the port, plus the breaker's state for fast refusals. */
export interface ResilientPsp extends PspAdapter {
  readonly circuit: CircuitName;
  /** Seconds until an open breaker lets a trial call through (0 when it is not open). */
  retryAfterS(): number;
  /** Throws `psp-unavailable` at once when the breaker is open: commands check before doing work. */
  assertAvailable(): void;
}

type Kind = 'read' | 'write';

const isFastFailure = (err: unknown) => err instanceof PspCallError && err.kind === 'transient';
const isTimeout = (err: unknown) => err instanceof TaskCancelledError;
/** What counts against the breaker: the PSP misbehaved (not: it refused a bad request). */
const isPspFault = (err: unknown) => isFastFailure(err) || isTimeout(err);

const CIRCUIT_NAMES: Record<CircuitState, CircuitName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

export function createResilientPsp(driver: PspDriver, policy: ResiliencePolicy, log: Logger, onEvent?: (e: ResilienceEvent) => void): ResilientPsp {
  const emit = (e: ResilienceEvent) => {
    onEvent?.(e);
    log.debug({ provider: driver.name, ...e }, 'psp resilience');
  };
  const breaker = circuitBreaker(handleWhen(isPspFault), { halfOpenAfter: policy.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(policy.breakerFailures) });
  let openedAtMs = 0;
  breaker.onBreak(() => {
    openedAtMs = Date.now();
    log.warn({ provider: driver.name, halfOpenAfterMs: policy.breakerHalfOpenMs }, 'PSP circuit breaker opened');
    emit({ type: 'breaker-opened' });
  });
  breaker.onReset(() => {
    log.info({ provider: driver.name }, 'PSP circuit breaker closed');
    emit({ type: 'breaker-closed' });
  });
  breaker.onHalfOpen(() => emit({ type: 'breaker-half-open' }));
  const isolation = bulkhead(policy.bulkheadMax, policy.bulkheadQueue);
  const deadline = timeout(policy.timeoutMs, TimeoutStrategy.Aggressive);
  const backoff = () => new ExponentialBackoff({ initialDelay: policy.retryInitialDelayMs, maxDelay: policy.retryMaxDelayMs });
  const retries: Record<Kind, RetryPolicy> = {
    write: retry(handleWhen(isFastFailure), { maxAttempts: policy.retryMax, backoff: backoff() }),
    read: retry(handleWhen((e) => isFastFailure(e) || isTimeout(e)), { maxAttempts: policy.retryMax, backoff: backoff() }),
  };
  const chains = { write: wrap(retries.write, breaker, isolation, deadline), read: wrap(retries.read, breaker, isolation, deadline) };

  const retryAfterS = () => {
    if (breaker.state !== CircuitState.Open) return 0;
    // Past the delay the next call is the trial call: not refused.
    const remainingMs = policy.breakerHalfOpenMs - (Date.now() - openedAtMs);
    return remainingMs > 0 ? Math.max(1, Math.ceil(remainingMs / 1000)) : 0;
  };

  async function run<T>(operation: string, kind: Kind, fn: (call: CallOptions) => Promise<T>): Promise<T> {
    let attempts = 0;
    try {
      return await chains[kind].execute(({ signal }) => {
        attempts++;
        return fn({ signal });
      });
    } catch (err) {
      throw translate(operation, kind, err, attempts);
    }
  }

  function translate(operation: string, kind: Kind, err: unknown, attempts: number): unknown {
    // A write refused on a retry had earlier attempts that may have reached the PSP.
    if (kind === 'write' && attempts > 0 && (err instanceof BrokenCircuitError || err instanceof BulkheadRejectedError)) {
      return PspProblems.outcomeUnknown(driver.name, 'failed, then refused by the circuit breaker');
    }
    if (err instanceof BrokenCircuitError) {
      emit({ type: 'rejected-open', operation });
      return PspProblems.unavailable(driver.name, Math.max(1, retryAfterS()), 'circuit breaker open after repeated failures');
    }
    if (err instanceof BulkheadRejectedError) {
      emit({ type: 'rejected-bulkhead', operation });
      return PspProblems.unavailable(driver.name, 1, 'too many calls in flight');
    }
    if (err instanceof TaskCancelledError) {
      emit({ type: 'timeout', operation });
      return kind === 'write' ? PspProblems.outcomeUnknown(driver.name, `no answer within ${policy.timeoutMs} ms`) : PspProblems.unavailable(driver.name, 1, 'status query timed out');
    }
    if (err instanceof PspCallError) {
      if (err.kind === 'transient') {
        return kind === 'write' ? PspProblems.outcomeUnknown(driver.name, err.message) : PspProblems.unavailable(driver.name, 1, err.message);
      }
      return PspProblems.rejected(driver.name, err.message);
    }
    return err;
  }

  for (const [kind, r] of Object.entries(retries)) {
    r.onRetry((reason) => emit({ type: 'retry', operation: kind, attempt: reason.attempt, delayMs: reason.delay }));
  }

  return {
    name: driver.name,
    paymentEventsLackHolderName: driver.paymentEventsLackHolderName === true,
    get circuit() {
      return CIRCUIT_NAMES[breaker.state];
    },
    retryAfterS,
    assertAvailable() {
      const wait = retryAfterS();
      if (wait > 0) throw PspProblems.unavailable(driver.name, wait, 'circuit breaker open after repeated failures');
    },
    createPayment: (input) => run('createPayment', 'write', (call) => driver.createPayment(input, call)),
    getPayment: (id) => run('getPayment', 'read', (call) => driver.getPayment(id, call)),
    findPaymentByReference: (ref) => run('findPaymentByReference', 'read', (call) => driver.findPaymentByReference(ref, call)),
    createPayout: (input) => run('createPayout', 'write', (call) => driver.createPayout(input, call)),
    findPayoutByReference: (ref) => run('findPayoutByReference', 'read', (call) => driver.findPayoutByReference(ref, call)),
    refundPayment: (input) => run('refundPayment', 'write', (call) => driver.refundPayment(input, call)),
    settlementReport: (day) => run('settlementReport', 'read', (call) => driver.settlementReport(day, call)),
    // Local: no network, nothing to protect.
    parseWebhook: (raw, headers) => driver.parseWebhook(raw, headers),
  };
}
