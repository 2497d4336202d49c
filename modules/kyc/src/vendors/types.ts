/**
 * The KYC vendor port (ADR 0009). An adapter speaks one vendor's API and normalises its answers to
 * our outcomes; webhooks only say "look again" (ids and status, no personal data), and the result is
 * always fetched from the vendor by GET, so a forged, replayed or late webhook cannot decide anything.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError } from '@verity/kernel';
import type { CheckOutcome } from '../domain/status.ts';

export interface VendorPerson {
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  /** ISO 3166-1 alpha-2 */
  country: string;
  address: { line1: string; line2?: string; city: string; postcode: string; country: string };
}

export interface VendorCheck {
  vendorCheckId: string;
  outcome: CheckOutcome;
  /** The vendor's own status words (`complete/consider`, `approved`…), for the record. */
  vendorStatus: string;
  /** Our stable reason codes for the outcome. */
  reasons: string[];
  /** Where the player completes the vendor's capture flow, when there is one. */
  verificationUrl?: string;
}

export interface VendorNotice {
  /** Unique per event (the vendor's id, or the hash of the body when it has none). */
  eventId: string;
  vendorCheckId: string;
  vendorStatus?: string;
}

export interface KycVendor {
  /** Also the webhook path segment: /v1/kyc/webhooks/<name>. */
  readonly name: string;
  createApplicant(input: { reference: string; person: VendorPerson }): Promise<{ applicantId: string }>;
  /** `reference` is our check id; `documentTypes` what the player has uploaded to us. */
  startCheck(input: { applicantId: string; reference: string; documentTypes: readonly string[] }): Promise<VendorCheck>;
  getCheck(vendorCheckId: string): Promise<VendorCheck>;
  /** Verifies the signature over the raw body (throws a 400 problem); null for events not about a check. */
  parseWebhook(raw: Buffer, headers: IncomingHttpHeaders): VendorNotice | null;
}

export const vendorUnavailable = (vendor: string, detail: string) =>
  new DomainError('kyc-vendor-unavailable', 503, 'Verification provider unavailable', `The identity verification provider (${vendor}) did not answer: ${detail.slice(0, 200)}. Try again shortly.`, { retryAfterSeconds: 30 });

export const vendorRejected = (vendor: string, detail: string) =>
  new DomainError('kyc-vendor-rejected', 502, 'Verification provider refused the request', `The identity verification provider (${vendor}) refused the request: ${detail.slice(0, 200)}.`);

export const webhookSignatureInvalid = () =>
  new DomainError('webhook-signature-invalid', 400, 'Invalid webhook signature', 'The signature header is missing or does not match the body.');

/** Splits a legal name for vendors that want first and last names: the last word is the surname. */
export function splitName(legalName: string): { firstName: string; lastName: string } {
  const words = legalName.trim().split(/\s+/);
  const lastName = words.pop() ?? '';
  return { firstName: words.join(' ') || lastName, lastName };
}
