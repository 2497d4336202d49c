/**
 * One JSON POST on its own connection (no keep-alive), as a partner's webhook sender makes it: an
 * idle pooled socket would otherwise hold the receiving server's graceful shutdown open. Answers
 * the status code; the sandboxes' webhook senders retry on their own terms.
 */
import http from 'node:http';
import https from 'node:https';

export interface DeliverOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  userAgent: string;
}

export function postJsonOnce(url: string, body: string, options: DeliverOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = (target.protocol === 'https:' ? https : http).request(target, {
      method: 'POST',
      agent: false,
      timeout: options.timeoutMs,
      signal: options.signal,
      headers: { ...options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close', 'user-agent': options.userAgent },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
