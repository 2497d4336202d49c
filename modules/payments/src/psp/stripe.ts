/**
 * Stripe behind the PSP port, on the official `stripe` library.
 *
 * - Deposits are PaymentIntents confirmed at creation with our idempotency key and
 *   `metadata.reference` (the deposit id). 3-D Secure: `requires_action` with a redirect URL when a
 *   return URL is given. The card's funding type comes from the expanded PaymentMethod
 *   (`card.funding`), else from the charge's `payment_method_details.card.funding`.
 * - A succeeded payment reports its PaymentMethod's `billing_details.name` as the holder name and the
 *   card's `fingerprint` as the method id (for AML's name check). The PaymentMethod carries its
 *   billing details from the player's browser (Stripe.js), so `cardholderName` is not sent. Webhooks
 *   carry the PaymentMethod unexpanded: a status query (`getPayment`) gives the name.
 * - Payouts use Stripe Connect: the player's verified payout destination is a connected account
 *   (`acct_…`); a payout is a Transfer to it (`transfer_group` = our reference) and the connected
 *   account's payout schedule takes it to the player's bank. A Transfer either exists (paid from our
 *   balance) or not; a reversal (`transfer.reversed`) is a failed payout.
 * - Refunds are Refunds of the PaymentIntent, with our idempotency key.
 * - Webhooks: `stripe.webhooks.constructEvent` (signature + 5-minute tolerance) on the raw body.
 * - Settlement: balance transactions of the day (`created` in [day, day+1)).
 * The library's own retries are off (`maxNetworkRetries: 0`): the resilience wrapper retries, with
 * the same idempotency key, and its breaker must see every failure.
 */
import Stripe from 'stripe';
import type { FundingType, PaymentSession, PaymentStatus, PayoutResult, PspAdapter, PspEvent, SettlementLine } from '../contract.ts';
import { PspCallError, PspProblems } from './errors.ts';
import { WEBHOOK_TOLERANCE_S } from './signature.ts';
import type { CallOptions, PspDriver } from './types.ts';

export interface StripePspOptions {
  secretKey: string;
  webhookSecret: string;
  /** e.g. `http://127.0.0.1:12111` for stripe-mock or a test's fake server. */
  apiBase?: string;
  timeoutMs: number;
  /** Default payment method when a deposit names none (Stripe test PaymentMethod in test mode). */
  defaultPaymentMethod?: string;
  nowS?: () => number;
}

const REFERENCE = /^[A-Za-z0-9_-]{1,100}$/;
const SETTLEMENT_ROWS_MAX = 100_000;
const FUNDING = new Set(['debit', 'credit', 'prepaid', 'unknown']);

function toStripeAmount(amountMinor: bigint): number {
  if (amountMinor <= 0n || amountMinor > BigInt(Number.MAX_SAFE_INTEGER)) throw new PspCallError('rejected', `amount ${amountMinor} out of range`);
  return Number(amountMinor);
}

function fundingOf(pi: Stripe.PaymentIntent): FundingType | undefined {
  const pm = pi.payment_method;
  const fromMethod = typeof pm === 'object' && pm !== null ? pm.card?.funding : undefined;
  const charge = pi.latest_charge;
  const fromCharge = typeof charge === 'object' && charge !== null ? charge.payment_method_details?.card?.funding : undefined;
  const f = fromMethod ?? fromCharge ?? undefined;
  return f ? ((FUNDING.has(f) ? f : 'unknown') as FundingType) : undefined;
}

/** The PaymentMethod's billing name and card fingerprint (or the charge's, when only it is expanded). */
function methodOf(pi: Stripe.PaymentIntent): { holderName?: string; methodRef?: string } {
  const pm = typeof pi.payment_method === 'object' && pi.payment_method !== null ? pi.payment_method : undefined;
  const charge = typeof pi.latest_charge === 'object' && pi.latest_charge !== null ? pi.latest_charge : undefined;
  const name = (pm?.billing_details?.name ?? charge?.billing_details?.name ?? '').trim();
  const ref = pm?.card?.fingerprint ?? charge?.payment_method_details?.card?.fingerprint ?? pm?.id;
  return { ...(name ? { holderName: name } : {}), ...(ref ? { methodRef: ref } : {}) };
}

function sessionOf(pi: Stripe.PaymentIntent): PaymentSession {
  const out: PaymentSession = { pspPaymentId: pi.id, status: 'processing' };
  switch (pi.status) {
    case 'succeeded':
      out.status = 'succeeded';
      Object.assign(out, methodOf(pi));
      break;
    case 'requires_action': {
      out.status = 'requires_action';
      const url = pi.next_action?.redirect_to_url?.url;
      if (url) out.actionUrl = url;
      break;
    }
    case 'requires_payment_method':
    case 'canceled':
      out.status = 'failed';
      out.failureReason = pi.last_payment_error?.code ?? pi.cancellation_reason ?? pi.status;
      break;
    default:
      out.status = 'processing';
  }
  const funding = fundingOf(pi);
  if (funding) out.fundingType = funding;
  return out;
}

