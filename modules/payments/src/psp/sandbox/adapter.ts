/**
 * Our side of the sandbox PSP: the PSP port spoken over its HTTP API, as a Stripe or Adyen adapter
 * would. Each object carries the webhook `notify_url`, resolved when the call is made (the API's
 * listening address is only known after the platform listens).
 */
import type { FundingType, PaymentSession, PaymentStatus, PayoutResult, PspAdapter, PspEvent, SettlementLine } from '../../contract.ts';
import { PspCallError, PspProblems } from '../errors.ts';
import { verifySignature } from '../signature.ts';
import type { CallOptions } from '../types.ts';
import type { SandboxEvent, SandboxPayment, SandboxPayout, SandboxRefund } from './store.ts';
import { SANDBOX_SIGNATURE_HEADER } from './webhook-sender.ts';

export interface SandboxPspOptions {
  baseUrl: () => string;
  apiKey: string;
  webhookSecret: string;
  /** Where webhooks for new objects go; undefined: none (status queries settle everything). */
  notifyUrl: () => string | undefined;
  /** Seconds; tests of stale webhooks move it. */
  nowS?: () => number;
}

const FUNDING = new Set<FundingType>(['debit', 'credit', 'prepaid', 'bank_transfer', 'unknown']);
const EVENT_TYPES = new Set<PspEvent['type']>(['payment.succeeded', 'payment.failed', 'payment.requires_action', 'payout.paid', 'payout.failed', 'refund.succeeded', 'refund.failed']);
const CSV_LINES_MAX = 1_000_000;

const funding = (value: string): FundingType => (FUNDING.has(value as FundingType) ? (value as FundingType) : 'unknown');

/** The card's holder name and fingerprint, which the port carries for succeeded payments. */
function method(p: SandboxPayment): { holderName?: string; methodRef?: string } {
  if (p.status !== 'succeeded') return {};
  const name = p.billing_details?.name;
  return { ...(name ? { holderName: name } : {}), ...(p.method_ref ? { methodRef: p.method_ref } : {}) };
}

function session(p: SandboxPayment): PaymentSession {
  const out: PaymentSession = { pspPaymentId: p.id, status: p.status, fundingType: funding(p.funding), ...method(p) };
  if (p.action_url && p.status === 'requires_action') out.actionUrl = p.action_url;
  if (p.failure_reason) out.failureReason = p.failure_reason;
  return out;
}

const status = (p: SandboxPayment): PaymentStatus => ({ ...session(p), amountMinor: BigInt(p.amount_minor), currency: p.currency, reference: p.reference });

function payoutResult(p: SandboxPayout): PayoutResult {
  const out: PayoutResult = { pspPayoutId: p.id, status: p.status };
  if (p.failure_reason) out.failureReason = p.failure_reason;
  return out;
}

export class SandboxPsp implements PspAdapter {
  readonly name = 'sandbox';
  private readonly options: SandboxPspOptions;

  constructor(options: SandboxPspOptions) {
    this.options = options;
  }

  async createPayment(input: Parameters<PspAdapter['createPayment']>[0], call: CallOptions = {}): Promise<PaymentSession> {
    const body = {
      amount_minor: input.amountMinor.toString(),
      currency: input.currency,
      reference: input.reference,
      customer_ref: input.playerId,
      ...(input.paymentMethod ? { payment_method: input.paymentMethod } : {}),
      ...(input.cardholderName ? { billing_details: { name: input.cardholderName } } : {}),
      ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
      ...this.notify(),
    };
    return session(await this.request<SandboxPayment>('POST', '/v1/payments', body, input.idempotencyKey, call));
  }

  async getPayment(pspPaymentId: string, call: CallOptions = {}): Promise<PaymentStatus> {
    return status(await this.request<SandboxPayment>('GET', `/v1/payments/${encodeURIComponent(pspPaymentId)}`, undefined, undefined, call));
  }

  async findPaymentByReference(reference: string, call: CallOptions = {}): Promise<PaymentStatus | undefined> {
    const list = await this.request<{ data: SandboxPayment[] }>('GET', `/v1/payments?reference=${encodeURIComponent(reference)}`, undefined, undefined, call);
    return list.data[0] ? status(list.data[0]) : undefined;
  }

  async createPayout(input: Parameters<PspAdapter['createPayout']>[0], call: CallOptions = {}): Promise<PayoutResult> {
    const body = { amount_minor: input.amountMinor.toString(), currency: input.currency, reference: input.reference, customer_ref: input.playerId, destination: input.destination, ...this.notify() };
    return payoutResult(await this.request<SandboxPayout>('POST', '/v1/payouts', body, input.idempotencyKey, call));
  }

