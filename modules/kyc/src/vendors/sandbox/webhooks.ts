/**
 * The sandbox vendor's webhook deliveries: the kernel's sandbox sender (retries with backoff,
 * duplicates, newest-first out-of-order delivery per check, pausing) with Onfido's signature scheme
 * (`X-SHA2-Signature`, hex HMAC-SHA256 of the raw body).
 */
import { SandboxWebhookSender, type Logger, type WebhookDeliveryPolicy } from '@verity/kernel';
import { hmacSha256Hex } from '../http.ts';

export const SIGNATURE_HEADER = 'x-sha2-signature';

export interface SandboxWebhookEvent {
  id: string;
  type: 'check.started' | 'check.completed' | 'check.expired';
  created_at: string;
  /** Ids and status only: the receiver fetches the result. */
  object: { id: string; applicant_id: string; status: string; href: string };
}

export type DeliveryPolicy = WebhookDeliveryPolicy;

export function kycWebhookSender(options: { secret: string; policy: () => DeliveryPolicy; log: Logger }): SandboxWebhookSender<SandboxWebhookEvent> {
  return new SandboxWebhookSender<SandboxWebhookEvent>({
    partner: 'KYC vendor',
    userAgent: 'verity-sandbox-kyc/1',
    policy: options.policy,
    log: options.log,
    sign: (body) => ({ [SIGNATURE_HEADER]: hmacSha256Hex(options.secret, body) }),
    describe: (event) => ({ id: event.id, type: event.type, objectId: event.object.id }),
  });
}
