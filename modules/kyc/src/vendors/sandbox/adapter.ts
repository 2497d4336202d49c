/** The adapter for the sandbox KYC vendor (server.ts): its API shapes to our outcomes. */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Reasons } from '../../domain/status.ts';
import { signatureMatches, vendorHttp } from '../http.ts';
import { webhookSignatureInvalid, type KycVendor, type VendorCheck, type VendorNotice } from '../types.ts';
import { SIGNATURE_HEADER, type SandboxWebhookEvent } from './webhooks.ts';

interface SandboxCheck {
  id: string;
  status: 'in_progress' | 'complete' | 'expired';
  result: 'clear' | 'rejected' | 'resubmit' | 'review' | null;
}

export function sandboxCheckView(c: SandboxCheck): VendorCheck {
  const vendorStatus = c.result ? `${c.status}/${c.result}` : c.status;
  const base = { vendorCheckId: c.id, vendorStatus };
  if (c.status === 'in_progress') return { ...base, outcome: 'pending', reasons: [] };
  if (c.status === 'expired') return { ...base, outcome: 'expired', reasons: [Reasons.vendorExpired] };
  switch (c.result) {
    case 'clear':
      return { ...base, outcome: 'approved', reasons: [Reasons.vendorApproved] };
    case 'rejected':
      return { ...base, outcome: 'rejected_final', reasons: [Reasons.vendorRejected] };
    case 'resubmit':
      return { ...base, outcome: 'resubmit', reasons: [Reasons.vendorResubmit] };
    default:
      // `review`, or a result this adapter does not know: a person decides.
      return { ...base, outcome: 'manual_review', reasons: [Reasons.vendorReview] };
  }
}

export function createSandboxVendor(options: { baseUrl: () => string; apiKey: string; webhookSecret: string; notifyUrl: () => string | undefined; timeoutMs: number }): KycVendor {
  const api = vendorHttp({ vendor: 'sandbox', baseUrl: options.baseUrl, headers: { authorization: `Token token=${options.apiKey}` }, timeoutMs: options.timeoutMs });
  // Keys derived from our ids: a retried call (after a timeout) returns the object the first one made.
  const key = (kind: string, id: string) => `${kind}-${id}`;
  return {
    name: 'sandbox',
    async createApplicant({ reference, person }) {
      const body = { reference, first_name: person.firstName, last_name: person.lastName, dob: person.dateOfBirth, country: person.country };
      const a = await api.post<{ id: string }>('/v1/applicants', body, { 'idempotency-key': key('applicant', reference) });
      return { applicantId: a.id };
    },
    async startCheck({ applicantId, reference, documentTypes }) {
      const notify = options.notifyUrl();
      const body = { applicant_id: applicantId, reference, document_types: [...documentTypes], ...(notify ? { notify_url: `${notify}/v1/kyc/webhooks/sandbox` } : {}) };
      return sandboxCheckView(await api.post<SandboxCheck>('/v1/checks', body, { 'idempotency-key': key('check', reference) }));
    },
    async getCheck(vendorCheckId) {
      return sandboxCheckView(await api.get<SandboxCheck>(`/v1/checks/${encodeURIComponent(vendorCheckId)}`));
    },
    parseWebhook(raw: Buffer, headers: IncomingHttpHeaders): VendorNotice | null {
      if (!signatureMatches(options.webhookSecret, raw, headers[SIGNATURE_HEADER])) throw webhookSignatureInvalid();
      let event: SandboxWebhookEvent;
      try {
        event = JSON.parse(raw.toString('utf8')) as SandboxWebhookEvent;
      } catch {
        return null;
      }
      if (!event?.object?.id || typeof event.object.id !== 'string') return null;
      const eventId = typeof event.id === 'string' && event.id ? event.id : createHash('sha256').update(raw).digest('hex');
      return { eventId, vendorCheckId: event.object.id, vendorStatus: String(event.object.status ?? '') };
    },
  };
}
