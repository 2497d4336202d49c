/**
 * POST /v1/payments/webhooks/{provider} (handlePspWebhook). The order of things is the point:
 * 1. the body is kept raw (an encapsulated content-type parser, bounded size) — a signature is over
 *    bytes, and re-serialised JSON is not the same bytes;
 * 2. signature and timestamp tolerance are checked before anything is read from it (400 otherwise,
 *    nothing changes);
 * 3. one transaction records the event id (the dedupe row) and applies the state change of the part
 *    that handles the type; a duplicate finds the row and changes nothing; a concurrent duplicate
 *    waits on the uncommitted row, then finds it;
 * 4. a failure rolls both back and answers 5xx, so the PSP retries the delivery.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DomainError, Problems, type Db, type HttpApp, type Logger } from '@verity/kernel';
import type { PspEvent, PspEventHandler } from '../contract.ts';
import type { WebhookEventRepository } from './repository.ts';
import type { ResilientPsp } from './resilient.ts';

/** Webhook payloads are small; Stripe's largest events stay well under this. */
export const WEBHOOK_BODY_MAX_BYTES = 256 * 1024;
const EVENT_ID_MAX_CHARS = 255;

const Ack = Type.Object({
  received: Type.Literal(true),
  outcome: Type.String({ description: 'applied, ignored, duplicate, unknown-reference or unhandled' }),
});
const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), code: Type.String(), detail: Type.Optional(Type.String()) }, { additionalProperties: true });

export interface WebhookDeps {
  db: Db;
  log: Logger;
  psps: ReadonlyMap<string, ResilientPsp>;
  handlers: () => readonly PspEventHandler[];
  events: WebhookEventRepository;
}

export async function registerWebhookRoute(app: HttpApp, deps: WebhookDeps): Promise<void> {
  const raw = new WeakMap<FastifyRequest, Buffer>();
  await app.register(async (scope) => {
    // Only here: the body stays bytes. It is kept beside the request rather than as `req.body`,
    // so nothing walks or re-serialises it before the signature is checked.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_MAX_BYTES }, (req, body, done) => {
      raw.set(req, body as Buffer);
      done(null, undefined);
    });
    scope.post('/v1/payments/webhooks/:provider', {
      schema: {
        operationId: 'handlePspWebhook',
        tags: ['Payments'],
        summary: 'Receive a PSP webhook (signed in Stripe\'s scheme over the raw body; deduplicated by event id)',
        params: Type.Object({ provider: Type.String({ pattern: '^[a-z][a-z0-9_-]{1,30}$', maxLength: 31 }) }),
        response: { 200: Ack, '4xx': Problem },
      },
    }, async (req) => {
      const { provider } = req.params as { provider: string };
      const psp = deps.psps.get(provider);
      if (!psp) throw Problems.notFound(`payment provider ${provider}`);
      const event = psp.parseWebhook(raw.get(req) ?? Buffer.alloc(0), req.headers);
      if (!event) return { received: true as const, outcome: 'ignored' };
      if (event.eventId.length === 0 || event.eventId.length > EVENT_ID_MAX_CHARS) {
        throw new DomainError('webhook-event-invalid', 400, 'Invalid webhook event', 'The event has no usable id.');
      }
      const outcome = await applyOnce(deps, psp.name, event);
      req.log.info({ provider: psp.name, eventId: event.eventId, type: event.type, outcome }, 'psp webhook');
      return { received: true as const, outcome };
    });
  });
}

async function applyOnce(deps: WebhookDeps, provider: string, event: PspEvent): Promise<string> {
  // Several parts may handle a type (refunds of deposits, refunds made by operators): the first
  // that knows the object applies it.
  const handlers = deps.handlers().filter((h) => h.types.includes(event.type));
  return deps.db.tx(async () => {
    if (!(await deps.events.record(provider, event))) return 'duplicate';
    let outcome: string = handlers.length ? 'unknown-reference' : 'unhandled';
    for (const handler of handlers) {
      outcome = await handler.apply(provider, event);
      if (outcome !== 'unknown-reference') break;
    }
    if (outcome === 'unhandled') deps.log.warn({ provider, type: event.type, eventId: event.eventId }, 'psp webhook of a type no part handles');
    if (outcome === 'unknown-reference') deps.log.warn({ provider, type: event.type, eventId: event.eventId, pspObjectId: event.pspObjectId }, 'psp webhook for an object we do not know; ignored');
    await deps.events.setOutcome(provider, event.eventId, outcome);
    return outcome;
  });
}
