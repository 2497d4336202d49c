/**
 * The webhook deliveries of our partner sandboxes (PSP, KYC vendor…), with the misbehaviour of real
 * senders on demand: every attempt signed afresh, failed deliveries retried with exponential backoff
 * and jitter, a share delivered twice, out-of-order delivery (an object's events held until it
 * settles, then sent newest first), and pausing. Each sandbox supplies its signature scheme.
 */
import type { Logger } from '../telemetry/logger.ts';
import { postJsonOnce } from './deliver.ts';

/** How long one delivery attempt may take. */
const ATTEMPT_TIMEOUT_MS = 10_000;
const RETRY_DELAY_MAX_MS = 60_000;
const DELIVERY_LOG_MAX = 2_000;
const DEFAULT_OUT_OF_ORDER_HOLD_MS = 5_000;

export interface WebhookDeliveryPolicy {
  duplicatePercent: number;
  outOfOrder: boolean;
  /** How long out-of-order mode holds the events of an object that has not settled yet. */
  outOfOrderHoldMs?: number;
  webhooksEnabled: boolean;
  webhookRetryBaseMs: number;
  webhookMaxAttempts: number;
}

export interface WebhookDeliveryRecord {
  eventId: string;
  type: string;
  /** The object the event is about (a payment, a check…). */
  objectId: string;
  /** Deliveries of this event scheduled (2 for a duplicate). */
  copies: number;
  attempts: number;
  /** Attempts answered 2xx. */
  acknowledged: number;
  lastStatus?: number;
  lastError?: string;
  /** True when an attempt chain gave up. */
  abandoned: boolean;
}

export interface SandboxWebhookOptions<E> {
  /** `psp`, `kyc vendor`: for logs and the User-Agent. */
  partner: string;
  userAgent: string;
  policy: () => WebhookDeliveryPolicy;
  log: Logger;
  /** The signature headers of one attempt over its exact body (signed afresh per attempt). */
  sign(body: string): Record<string, string>;
  describe(event: E): { id: string; type: string; objectId: string };
}

interface Pending<E> {
  event: E;
  url: string;
}

export class SandboxWebhookSender<E> {
  readonly records = new Map<string, WebhookDeliveryRecord>();
  private readonly options: SandboxWebhookOptions<E>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private readonly held = new Map<string, { items: Pending<E>[]; timer: NodeJS.Timeout }>();
  private readonly paused: Pending<E>[] = [];
  private stopped = false;

  constructor(options: SandboxWebhookOptions<E>) {
    this.options = options;
  }

  /** An event the partner emitted; `terminal` when its object reached a final state. */
  emit(event: E, url: string | null | undefined, terminal: boolean): void {
    if (!url || this.stopped) return;
    const item = { event, url };
    const policy = this.options.policy();
    if (!policy.outOfOrder) return void this.dispatch(item);
    const objectId = this.options.describe(event).objectId;
    const slot = this.held.get(objectId);
    if (slot) slot.items.push(item);
    else this.held.set(objectId, { items: [item], timer: this.later(() => this.release(objectId), policy.outOfOrderHoldMs ?? DEFAULT_OUT_OF_ORDER_HOLD_MS) });
    if (terminal) this.release(objectId);
  }

  /** Sends what pausing held back (after `webhooksEnabled` is switched on again). */
  resume(): void {
    for (const item of this.paused.splice(0)) void this.dispatch(item);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inflight) c.abort();
  }

  private release(objectId: string): void {
    const slot = this.held.get(objectId);
    if (!slot) return;
    this.held.delete(objectId);
    clearTimeout(slot.timer);
    this.timers.delete(slot.timer);
    // Newest first, one after the other, so the receiver sees them in exactly that order.
    void slot.items.reverse().reduce((previous, item) => previous.then(() => this.dispatch(item)), Promise.resolve());
  }

  /** Resolves when the first attempt(s) of this delivery are over. */
  private async dispatch(item: Pending<E>): Promise<void> {
    const policy = this.options.policy();
    if (!policy.webhooksEnabled) {
      this.paused.push(item);
      return;
    }
    const copies = Math.random() * 100 < policy.duplicatePercent ? 2 : 1;
    this.record(item.event).copies += copies;
    await Promise.all(Array.from({ length: copies }, () => this.attempt(item, 1)));
  }

  private record(event: E): WebhookDeliveryRecord {
    const { id, type, objectId } = this.options.describe(event);
    let r = this.records.get(id);
    if (!r) {
      r = { eventId: id, type, objectId, copies: 0, attempts: 0, acknowledged: 0, abandoned: false };
      this.records.set(id, r);
      if (this.records.size > DELIVERY_LOG_MAX) this.records.delete(this.records.keys().next().value!);
    }
    return r;
  }

  private async attempt(item: Pending<E>, attemptNo: number): Promise<void> {
    if (this.stopped) return;
    const record = this.record(item.event);
    record.attempts++;
    const body = JSON.stringify(item.event);
    const controller = new AbortController();
    this.inflight.add(controller);
    try {
      const status = await postJsonOnce(item.url, body, { headers: this.options.sign(body), signal: controller.signal, timeoutMs: ATTEMPT_TIMEOUT_MS, userAgent: this.options.userAgent });
      record.lastStatus = status;
      if (status >= 200 && status < 300) {
        record.acknowledged++;
        return;
      }
      record.lastError = `HTTP ${status}`;
    } catch (err) {
      record.lastError = (err as Error).message;
    } finally {
      this.inflight.delete(controller);
    }
    this.retry(item, attemptNo, record);
  }

  private retry(item: Pending<E>, attemptNo: number, record: WebhookDeliveryRecord): void {
    const policy = this.options.policy();
    if (this.stopped) return;
    if (attemptNo >= policy.webhookMaxAttempts) {
      record.abandoned = true;
      this.options.log.warn({ eventId: record.eventId, type: record.type, attempts: attemptNo }, `sandbox ${this.options.partner} gave up delivering a webhook`);
      return;
    }
    const delayMs = Math.min(RETRY_DELAY_MAX_MS, policy.webhookRetryBaseMs * 2 ** (attemptNo - 1)) * (0.8 + Math.random() * 0.4);
    this.later(() => void this.attempt(item, attemptNo + 1), delayMs);
  }

  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }
}
