/**
 * The sandbox PSP's webhook deliveries: the kernel's sandbox sender (retries, duplicates, out of
 * order, pausing) with Stripe's signature scheme (`Verity-Sandbox-Signature: t=…,v1=…`), signed
 * afresh on every attempt.
 */
import { SandboxWebhookSender, type Logger, type WebhookDeliveryPolicy } from '@verity/kernel';
import { signPayload } from '../signature.ts';
import type { SandboxEvent } from './store.ts';

export const SANDBOX_SIGNATURE_HEADER = 'verity-sandbox-signature';

export type DeliveryPolicy = WebhookDeliveryPolicy & { outOfOrderHoldMs: number };

export function pspWebhookSender(options: { secret: string; policy: () => DeliveryPolicy; log: Logger }): SandboxWebhookSender<SandboxEvent> {
  return new SandboxWebhookSender<SandboxEvent>({
    partner: 'PSP',
    userAgent: 'verity-sandbox-psp/1',
    policy: options.policy,
    log: options.log,
    // The sandbox is a partner's server: its signing clock is the wall clock, like Stripe's.
    sign: (body) => ({ [SANDBOX_SIGNATURE_HEADER]: signPayload(body, options.secret, Math.floor(Date.now() / 1000)) }),
    describe: (event) => ({ id: event.id, type: event.type, objectId: event.data.object.id }),
  });
}