const statusOf = (pi: Stripe.PaymentIntent): PaymentStatus => ({
  ...sessionOf(pi),
  amountMinor: BigInt(pi.amount),
  currency: pi.currency.toUpperCase(),
  reference: pi.metadata?.reference ?? '',
});

function payoutOf(t: Stripe.Transfer): PayoutResult {
  return t.reversed ? { pspPayoutId: t.id, status: 'failed', failureReason: 'transfer_reversed' } : { pspPayoutId: t.id, status: 'paid' };
}

/** Stripe's errors → did the PSP fail (retry), refuse for good, or not know the object. */
function mapError(err: unknown): unknown {
  if (!(err instanceof Stripe.errors.StripeError)) return err;
  const status = err.statusCode;
  if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeAPIError || err instanceof Stripe.errors.StripeRateLimitError || (status !== undefined && status >= 500)) {
    return new PspCallError('transient', `stripe: ${err.message}`, { ...(status ? { httpStatus: status } : {}), pspCode: err.type, cause: err });
  }
  if (status === 404 || err.code === 'resource_missing') return new PspCallError('not-found', `stripe: ${err.message}`, { httpStatus: 404, pspCode: err.code ?? err.type });
  return new PspCallError('rejected', `stripe: ${err.message}`, { ...(status ? { httpStatus: status } : {}), pspCode: err.code ?? err.type });
}

export class StripePsp implements PspDriver {
  readonly name = 'stripe';
  readonly paymentEventsLackHolderName = true;
  readonly stripe: Stripe;
  private readonly options: StripePspOptions;

  constructor(options: StripePspOptions) {
    this.options = options;
    const base = options.apiBase ? new URL(options.apiBase) : undefined;
    this.stripe = new Stripe(options.secretKey, {
      maxNetworkRetries: 0,
      timeout: options.timeoutMs,
      telemetry: false,
      ...(base ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'http:' ? 'http' : 'https' } : {}),
    });
  }

  async createPayment(input: Parameters<PspAdapter['createPayment']>[0], _call?: CallOptions): Promise<PaymentSession> {
    const params: Stripe.PaymentIntentCreateParams = {
      amount: toStripeAmount(input.amountMinor),
      currency: input.currency.toLowerCase(),
      confirm: true,
      payment_method: input.paymentMethod ?? this.options.defaultPaymentMethod ?? 'pm_card_visa_debit',
      allowed_payment_method_types: ['card'],
      metadata: { reference: input.reference, player_id: input.playerId },
      expand: ['payment_method', 'latest_charge'],
      ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
    };
    try {
      return sessionOf(await this.stripe.paymentIntents.create(params, { idempotencyKey: input.idempotencyKey }));
    } catch (err) {
      // A decline is an answer, not a failure: the PaymentIntent is in the error.
      if (err instanceof Stripe.errors.StripeCardError && err.payment_intent) {
        return { ...sessionOf(err.payment_intent), status: 'failed', failureReason: err.decline_code ?? err.code ?? 'card_declined' };
      }
      throw mapError(err);
    }
  }

  async getPayment(pspPaymentId: string): Promise<PaymentStatus> {
    try {
      return statusOf(await this.stripe.paymentIntents.retrieve(pspPaymentId, { expand: ['payment_method', 'latest_charge'] }));
    } catch (err) {
      throw mapError(err);
    }
  }

  async findPaymentByReference(reference: string): Promise<PaymentStatus | undefined> {
    if (!REFERENCE.test(reference)) throw new PspCallError('rejected', 'reference has characters Stripe search cannot quote');
    try {
      // Search is eventually consistent (about a minute): callers wait a grace period before concluding "absent".
      const found = await this.stripe.paymentIntents.search({ query: `metadata['reference']:'${reference}'`, limit: 1, expand: ['data.payment_method'] });
      return found.data[0] ? statusOf(found.data[0]) : undefined;
    } catch (err) {
      throw mapError(err);
    }
  }

  async createPayout(input: Parameters<PspAdapter['createPayout']>[0]): Promise<PayoutResult> {
    try {
      const transfer = await this.stripe.transfers.create(
        { amount: toStripeAmount(input.amountMinor), currency: input.currency.toLowerCase(), destination: input.destination, transfer_group: input.reference, metadata: { reference: input.reference, player_id: input.playerId } },
        { idempotencyKey: input.idempotencyKey },
      );
      return payoutOf(transfer);
    } catch (err) {
      throw mapError(err);
    }
  }

  async findPayoutByReference(reference: string): Promise<PayoutResult | undefined> {
    try {
      const list = await this.stripe.transfers.list({ transfer_group: reference, limit: 1 });
      return list.data[0] ? payoutOf(list.data[0]) : undefined;
    } catch (err) {
      throw mapError(err);
    }
  }

  async refundPayment(input: Parameters<PspAdapter['refundPayment']>[0]): Promise<{ pspRefundId: string; status: 'pending' | 'succeeded' | 'failed' }> {
    try {
      const refund = await this.stripe.refunds.create(
        { payment_intent: input.pspPaymentId, amount: toStripeAmount(input.amountMinor), reason: 'requested_by_customer', metadata: { reason: input.reason.slice(0, 500), ...(input.reference ? { reference: input.reference } : {}) } },
        { idempotencyKey: input.idempotencyKey },
      );
      const status = refund.status === 'succeeded' ? 'succeeded' : refund.status === 'failed' || refund.status === 'canceled' ? 'failed' : 'pending';
      return { pspRefundId: refund.id, status };
    } catch (err) {
      throw mapError(err);
    }
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PspEvent | undefined {
    const header = headers['stripe-signature'];
    if (typeof header !== 'string') throw PspProblems.signatureInvalid('The Stripe-Signature header is missing.');
    let event: Stripe.Event;
    try {
      const receivedAtMs = this.options.nowS ? this.options.nowS() * 1000 : Date.now();
      event = this.stripe.webhooks.constructEvent(rawBody, header, this.options.webhookSecret, WEBHOOK_TOLERANCE_S, undefined, receivedAtMs);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError && /tolerance/i.test(err.message)) throw PspProblems.timestampStale(WEBHOOK_TOLERANCE_S);
      throw PspProblems.signatureInvalid();
    }
    return eventOf(event);
  }

  async settlementReport(day: string): Promise<SettlementLine[]> {
    const from = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000);
    if (!Number.isFinite(from)) throw new PspCallError('rejected', `not a day: ${day}`);
    const lines: SettlementLine[] = [];
    try {
      const list = this.stripe.balanceTransactions.list({ created: { gte: from, lt: from + 86_400 }, limit: 100, expand: ['data.source'] });
      for await (const bt of list) {
        const line = settlementLineOf(bt);
        if (line) lines.push(line);
        if (lines.length >= SETTLEMENT_ROWS_MAX) break;
      }
    } catch (err) {
      throw mapError(err);
    }
    return lines;
  }
}

