/**
 * The resilience wrapper around a PSP (ADR 0007): retries with the same idempotency key, no retry
 * of a write that timed out, the circuit breaker (open, fast refusal with retry-after, half-open
 * trial), the bulkhead, and what counts as a PSP fault. The PSP here is a scripted stand-in: the
 * wrapper's behaviour is what is under test, and a real PSP cannot be told to fail on cue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@verity/kernel';
import { waitFor } from '@verity/kernel/testing';
import type { PaymentSession, PaymentStatus } from '../src/contract.ts';
import { PspCallError } from '../src/psp/errors.ts';
import { createResilientPsp, type ResiliencePolicy } from '../src/psp/resilient.ts';
import type { CallOptions, PspDriver } from '../src/psp/types.ts';

const log = createLogger('silent');
const POLICY: ResiliencePolicy = { timeoutMs: 150, retryMax: 2, retryInitialDelayMs: 5, retryMaxDelayMs: 20, breakerFailures: 3, breakerHalfOpenMs: 300, bulkheadMax: 2, bulkheadQueue: 1 };

type Step = 'ok' | 'fail' | 'reject' | 'hang';

/** A PSP that does what its script says, call by call (the last step repeats), and records every call. */
function scriptedPsp(script: Step[]) {
  const calls: { op: string; key?: string }[] = [];
  let releaseHangs: () => void = () => {};
  const hung = new Promise<void>((r) => (releaseHangs = r));
  const act = async <T>(op: string, value: T, key: string | undefined, call: CallOptions = {}): Promise<T> => {
    const step = script[Math.min(calls.length, script.length - 1)]!;
    calls.push({ op, ...(key ? { key } : {}) });
    if (step === 'fail') throw new PspCallError('transient', 'HTTP 503', { httpStatus: 503 });
    if (step === 'reject') throw new PspCallError('rejected', 'HTTP 400', { httpStatus: 400 });
    if (step === 'hang') {
      await Promise.race([hung, new Promise((_, reject) => call.signal?.addEventListener('abort', () => reject(new Error('aborted'))))]);
    }
    return value;
  };
  const session: PaymentSession = { pspPaymentId: 'pay_1', status: 'succeeded', fundingType: 'debit' };
  const status: PaymentStatus = { ...session, amountMinor: 100n, currency: 'GBP', reference: 'r' };
  const driver: PspDriver = {
    name: 'scripted',
    createPayment: (input, call) => act('createPayment', session, input.idempotencyKey, call),
    getPayment: (_id, call) => act('getPayment', status, undefined, call),
    findPaymentByReference: (_ref, call) => act('findPaymentByReference', status, undefined, call),
    createPayout: (input, call) => act('createPayout', { pspPayoutId: 'po_1', status: 'pending' as const }, input.idempotencyKey, call),
    findPayoutByReference: (_ref, call) => act('findPayoutByReference', undefined, undefined, call),
    refundPayment: (input, call) => act('refundPayment', { pspRefundId: 're_1', status: 'succeeded' as const }, input.idempotencyKey, call),
    parseWebhook: () => undefined,
    settlementReport: (_day, call) => act('settlementReport', [], undefined, call),
  };
  return { driver, calls, release: () => releaseHangs() };
}

const payment = (key = 'dep-0001') => ({ idempotencyKey: key, reference: key, amountMinor: 100n, currency: 'GBP', playerId: 'p1' });
const code = (expected: string) => (err: Error & { code?: string }) => err.code === expected;

