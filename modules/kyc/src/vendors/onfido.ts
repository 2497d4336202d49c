/**
 * Onfido (API v3.6) on plain fetch: applicants, then a Studio workflow run (when a workflow id is
 * configured; the player completes it at the run's link) or a classic check with the configured
 * reports; webhooks signed `X-SHA2-Signature` (hex HMAC-SHA256 of the raw body with the webhook
 * token). Onfido's webhook bodies carry no event id, so the hash of the body identifies an event: a
 * redelivery is byte-identical and deduplicates.
 *
 * Our vendor check id says which object it is: `workflow_run:<id>` or `check:<id>`.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Reasons } from '../domain/status.ts';
import { signatureMatches, vendorHttp } from './http.ts';
import { vendorRejected, webhookSignatureInvalid, type KycVendor, type VendorCheck, type VendorNotice, type VendorPerson } from './types.ts';

export const ONFIDO_SIGNATURE_HEADER = 'x-sha2-signature';

export interface OnfidoOptions {
  apiToken: string;
  webhookToken: string;
  /** e.g. https://api.eu.onfido.com/v3.6 */
  apiBase: string;
  workflowId?: string;
  reportNames: readonly string[];
  timeoutMs: number;
}

interface OnfidoWorkflowRun {
  id: string;
  status: string;
  reasons?: string[];
  link?: { url?: string };
}
interface OnfidoCheck {
  id: string;
  status: string;
  result?: string | null;
}
interface OnfidoReport {
  name: string;
  status: string;
  result?: string | null;
  sub_result?: string | null;
}

/** ISO 3166-1 alpha-2 → alpha-3, which Onfido addresses use; the jurisdictions we may serve and their neighbours. */
const ALPHA3: Record<string, string> = {
  GB: 'GBR', IE: 'IRL', IM: 'IMN', JE: 'JEY', GG: 'GGY', GI: 'GIB', MT: 'MLT', FR: 'FRA', DE: 'DEU', ES: 'ESP', PT: 'PRT', IT: 'ITA',
  NL: 'NLD', BE: 'BEL', LU: 'LUX', AT: 'AUT', CH: 'CHE', DK: 'DNK', SE: 'SWE', NO: 'NOR', FI: 'FIN', IS: 'ISL', PL: 'POL', CZ: 'CZE',
  SK: 'SVK', HU: 'HUN', RO: 'ROU', BG: 'BGR', GR: 'GRC', CY: 'CYP', HR: 'HRV', SI: 'SVN', EE: 'EST', LV: 'LVA', LT: 'LTU', US: 'USA',
  CA: 'CAN', AU: 'AUS', NZ: 'NZL', ZA: 'ZAF', IN: 'IND', AE: 'ARE', SG: 'SGP', HK: 'HKG', JP: 'JPN', BR: 'BRA', MX: 'MEX', UA: 'UKR',
};

export function onfidoApplicant(person: VendorPerson) {
  const country = ALPHA3[person.address.country] ?? ALPHA3[person.country];
  return {
    first_name: person.firstName,
    last_name: person.lastName,
    dob: person.dateOfBirth,
    ...(country
      ? {
          address: { line1: person.address.line1, ...(person.address.line2 ? { line2: person.address.line2 } : {}), street: person.address.line1, town: person.address.city, postcode: person.address.postcode, country },
          location: { country_of_residence: country },
        }
      : {}),
  };
}

export function workflowRunView(run: OnfidoWorkflowRun): VendorCheck {
  const base = { vendorCheckId: `workflow_run:${run.id}`, vendorStatus: run.status, ...(run.link?.url ? { verificationUrl: run.link.url } : {}) };
  switch (run.status) {
    case 'approved':
      return { ...base, outcome: 'approved', reasons: [Reasons.vendorApproved] };
    case 'declined':
      return { ...base, outcome: 'rejected_final', reasons: [Reasons.vendorRejected] };
    case 'review':
    case 'error':
      return { ...base, outcome: 'manual_review', reasons: [Reasons.vendorReview] };
    case 'abandoned':
      return { ...base, outcome: 'expired', reasons: [Reasons.vendorExpired] };
    default:
      return { ...base, outcome: 'pending', reasons: [] };
  }
}

/** A complete check: `clear` approves; `consider` is a document to redo (`rejected` sub-result) or a person's call. */
export function checkView(check: OnfidoCheck, reports: readonly OnfidoReport[]): VendorCheck {
  const base = { vendorCheckId: `check:${check.id}`, vendorStatus: check.result ? `${check.status}/${check.result}` : check.status };
  if (check.status === 'withdrawn') return { ...base, outcome: 'expired', reasons: [Reasons.vendorExpired] };
  if (check.status !== 'complete') return { ...base, outcome: 'pending', reasons: [] };
  if (check.result === 'clear') return { ...base, outcome: 'approved', reasons: [Reasons.vendorApproved] };
  const subResults = reports.map((r) => r.sub_result);
  if (subResults.includes('rejected') && !subResults.includes('suspected')) return { ...base, outcome: 'resubmit', reasons: [Reasons.vendorResubmit] };
  return { ...base, outcome: 'manual_review', reasons: [Reasons.vendorReview] };
}

export function createOnfidoVendor(options: OnfidoOptions): KycVendor {
  const api = vendorHttp({ vendor: 'onfido', baseUrl: () => options.apiBase, headers: { authorization: `Token token=${options.apiToken}` }, timeoutMs: options.timeoutMs });
  const reportsOf = async (checkId: string) => (await api.get<{ reports?: OnfidoReport[] }>(`/reports?check_id=${encodeURIComponent(checkId)}`)).reports ?? [];
  return {
    name: 'onfido',
    async createApplicant({ person }) {
      return { applicantId: (await api.post<{ id: string }>('/applicants', onfidoApplicant(person))).id };
    },
    async startCheck({ applicantId, reference }) {
      if (options.workflowId) {
        const run = await api.post<OnfidoWorkflowRun>('/workflow_runs', { workflow_id: options.workflowId, applicant_id: applicantId, tags: [reference] });
        return workflowRunView(run);
      }
      const check = await api.post<OnfidoCheck>('/checks', { applicant_id: applicantId, report_names: [...options.reportNames], tags: [reference] });
      return checkView(check, []);
    },
    async getCheck(vendorCheckId) {
      const [kind, id] = vendorCheckId.split(':') as [string, string | undefined];
      if (!id) throw vendorRejected('onfido', `unknown check id ${vendorCheckId.slice(0, 80)}`);
      if (kind === 'workflow_run') return workflowRunView(await api.get<OnfidoWorkflowRun>(`/workflow_runs/${encodeURIComponent(id)}`));
      const check = await api.get<OnfidoCheck>(`/checks/${encodeURIComponent(id)}`);
      return checkView(check, check.status === 'complete' && check.result !== 'clear' ? await reportsOf(id) : []);
    },
    parseWebhook(raw: Buffer, headers: IncomingHttpHeaders): VendorNotice | null {
      if (!signatureMatches(options.webhookToken, raw, headers[ONFIDO_SIGNATURE_HEADER])) throw webhookSignatureInvalid();
      let body: { payload?: { resource_type?: string; object?: { id?: string; status?: string } } };
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return null;
      }
      const kind = body.payload?.resource_type;
      const id = body.payload?.object?.id;
      if ((kind !== 'workflow_run' && kind !== 'check') || typeof id !== 'string' || !id) return null;
      return { eventId: createHash('sha256').update(raw).digest('hex'), vendorCheckId: `${kind}:${id}`, vendorStatus: String(body.payload?.object?.status ?? '') };
    },
  };
}
