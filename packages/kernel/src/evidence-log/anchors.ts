/**
 * Anchors put a checkpoint somewhere the log's operator cannot quietly rewrite: a file directory
 * (ship it to WORM storage, or an S3 bucket with Object Lock), an HTTP endpoint (a timestamping or
 * transparency service, a regulator's inbox). Delivery runs as a queue job with retries and
 * backoff; a failing anchor is logged and retried and never holds up appends or checkpoints.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

export interface AnchorInput {
  origin: string;
  size: number;
  /** Hex. */
  rootHash: string;
  note: string;
}

export interface CheckpointAnchor {
  /** Stable name, recorded with each delivery: `file`, `http:<url>`. */
  readonly name: string;
  /** Delivers the checkpoint; resolves with a receipt (or null), throws on failure. Must be idempotent. */
  anchor(input: AnchorInput): Promise<string | null>;
}

/** One file per checkpoint, `<dir>/<size>.checkpoint`, written atomically; a rerun finds it and checks it. */
export function fileAnchor(dir: string): CheckpointAnchor {
  return {
    name: 'file',
    async anchor(input) {
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${String(input.size).padStart(12, '0')}.checkpoint`);
      const existing = await readFile(file, 'utf8').catch(() => undefined);
      if (existing !== undefined) {
        if (existing !== input.note) throw new Error(`${file} already holds a different checkpoint`);
        return file;
      }
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, input.note, { encoding: 'utf8', flag: 'w' });
      await rename(tmp, file);
      return file;
    },
  };
}

const RECEIPT_BYTES_MAX = 4096;

/**
 * POSTs `{origin, size, rootHash, note}` as JSON, with `Idempotency-Key: <origin>/<size>`; any 2xx
 * is success and its body (at most 4 KiB) the receipt. One connection per call (no keep-alive).
 */
export function httpAnchor(url: string, timeoutMs: number): CheckpointAnchor {
  return {
    name: `http:${url}`,
    anchor(input) {
      const body = JSON.stringify(input);
      return new Promise((resolve, reject) => {
        const target = new URL(url);
        const req = (target.protocol === 'https:' ? https : http).request(target, {
          method: 'POST',
          agent: false,
          timeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'idempotency-key': `${input.origin}/${input.size}`,
            'user-agent': 'verity-evidence-log',
            connection: 'close',
          },
        }, (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            if (bytes < RECEIPT_BYTES_MAX) chunks.push(c);
            bytes += c.length;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(Buffer.concat(chunks).subarray(0, RECEIPT_BYTES_MAX).toString('utf8') || null);
            else reject(new Error(`anchor ${url} answered ${status}`));
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`anchor ${url}: no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

export function anchorsFromConfig(config: { logAnchorDir: string | undefined; logAnchorUrls: readonly string[]; logAnchorTimeoutMs: number }): CheckpointAnchor[] {
  const out: CheckpointAnchor[] = [];
  if (config.logAnchorDir) out.push(fileAnchor(config.logAnchorDir));
  for (const url of config.logAnchorUrls) out.push(httpAnchor(url, config.logAnchorTimeoutMs));
  return out;
}
