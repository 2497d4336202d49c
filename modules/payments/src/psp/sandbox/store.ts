/**
 * The sandbox PSP's books: payments, payouts, refunds, the idempotency keys it dedupes on, the
 * events it emits and the settlement report. Kept in memory and journaled to a JSON-lines file, so
 * a restarted development platform still finds yesterday's payments (status queries, settlement).
 * Every operation is synchronous: two requests with the same idempotency key cannot interleave.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TEST_CARD, TEST_CARDS } from './cards.ts';

export interface SandboxPayment {
  id: string;
  object: 'payment';
  status: 'requires_action' | 'processing' | 'succeeded' | 'failed';
  amount_minor: string;
  currency: string;
  reference: string;
  customer_ref: string;
  payment_method: string;
  funding: string;
  /**
   * The cardholder's name as given with the payment (Stripe's `billing_details.name`). Absent, with
   * `method_ref`, in journals written before the sandbox kept them.
   */
  billing_details?: { name: string | null };
  /** The card's fingerprint: the same card (number and name on it) gives the same value, every time. */
  method_ref?: string;
  action_url: string | null;
  return_url: string | null;
  notify_url: string | null;
  failure_reason: string | null;
  refunded_minor: string;
  created_at: string;
  settled_at: string | null;
}

export interface SandboxPayout {
  id: string;
  object: 'payout';
  status: 'pending' | 'paid' | 'failed';
  amount_minor: string;
  currency: string;
  reference: string;
  customer_ref: string;
  destination: string;
  notify_url: string | null;
  failure_reason: string | null;
  created_at: string;
  settled_at: string | null;
}

export interface SandboxRefund {
  id: string;
  object: 'refund';
  status: 'succeeded' | 'failed';
  payment: string;
  amount_minor: string;
  currency: string;
  reference: string;
  reason: string;
  notify_url: string | null;
  created_at: string;
  settled_at: string | null;
}

export type SandboxObject = SandboxPayment | SandboxPayout | SandboxRefund;

export interface SandboxEvent {
  id: string;
  type: string;
  created_at: string;
  data: { object: SandboxObject };
}

/** A request the sandbox refuses (answered 4xx with a Stripe-like error body). */
export class SandboxRequestError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export interface StoredAnswer {
  fingerprint: string;
  status: number;
  body: unknown;
}

/** Bounds on memory: a sandbox, not a bank. */
const IDEMPOTENCY_KEYS_MAX = 50_000;
const EVENTS_MAX = 2_000;
const AMOUNT = /^[1-9][0-9]{0,14}$/;
const CURRENCY = /^[A-Z]{3}$/;
const TEXT_MAX = 500;
const HOLDER_NAME_MAX = 200;

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

function text(value: unknown, field: string, required = true): string {
  if (value === undefined || value === null || value === '') {
    if (required) throw new SandboxRequestError(400, 'invalid_request_error', `${field} is required`);
    return '';
  }
  if (typeof value !== 'string' || value.length > TEXT_MAX) throw new SandboxRequestError(400, 'invalid_request_error', `${field} must be a string of at most ${TEXT_MAX} characters`);
  return value;
}

/** `billing_details: { name }`, both optional, as Stripe takes them. */
function billingName(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new SandboxRequestError(400, 'invalid_request_error', 'billing_details must be an object');
  const name = (value as Record<string, unknown>).name;
  if (name === undefined || name === null) return null;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > HOLDER_NAME_MAX) {
    throw new SandboxRequestError(400, 'invalid_request_error', `billing_details.name must be a non-blank string of at most ${HOLDER_NAME_MAX} characters`);
  }
  return name.trim();
}

function amount(value: unknown): string {
  if (typeof value !== 'string' || !AMOUNT.test(value)) throw new SandboxRequestError(400, 'invalid_request_error', 'amount_minor must be a positive integer string');
  return value;
}

function currency(value: unknown): string {
  if (typeof value !== 'string' || !CURRENCY.test(value)) throw new SandboxRequestError(400, 'invalid_request_error', 'currency must be an ISO 4217 code');
  return value;
}

export interface StoreOptions {
  /** Folder of the journal and the settlement reports; none: memory only. */
  dir?: string;
  /** Base URL of the sandbox, for challenge (action) URLs. */
  baseUrl: () => string;
  /**
   * Keys card fingerprints, as a real PSP's are keyed per account: a fingerprint says "same card"
   * without letting anyone test guesses of the name on it.
   */
  fingerprintKey: string;
  /** Called for every event, in the order the PSP emits them. `terminal`: the object reached its final state. */
  onEvent: (event: SandboxEvent, notifyUrl: string | null, terminal: boolean) => void;
  now?: () => Date;
}

