/** SQL of the PSP part: the webhook event ledger that deduplicates deliveries. */
import type { Db } from '@verity/kernel';
import type { PspEvent } from '../contract.ts';

/** PSPs retry a webhook for days (Stripe: 3); its id is remembered far longer. */
export const WEBHOOK_EVENT_RETENTION_DAYS = 90;

export function webhookEventRepository(db: Db) {
  return {
    /** True when this event id is new; false for a duplicate. A concurrent duplicate waits for the first to commit. */
    async record(provider: string, event: PspEvent): Promise<boolean> {
      const rows = await db.query(
        `insert into payments.psp_webhook_events (provider, event_id, event_type, reference, psp_object_id, occurred_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (provider, event_id) do nothing
         returning 1`,
        [provider, event.eventId, event.type, event.reference.slice(0, 255), event.pspObjectId.slice(0, 255), event.occurredAt],
      );
      return rows.length === 1;
    },

    async setOutcome(provider: string, eventId: string, outcome: string): Promise<void> {
      await db.query(`update payments.psp_webhook_events set outcome = $3 where provider = $1 and event_id = $2`, [provider, eventId, outcome]);
    },

    async purgeOld(): Promise<number> {
      const rows = await db.query(
        `delete from payments.psp_webhook_events where received_at < now() - make_interval(days => $1) returning 1`,
        [WEBHOOK_EVENT_RETENTION_DAYS],
      );
      return rows.length;
    },
  };
}

export type WebhookEventRepository = ReturnType<typeof webhookEventRepository>;