describe('PSP resilience', () => {
  it('when calls fail fast, then they are retried with the same idempotency key and the last answer wins', async () => {
    const psp = scriptedPsp(['fail', 'fail', 'ok']);
    const wrapped = createResilientPsp(psp.driver, POLICY, log);
    assert.equal((await wrapped.createPayment(payment('dep-retry-1'))).status, 'succeeded');
    assert.equal(psp.calls.length, 3);
    assert.deepEqual(new Set(psp.calls.map((c) => c.key)), new Set(['dep-retry-1']), 'never a new key');
  });

  it('when a write keeps failing, then its outcome is unknown (it may have reached the PSP)', async () => {
    const psp = scriptedPsp(['fail']);
    const wrapped = createResilientPsp(psp.driver, { ...POLICY, breakerFailures: 100 }, log);
    await assert.rejects(wrapped.createPayout({ idempotencyKey: 'wd-000001', reference: 'wd', amountMinor: 1n, currency: 'GBP', playerId: 'p', destination: 'd' }), code('psp-outcome-unknown'));
    assert.equal(psp.calls.length, POLICY.retryMax + 1);
  });

  it('when a write times out, then it is not retried and its outcome is unknown; a read that times out is retried', async () => {
    const psp = scriptedPsp(['hang']);
    const wrapped = createResilientPsp(psp.driver, { ...POLICY, breakerFailures: 100 }, log);
    const started = performance.now();
    await assert.rejects(wrapped.createPayment(payment()), code('psp-outcome-unknown'));
    assert.ok(performance.now() - started < POLICY.timeoutMs * 3, 'gave up at the deadline');
    assert.equal(psp.calls.length, 1);

    const reads = scriptedPsp(['hang', 'ok']);
    const wrappedReads = createResilientPsp(reads.driver, POLICY, log);
    assert.equal((await wrappedReads.getPayment('pay_1')).status, 'succeeded');
    assert.equal(reads.calls.length, 2);
    psp.release();
    reads.release();
  });

  it('when failures reach the threshold, then the breaker opens and refuses at once with retry-after; after the delay a trial call closes it', async () => {
    const script: Step[] = ['fail', 'fail', 'fail', 'ok'];
    const psp = scriptedPsp(script);
    const wrapped = createResilientPsp(psp.driver, { ...POLICY, retryMax: 0 }, log);
    for (let i = 0; i < 3; i++) await assert.rejects(wrapped.getPayment('pay_1'), code('psp-unavailable'));
    assert.equal(wrapped.circuit, 'open');

    const started = performance.now();
    const refused = await wrapped.createPayment(payment()).catch((e: Error & { code?: string; extensions?: Record<string, unknown> }) => e);
    assert.equal((refused as { code?: string }).code, 'psp-unavailable');
    assert.ok(Number((refused as { extensions: Record<string, unknown> }).extensions.retryAfterSeconds) >= 1);
    assert.ok(performance.now() - started < 20, 'refused without waiting');
    assert.equal(psp.calls.length, 3, 'the PSP was not called');
    assert.throws(() => wrapped.assertAvailable(), code('psp-unavailable'));

    await waitFor(() => wrapped.retryAfterS() === 0, { timeoutMs: 2_000, intervalMs: 20, what: 'the half-open delay' });
    assert.doesNotThrow(() => wrapped.assertAvailable());
    assert.equal((await wrapped.createPayment(payment())).status, 'succeeded');
    assert.equal(wrapped.circuit, 'closed');
  });

  it('when the trial call fails, then the breaker opens again', async () => {
    const psp = scriptedPsp(['fail']);
    const wrapped = createResilientPsp(psp.driver, { ...POLICY, retryMax: 0, breakerFailures: 1 }, log);
    await assert.rejects(wrapped.getPayment('x'), code('psp-unavailable'));
    assert.equal(wrapped.circuit, 'open');
    await waitFor(() => wrapped.retryAfterS() === 0, { timeoutMs: 2_000, intervalMs: 20, what: 'the half-open delay' });
    await assert.rejects(wrapped.getPayment('x'), code('psp-unavailable'));
    assert.equal(wrapped.circuit, 'open');
    assert.equal(psp.calls.length, 2);
  });

  it('when a write is refused by a breaker that its own failures opened, then its outcome is unknown, not "nothing sent"', async () => {
    const psp = scriptedPsp(['fail']);
    const wrapped = createResilientPsp(psp.driver, { ...POLICY, retryMax: 3, breakerFailures: 2 }, log);
    await assert.rejects(wrapped.createPayment(payment()), code('psp-outcome-unknown'));
    assert.equal(psp.calls.length, 2);
    assert.equal(wrapped.circuit, 'open');
  });

  it('when more calls arrive than the bulkhead holds, then the extra ones fail fast with psp-unavailable', async () => {
    const psp = scriptedPsp(['hang']);
    const wrapped = createResilientPsp(psp.driver, { ...POLICY, timeoutMs: 5_000 }, log);
    const running = [wrapped.createPayment(payment('dep-a-0001')), wrapped.createPayment(payment('dep-b-0001')), wrapped.createPayment(payment('dep-c-0001'))];
    await assert.rejects(wrapped.createPayment(payment('dep-d-0001')), code('psp-unavailable'));
    psp.release();
    const settled = await Promise.all(running);
    assert.equal(settled.length, 3);
    assert.equal(psp.calls.length, 3, 'two ran, one queued, the fourth never reached the PSP');
  });

  it('when the PSP refuses a request for good, then it is neither retried nor counted by the breaker', async () => {
    const psp = scriptedPsp(['reject']);
    const wrapped = createResilientPsp(psp.driver, POLICY, log);
    for (let i = 0; i < 5; i++) await assert.rejects(wrapped.refundPayment({ idempotencyKey: `rf-${i}-000000`, pspPaymentId: 'pay_1', amountMinor: 1n, reason: 'x' }), code('psp-rejected'));
    assert.equal(psp.calls.length, 5);
    assert.equal(wrapped.circuit, 'closed');
  });
});