  async findPayoutByReference(reference: string, call: CallOptions = {}): Promise<PayoutResult | undefined> {
    const list = await this.request<{ data: SandboxPayout[] }>('GET', `/v1/payouts?reference=${encodeURIComponent(reference)}`, undefined, undefined, call);
    return list.data[0] ? payoutResult(list.data[0]) : undefined;
  }

  async refundPayment(input: Parameters<PspAdapter['refundPayment']>[0], call: CallOptions = {}): Promise<{ pspRefundId: string; status: 'pending' | 'succeeded' | 'failed' }> {
    const body = { payment: input.pspPaymentId, amount_minor: input.amountMinor.toString(), reason: input.reason, ...this.notify() };
    const refund = await this.request<SandboxRefund>('POST', '/v1/refunds', body, input.idempotencyKey, call);
    return { pspRefundId: refund.id, status: refund.status };
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PspEvent | undefined {
    const nowS = this.options.nowS?.() ?? Math.floor(Date.now() / 1000);
    verifySignature(rawBody, headers[SANDBOX_SIGNATURE_HEADER], this.options.webhookSecret, nowS);
    let event: SandboxEvent;
    try {
      event = JSON.parse(rawBody.toString('utf8')) as SandboxEvent;
    } catch {
      throw PspProblems.signatureInvalid('The signed body is not JSON.');
    }
    if (!EVENT_TYPES.has(event.type as PspEvent['type'])) return undefined;
    const object = event.data.object;
    const out: PspEvent = {
      eventId: event.id,
      type: event.type as PspEvent['type'],
      reference: object.reference,
      pspObjectId: object.id,
      amountMinor: BigInt(object.amount_minor),
      currency: object.currency,
      occurredAt: new Date(event.created_at),
    };
    if (object.object === 'payment') {
      out.fundingType = funding(object.funding);
      if (out.type === 'payment.succeeded') Object.assign(out, method(object));
    }
    if ('failure_reason' in object && object.failure_reason) out.failureReason = object.failure_reason;
    return out;
  }

  async settlementReport(day: string, call: CallOptions = {}): Promise<SettlementLine[]> {
    const csv = await this.request<string>('GET', `/sandbox/settlements/${encodeURIComponent(day)}.csv`, undefined, undefined, call, 'text');
    return parseSettlementCsv(csv);
  }

  private notify(): { notify_url?: string } {
    const base = this.options.notifyUrl();
    return base ? { notify_url: `${base}/v1/payments/webhooks/${this.name}` } : {};
  }

  private async request<T>(method: string, path: string, body: unknown, idempotencyKey: string | undefined, call: CallOptions, as: 'json' | 'text' = 'json'): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.options.baseUrl() + path, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(call.signal ? { signal: call.signal } : {}),
      });
    } catch (err) {
      if (call.signal?.aborted) throw err;
      throw new PspCallError('transient', `sandbox PSP unreachable: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.ok) return (as === 'text' ? text : JSON.parse(text)) as T;
    let message = `HTTP ${res.status}`;
    let type: string | undefined;
    try {
      const e = (JSON.parse(text) as { error?: { type?: string; message?: string } }).error;
      message = e?.message ?? message;
      type = e?.type;
    } catch {
      // not JSON: the status says enough
    }
    const kind = res.status >= 500 || res.status === 429 ? 'transient' : res.status === 404 ? 'not-found' : 'rejected';
    throw new PspCallError(kind, `sandbox PSP: ${message}`, { httpStatus: res.status, ...(type ? { pspCode: type } : {}) });
  }
}

/** The settlement CSV (`kind,psp_object_id,reference,amount_minor,currency,settled_at`). */
export function parseSettlementCsv(csv: string): SettlementLine[] {
  const lines = csv.split('\n').filter(Boolean).slice(1, CSV_LINES_MAX + 1);
  return lines.map((line) => {
    const cells = splitCsvLine(line);
    const [kind, pspObjectId, reference, amountMinor, currency, settledAt] = cells;
    if (cells.length !== 6 || (kind !== 'payment' && kind !== 'payout' && kind !== 'refund') || !/^\d+$/.test(amountMinor!)) {
      throw new PspCallError('rejected', `settlement report line not understood: ${line.slice(0, 120)}`);
    }
    return { kind, pspObjectId: pspObjectId!, reference: reference!, amountMinor: BigInt(amountMinor!), currency: currency!, settledAt: new Date(settledAt!) };
  });
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
