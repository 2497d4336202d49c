/**
 * The sandbox vendor's webhook deliveries: signed per delivery (`X-SHA2-Signature`, hex HMAC-SHA256
 * of the raw body, Onfido's scheme), retried with backoff when not acknowledged, and on demand
 * duplicated, paused, or held per check and delivered newest first (out of order).
 */
import { postJsonOnce, type Logger } from '@verity/kernel';
import { hmacSha256Hex } from '../http.ts';

export const SIGNATURE_HEADER = 'x-sha2-signature';
const ATTEMPT_TIMEOUT_MS = 10_000;
const RETRY_DELAY_MAX_MS = 30_000;
const DELIVERY_LOG_MAX = 2_000;

export interface SandboxWebhookEvent {
  id: string;
  type: 'check.started' | 'check.completed' | 'check.expired';
  created_at: string;
  /** Ids and status only: the receiver fetches the result. */
  object: { id: string; applicant_id: string; status: string; href: string };
}

export interface DeliveryPolicy {
  duplicatePercent: number;
  outOfOrder: boolean;
  webhooksEnabled: boolean;
  webhookRetryBaseMs: number;
  webhookMaxAttempts: number;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  checkId: string;
  copies: number;
  attempts: number;
  acknowledged: number;
  lastStatus?: number;
  lastError?: string;
  abandoned: boolean;
}

interface Pending {
  event: SandboxWebhookEvent;
  url: string;
}

/** How long out-of-order mode holds a check's events when it never ends (Timeout scenario). */
const OUT_OF_ORDER_HOLD_MS = 5_000;

export class SandboxWebhookSender {
  readonly records = new Map<string, DeliveryRecord>();
  private readonly secret: string;
  private readonly policy: () => DeliveryPolicy;
  private readonly log: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private readonly held = new Map<string, { items: Pending[]; timer: NodeJS.Timeout }>();
  private readonly paused: Pending[] = [];
  private stopped = false;

  constructor(options: { secret: string; policy: () => DeliveryPolicy; log: Logger }) {
    this.secret = options.secret;
    this.policy = options.policy;
    this.log = options.log;
  }

  emit(event: SandboxWebhookEvent, url: string | undefined, terminal: boolean): void {
    if (!url || this.stopped) return;
    const item = { event, url };
    if (!this.policy().outOfOrder) return void this.dispatch(item);
    const checkId = event.object.id;
    const slot = this.held.get(checkId);
    if (slot) slot.items.push(item);
    else this.held.set(checkId, { items: [item], timer: this.later(() => this.release(checkId), OUT_OF_ORDER_HOLD_MS) });
    if (terminal) this.release(checkId);
  }

  resume(): void {
    for (const item of this.paused.splice(0)) void this.dispatch(item);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inflight) c.abort();
  }

  private release(checkId: string): void {
    const slot = this.held.get(checkId);
    if (!slot) return;
    this.held.delete(checkId);
    clearTimeout(slot.timer);
    this.timers.delete(slot.timer);
    void slot.items.reverse().reduce((previous, item) => previous.then(() => this.dispatch(item)), Promise.resolve());
  }

  private async dispatch(item: Pending): Promise<void> {
    const policy = this.policy();
    if (!policy.webhooksEnabled) {
      this.paused.push(item);
      return;
    }
    const copies = Math.random() * 100 < policy.duplicatePercent ? 2 : 1;
    this.record(item.event).copies += copies;
    await Promise.all(Array.from({ length: copies }, () => this.attempt(item, 1)));
  }

  private record(event: SandboxWebhookEvent): DeliveryRecord {
    let r = this.records.get(event.id);
    if (!r) {
      r = { eventId: event.id, type: event.type, checkId: event.object.id, copies: 0, attempts: 0, acknowledged: 0, abandoned: false };
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
      const status = await postJsonOnce(item.url, body, { headers: { [SIGNATURE_HEADER]: hmacSha256Hex(this.secret, body) }, signal: controller.signal, timeoutMs: ATTEMPT_TIMEOUT_MS, userAgent: 'verity-sandbox-kyc/1' });
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
    const policy = this.policy();
    if (this.stopped) return;
    if (attemptNo >= policy.webhookMaxAttempts) {
      record.abandoned = true;
      this.log.warn({ eventId: item.event.id, attempts: attemptNo }, 'sandbox KYC vendor gave up delivering a webhook');
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
