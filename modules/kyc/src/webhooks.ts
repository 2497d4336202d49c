/**
 * POST /v1/kyc/webhooks/{provider} (handleKycWebhook). In order:
 * 1. the body stays raw bytes (a scoped content-type parser, 64 KiB at most): the signature is over bytes;
 * 2. the vendor adapter checks the signature before anything is read (400, nothing changes);
 * 3. a webhook only says "look again": the check is fetched from the vendor by GET — a replayed or
 *    late webhook can only make us read the truth again;
 * 4. one transaction records the event id (the dedupe row) and applies the result; a duplicate finds
 *    the row; a concurrent twin waits on the uncommitted row, then finds it;
 * 5. a check we do not know yet (the webhook overtook our own record of it) is a 409, so the vendor
 *    delivers it again later; a vendor that does not answer the GET is a 503, likewise retried.
 */
import type { FastifyRequest } from 'fastify';
import { DomainError, Problems, sendProblem, type Db, type HttpApp, type Logger } from '@verity/kernel';
import { Problem, TAG, WebhookAck, WebhookParams } from './contracts.ts';
import type { KycRepository } from './repository.ts';
import type { Verification } from './service.ts';
import type { KycVendor } from './vendors/types.ts';

export const WEBHOOK_BODY_MAX_BYTES = 64 * 1024;
const EVENT_ID_MAX_CHARS = 255;

const checkNotYetKnown = () =>
  new DomainError('kyc-check-unknown', 409, 'Unknown check', 'No check of ours has this id (yet). Deliver the event again later.');

export interface WebhookDeps {
  db: Db;
  log: Logger;
  repo: KycRepository;
  vendor: KycVendor;
  verification: Verification;
}

export async function registerWebhookRoute(app: HttpApp, deps: WebhookDeps): Promise<void> {
  const raw = new WeakMap<FastifyRequest, Buffer>();
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_MAX_BYTES }, (req, body, done) => {
      raw.set(req, body as Buffer);
      done(null, undefined);
    });
    scope.setErrorHandler((err, _req, reply) => {
      if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, Problems.payloadTooLarge(WEBHOOK_BODY_MAX_BYTES));
      throw err;
    });
    scope.post('/v1/kyc/webhooks/:provider', {
      schema: {
        operationId: 'handleKycWebhook',
        tags: [TAG],
        summary: 'Receive a KYC vendor webhook (signed over the raw body; ids and status only; the result is fetched from the vendor)',
        description: 'The sandbox and Onfido sign with `X-SHA2-Signature`: the hex HMAC-SHA256 of the raw body. Deduplicated by event id (Onfido: the SHA-256 of the body).',
        params: WebhookParams,
        response: { 200: WebhookAck, '4xx': Problem, '5xx': Problem },
      },
    }, async (req) => {
      const { provider } = req.params as { provider: string };
      if (provider !== deps.vendor.name) throw Problems.notFound(`KYC provider ${provider}`);
      const notice = deps.vendor.parseWebhook(raw.get(req) ?? Buffer.alloc(0), req.headers);
      if (!notice) return { received: true as const, outcome: 'ignored' };
      if (!notice.eventId || notice.eventId.length > EVENT_ID_MAX_CHARS || notice.vendorCheckId.length > 200) {
        throw new DomainError('webhook-event-invalid', 400, 'Invalid webhook event', 'The event has no usable id.');
      }
      const outcome = await applyOnce(deps, notice.eventId, notice.vendorCheckId);
      req.log.info({ provider: deps.vendor.name, eventId: notice.eventId, vendorCheckId: notice.vendorCheckId, outcome }, 'kyc webhook');
      return { received: true as const, outcome };
    });
  });
}

async function applyOnce(deps: WebhookDeps, eventId: string, vendorCheckId: string): Promise<string> {
  const provider = deps.vendor.name;
  if (await deps.repo.webhookSeen(provider, eventId)) return 'duplicate';
  if (!(await deps.repo.checkByVendorId(provider, vendorCheckId))) throw checkNotYetKnown();
  const result = await deps.vendor.getCheck(vendorCheckId);
  return deps.db.tx(async () => {
    if (!(await deps.repo.recordWebhook(provider, eventId, vendorCheckId))) return 'duplicate';
    const outcome = await deps.verification.applyVendorCheck(result);
    await deps.repo.setWebhookOutcome(provider, eventId, outcome);
    return outcome;
  });
}
