/**
 * JSON over fetch for vendor adapters: a deadline per call, one retry of reads that failed fast,
 * and vendor failures turned into the port's two problems (unavailable: retry later; rejected: no).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { vendorRejected, vendorUnavailable } from './types.ts';

export interface VendorHttpOptions {
  vendor: string;
  baseUrl: () => string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Bounds what we read of a vendor answer. */
const ANSWER_BYTES_MAX = 1024 * 1024;

export function vendorHttp(options: VendorHttpOptions) {
  async function once<T>(method: string, path: string, body: unknown, extraHeaders: Record<string, string>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${options.baseUrl()}${path}`, {
        method,
        headers: { accept: 'application/json', ...options.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extraHeaders },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw vendorUnavailable(options.vendor, (err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (err as Error).message);
    }
    const text = await res.text();
    if (text.length > ANSWER_BYTES_MAX) throw vendorUnavailable(options.vendor, 'answer too large');
    if (res.status >= 500 || res.status === 429) throw vendorUnavailable(options.vendor, `HTTP ${res.status}`);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw vendorUnavailable(options.vendor, 'answer is not JSON');
    }
    if (res.status >= 400) {
      const message = (parsed as { error?: { message?: string; type?: string } }).error?.message ?? `HTTP ${res.status}`;
      throw vendorRejected(options.vendor, `${res.status} ${message}`);
    }
    return parsed as T;
  }

  return {
    post: <T>(path: string, body: unknown, headers: Record<string, string> = {}) => once<T>('POST', path, body, headers),
    async get<T>(path: string): Promise<T> {
      try {
        return await once<T>('GET', path, undefined, {});
      } catch (err) {
        if ((err as { code?: string }).code !== 'kyc-vendor-unavailable') throw err;
        return once<T>('GET', path, undefined, {});
      }
    },
  };
}

export const hmacSha256Hex = (secret: string, body: Buffer | string): string => createHmac('sha256', secret).update(body).digest('hex');

/** Constant-time comparison of a hex signature header with the HMAC of the raw body. */
export function signatureMatches(secret: string, raw: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !/^[0-9a-fA-F]{64}$/.test(header.trim())) return false;
  const expected = Buffer.from(hmacSha256Hex(secret, raw), 'hex');
  return timingSafeEqual(expected, Buffer.from(header.trim(), 'hex'));
}
