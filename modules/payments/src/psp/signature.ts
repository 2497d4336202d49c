/**
 * Webhook signatures in Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.rawBody">`.
 * Several `v1=` values may be present (secret rotation); one matching is enough. The timestamp is
 * inside the signed text, so an old delivery cannot be re-dated; the tolerance bounds replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { PspProblems } from './errors.ts';

/** Five minutes, as Stripe's libraries default to. */
export const WEBHOOK_TOLERANCE_S = 300;
/** A signature header is short; anything longer is not one. */
const HEADER_MAX_CHARS = 2048;
const SIGNATURES_MAX = 8;

export function signPayload(rawBody: Buffer | string, secret: string, timestampS: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.`).update(rawBody).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/**
 * Throws `webhook-signature-invalid` or `webhook-timestamp-stale` (DomainErrors, 400). `nowS` is the
 * receiver's wall clock: this is a transport check like a token's `exp`, not a domain decision.
 */
export function verifySignature(rawBody: Buffer, header: string | string[] | undefined, secret: string, nowS: number, toleranceS = WEBHOOK_TOLERANCE_S): void {
  if (typeof header !== 'string' || header.length === 0 || header.length > HEADER_MAX_CHARS) {
    throw PspProblems.signatureInvalid('The signature header is missing or malformed.');
  }
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value) && candidates.length < SIGNATURES_MAX) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) throw PspProblems.signatureInvalid('The signature header has no timestamp or no v1 signature.');
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
  const matches = candidates.some((hex) => timingSafeEqual(Buffer.from(hex, 'hex'), expected));
  if (!matches) throw PspProblems.signatureInvalid();
  // Checked after the signature, so a forged header cannot learn anything about our clock.
  if (Math.abs(nowS - timestamp) > toleranceS) throw PspProblems.timestampStale(toleranceS);
}