export class SandboxStore {
  readonly payments = new Map<string, SandboxPayment>();
  readonly payouts = new Map<string, SandboxPayout>();
  readonly refunds = new Map<string, SandboxRefund>();
  readonly events: SandboxEvent[] = [];
  private readonly paymentByRef = new Map<string, string>();
  private readonly payoutByRef = new Map<string, string>();
  private readonly idempotency = new Map<string, StoredAnswer>();
  private readonly options: StoreOptions;
  private readonly now: () => Date;

  constructor(options: StoreOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    if (options.dir) {
      mkdirSync(path.join(options.dir, 'settlements'), { recursive: true });
      this.replayJournal();
    }
  }

  // ─────────── idempotency ───────────

  answered(key: string): StoredAnswer | undefined {
    return this.idempotency.get(key);
  }

  remember(key: string, answer: StoredAnswer): void {
    this.idempotency.set(key, answer);
    if (this.idempotency.size > IDEMPOTENCY_KEYS_MAX) this.idempotency.delete(this.idempotency.keys().next().value!);
  }

  // ─────────── payments ───────────

  createPayment(body: Record<string, unknown>): SandboxPayment {
    const method = text(body.payment_method, 'payment_method', false) || DEFAULT_TEST_CARD;
    const card = TEST_CARDS[method];
    if (!card) throw new SandboxRequestError(400, 'invalid_request_error', `payment_method ${method.slice(0, 40)} is not a sandbox test card`);
    const id = newId('pay');
    // Sandbox test card numbers are shared by everyone: a "card" here is the number and the name on it.
    const holderName = billingName(body.billing_details);
    const payment: SandboxPayment = {
      id,
      object: 'payment',
      status: 'processing',
      amount_minor: amount(body.amount_minor),
      currency: currency(body.currency),
      reference: text(body.reference, 'reference'),
      customer_ref: text(body.customer_ref, 'customer_ref', false),
      payment_method: method,
      funding: card.funding,
      billing_details: { name: holderName },
      method_ref: `fp_${createHmac('sha256', this.options.fingerprintKey).update(`${method}\n${holderName ?? ''}`).digest('hex').slice(0, 24)}`,
      action_url: null,
      return_url: text(body.return_url, 'return_url', false) || null,
      notify_url: text(body.notify_url, 'notify_url', false) || null,
      failure_reason: null,
      refunded_minor: '0',
      created_at: this.now().toISOString(),
      settled_at: null,
    };
    this.payments.set(id, payment);
    if (!this.paymentByRef.has(payment.reference)) this.paymentByRef.set(payment.reference, id);
    if (card.flow === 'challenge') {
      payment.status = 'requires_action';
      payment.action_url = `${this.options.baseUrl()}/sandbox/3ds/${id}`;
      this.changed(payment, 'payment.requires_action', false);
    } else if (card.flow === 'decline') this.failPayment(payment, 'card_declined');
    else this.succeedPayment(payment);
    return payment;
  }

  paymentByReference(reference: string): SandboxPayment | undefined {
    const id = this.paymentByRef.get(reference);
    return id ? this.payments.get(id) : undefined;
  }

  completeChallenge(id: string, outcome: 'succeed' | 'fail'): SandboxPayment {
    const payment = this.payments.get(id);
    if (!payment) throw new SandboxRequestError(404, 'invalid_request_error', `No such payment: ${id}`);
    if (payment.status !== 'requires_action') throw new SandboxRequestError(409, 'invalid_request_error', `Payment ${id} is ${payment.status}, not waiting for a challenge`);
    if (outcome === 'succeed') this.succeedPayment(payment);
    else this.failPayment(payment, 'authentication_failed');
    return payment;
  }

  private succeedPayment(payment: SandboxPayment): void {
    payment.status = 'succeeded';
    payment.settled_at = this.now().toISOString();
    this.settle('payment', payment.id, payment.reference, payment.amount_minor, payment.currency, payment.settled_at);
    this.changed(payment, 'payment.succeeded', true);
  }

  private failPayment(payment: SandboxPayment, reason: string): void {
    payment.status = 'failed';
    payment.failure_reason = reason;
    this.changed(payment, 'payment.failed', true);
  }

  // ─────────── payouts ───────────

  createPayout(body: Record<string, unknown>): SandboxPayout {
    const id = newId('po');
    const payout: SandboxPayout = {
      id,
      object: 'payout',
      status: 'pending',
      amount_minor: amount(body.amount_minor),
      currency: currency(body.currency),
      reference: text(body.reference, 'reference'),
      customer_ref: text(body.customer_ref, 'customer_ref', false),
      destination: text(body.destination, 'destination'),
      notify_url: text(body.notify_url, 'notify_url', false) || null,
      failure_reason: null,
      created_at: this.now().toISOString(),
      settled_at: null,
    };
    this.payouts.set(id, payout);
    if (!this.payoutByRef.has(payout.reference)) this.payoutByRef.set(payout.reference, id);
    this.journal(payout);
    return payout;
  }