/** Stripe event → port event; undefined for types we do not act on. */
export function eventOf(event: Stripe.Event): PspEvent | undefined {
  const base = { eventId: event.id, occurredAt: new Date(event.created * 1000) };
  const paymentTypes: Record<string, PspEvent['type']> = {
    'payment_intent.succeeded': 'payment.succeeded',
    'payment_intent.payment_failed': 'payment.failed',
    'payment_intent.requires_action': 'payment.requires_action',
  };
  const paymentType = paymentTypes[event.type];
  if (paymentType) {
    const pi = event.data.object as Stripe.PaymentIntent;
    const s = sessionOf(pi);
    const out: PspEvent = { ...base, type: paymentType, reference: pi.metadata?.reference ?? '', pspObjectId: pi.id, amountMinor: BigInt(pi.amount), currency: pi.currency.toUpperCase() };
    if (s.fundingType) out.fundingType = s.fundingType;
    if (s.failureReason) out.failureReason = s.failureReason;
    if (s.holderName) out.holderName = s.holderName;
    if (s.methodRef) out.methodRef = s.methodRef;
    return out;
  }
  if (event.type === 'transfer.created' || event.type === 'transfer.reversed') {
    const t = event.data.object as Stripe.Transfer;
    return { ...base, type: event.type === 'transfer.created' ? 'payout.paid' : 'payout.failed', reference: t.transfer_group ?? t.metadata?.reference ?? '', pspObjectId: t.id, amountMinor: BigInt(t.amount), currency: t.currency.toUpperCase() };
  }
  if (event.type === 'refund.created' || event.type === 'refund.updated' || event.type === 'refund.failed') {
    const r = event.data.object as Stripe.Refund;
    if (r.status !== 'succeeded' && r.status !== 'failed') return undefined;
    const out: PspEvent = { ...base, type: r.status === 'succeeded' ? 'refund.succeeded' : 'refund.failed', reference: r.metadata?.reference ?? '', pspObjectId: r.id, amountMinor: BigInt(r.amount), currency: r.currency.toUpperCase() };
    if (r.failure_reason) out.failureReason = r.failure_reason;
    return out;
  }
  return undefined;
}

function settlementLineOf(bt: Stripe.BalanceTransaction): SettlementLine | undefined {
  const source = typeof bt.source === 'object' && bt.source !== null ? (bt.source as unknown as Record<string, unknown>) : undefined;
  const metadata = (source?.metadata ?? {}) as Record<string, string>;
  const kinds: Record<string, SettlementLine['kind']> = { charge: 'payment', payment: 'payment', transfer: 'payout', refund: 'refund', payment_refund: 'refund' };
  const kind = kinds[bt.type];
  if (!kind) return undefined;
  // Payments are known to us by their PaymentIntent id; charges point at it.
  const pspObjectId = kind === 'payment' && typeof source?.payment_intent === 'string' ? source.payment_intent : typeof source?.id === 'string' ? source.id : String(bt.source ?? bt.id);
  const reference = metadata.reference ?? (typeof source?.transfer_group === 'string' ? source.transfer_group : '');
  return { kind, pspObjectId, reference, amountMinor: BigInt(Math.abs(bt.amount)), currency: bt.currency.toUpperCase(), settledAt: new Date(bt.created * 1000) };
}
