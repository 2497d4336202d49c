/**
 * The sandbox PSP's webhook deliveries, with the misbehaviour of real ones on demand: every attempt
 * signed afresh (`Verity-Sandbox-Signature`, Stripe's scheme), failed deliveries retried with
 * exponential backoff, a share delivered twice, and out-of-order delivery (an object's events held
 * until it settles, then sent newest first). Deliveries can be paused and resumed.
 */
import { postJsonOnce, type Logger } from '@verity/kernel';
import { signPayload } from '../signature.ts';
import type { SandboxEvent } from './store.ts';

export const SANDBOX_SIGNATURE_HEADER = 'verity-sandbox-signature';
/** How long one delivery attempt may take. */
const ATTEMPT_TIMEOUT_MS = 10_000;
const RETRY_DELAY_MAX_MS = 60_000;
const DELIVERY_LOG_MAX = 2_000;

export interface DeliveryPolicy {
  duplicatePercent: number;
  outOfOrder: boolean;
  /** How long out-of-order mode holds the events of an object that has not settled yet. */
  outOfOrderHoldMs: number;
  webhooksEnabled: boolean;
  webhookRetryBaseMs: number;
  webhookMaxAttempts: number;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
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

interface Pending {
  event: SandboxEvent;
  url: string;
}

export class WebhookSender {
  private readonly secret: string;
  private readonly policy: () => DeliveryPolicy;
  private readonly log: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private readonly held = new Map<string, { items: Pending[]; timer: NodeJS.Timeout }>();
  private readonly paused: Pending[] = [];
  readonly records = new Map<string, DeliveryRecord>();
  private stopped = false;

  constructor(options: { secret: string; policy: () => DeliveryPolicy; log: Logger }) {
    this.secret = options.secret;
    this.policy = options.policy;
    this.log = options.log;
  }

  /** An event the PSP emitted; `terminal` when its object reached a final state. */
  emit(event: SandboxEvent, notifyUrl: string | null, terminal: boolean): void {
    if (!notifyUrl || this.stopped) return;
    const item = { event, url: notifyUrl };
    const objectId = event.data.object.id;
    if (!this.policy().outOfOrder) {
      void this.dispatch(item);
      return;
    }
    const slot = this.held.get(objectId);
    if (slot) slot.items.push(item);
    else this.held.set(objectId, { items: [item], timer: this.later(() => this.release(objectId), this.policy().outOfOrderHoldMs) });
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
  private async dispatch(item: Pending): Promise<void> {
    const policy = this.policy();
    if (!policy.webhooksEnabled) {
      this.paused.push(item);
      return;
    }
    const copies = Math.random() * 100 < policy.duplicatePercent ? 2 : 1;
    const record = this.record(item.event);
    record.copies += copies;
    await Promise.all(Array.from({ length: copies }, () => this.attempt(item, 1)));
  }

  private record(event: SandboxEvent): DeliveryRecord {
    let r = this.records.get(event.id);
    if (!r) {
      r = { eventId: event.id, type: event.type, objectId: event.data.object.id, copies: 0, attempts: 0, acknowledged: 0, abandoned: false };
      this.records.set(event.id, r);
      if (this.records.size > DELIVERY_LOG_MAX) this.records.delete(this.records.keys().next().value!);
    }
    return r;
  }

  private async attempt(item: Pending, attemptNo: number): Promise<void> {
    if (this.stopped) return;
    const record = this.record(item.event);
    record.attempts++;
    const body = JSON.stringify(item.event);
    const controller = new AbortController();
    this.inflight.add(controller);
    try {
      const status = await postJsonOnce(item.url, body, { headers: { [SANDBOX_SIGNATURE_HEADER]: signPayload(body, this.secret, Math.floor(Date.now() / 1000)) }, signal: controller.signal, timeoutMs: ATTEMPT_TIMEOUT_MS, userAgent: 'verity-sandbox-psp/1' });
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

  private retry(item: Pending, attemptNo: number, record: DeliveryRecord): void {
    const policy = this.policy();
    if (this.stopped) return;
    if (attemptNo >= policy.webhookMaxAttempts) {
      record.abandoned = true;
      this.log.warn({ eventId: item.event.id, type: item.event.type, attempts: attemptNo }, 'sandbox PSP gave up delivering a webhook');
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