  payoutByReference(reference: string): SandboxPayout | undefined {
    const id = this.payoutByRef.get(reference);
    return id ? this.payouts.get(id) : undefined;
  }

  /** The bank run: a destination containing "decline" bounces, any other is paid. */
  settlePayout(id: string): void {
    const payout = this.payouts.get(id);
    if (!payout || payout.status !== 'pending') return;
    if (payout.destination.includes('decline')) {
      payout.status = 'failed';
      payout.failure_reason = 'destination_declined';
      this.changed(payout, 'payout.failed', true);
      return;
    }
    payout.status = 'paid';
    payout.settled_at = this.now().toISOString();
    this.settle('payout', payout.id, payout.reference, payout.amount_minor, payout.currency, payout.settled_at);
    this.changed(payout, 'payout.paid', true);
  }

  pendingPayouts(): SandboxPayout[] {
    return [...this.payouts.values()].filter((p) => p.status === 'pending');
  }

  // ─────────── refunds ───────────

  createRefund(body: Record<string, unknown>): SandboxRefund {
    const paymentId = text(body.payment, 'payment');
    const payment = this.payments.get(paymentId);
    if (!payment) throw new SandboxRequestError(404, 'invalid_request_error', `No such payment: ${paymentId}`);
    if (payment.status !== 'succeeded') throw new SandboxRequestError(400, 'invalid_request_error', `Payment ${paymentId} is ${payment.status}; only succeeded payments can be refunded`);
    const value = amount(body.amount_minor);
    const left = BigInt(payment.amount_minor) - BigInt(payment.refunded_minor);
    if (BigInt(value) > left) throw new SandboxRequestError(400, 'invalid_request_error', `Refund of ${value} exceeds the ${left} left on ${paymentId}`);
    payment.refunded_minor = (BigInt(payment.refunded_minor) + BigInt(value)).toString();
    this.journal(payment);
    const now = this.now().toISOString();
    const refund: SandboxRefund = {
      id: newId('re'),
      object: 'refund',
      status: 'succeeded',
      payment: paymentId,
      amount_minor: value,
      currency: payment.currency,
      reference: payment.reference,
      reason: text(body.reason, 'reason', false) || 'requested_by_customer',
      notify_url: text(body.notify_url, 'notify_url', false) || payment.notify_url,
      created_at: now,
      settled_at: now,
    };
    this.refunds.set(refund.id, refund);
    this.settle('refund', refund.id, refund.reference, refund.amount_minor, refund.currency, now);
    this.changed(refund, 'refund.succeeded', true);
    return refund;
  }

  // ─────────── settlement report ───────────

  settlementFile(day: string): string | undefined {
    return this.options.dir ? path.join(this.options.dir, 'settlements', `${day}.csv`) : undefined;
  }

  settlementCsv(day: string): string {
    const file = this.settlementFile(day);
    const header = 'kind,psp_object_id,reference,amount_minor,currency,settled_at\n';
    if (!file || !existsSync(file)) return header;
    return header + readFileSync(file, 'utf8');
  }

  private settle(kind: string, id: string, reference: string, amountMinor: string, cur: string, settledAt: string): void {
    const file = this.settlementFile(settledAt.slice(0, 10));
    // References are ours (UUIDs); anything with a comma or quote would break the CSV, so it is quoted.
    const ref = /[",\n]/.test(reference) ? `"${reference.replace(/"/g, '""')}"` : reference;
    if (file) appendFileSync(file, `${kind},${id},${ref},${amountMinor},${cur},${settledAt}\n`);
  }

  // ─────────── events and journal ───────────

  private changed(object: SandboxObject, type: string, terminal: boolean): void {
    this.journal(object);
    const event: SandboxEvent = { id: newId('evt'), type, created_at: this.now().toISOString(), data: { object: structuredClone(object) } };
    this.events.push(event);
    if (this.events.length > EVENTS_MAX) this.events.splice(0, this.events.length - EVENTS_MAX);
    this.options.onEvent(event, object.notify_url, terminal);
  }

  private journal(object: SandboxObject): void {
    if (this.options.dir) appendFileSync(path.join(this.options.dir, 'objects.jsonl'), `${JSON.stringify(object)}\n`);
  }

  private replayJournal(): void {
    const file = path.join(this.options.dir!, 'objects.jsonl');
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      let object: SandboxObject;
      try {
        object = JSON.parse(line) as SandboxObject;
      } catch {
        continue; // a line torn by a crash mid-write
      }
      if (object.object === 'payment') {
        this.payments.set(object.id, object);
        if (!this.paymentByRef.has(object.reference)) this.paymentByRef.set(object.reference, object.id);
      } else if (object.object === 'payout') {
        this.payouts.set(object.id, object);
        if (!this.payoutByRef.has(object.reference)) this.payoutByRef.set(object.reference, object.id);
      } else if (object.object === 'refund') this.refunds.set(object.id, object);
    }
  }
}
