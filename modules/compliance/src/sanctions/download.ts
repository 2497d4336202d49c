/**
 * Downloads a published list file: bounded time (SANCTIONS_DOWNLOAD_TIMEOUT_MS) and size
 * (SANCTIONS_IMPORT_MAX_BYTES, checked while reading, not after), no redirects to other schemes.
 */
import { SanctionsProblems } from './errors.ts';
import type { ListFormat } from './lists/types.ts';

export async function downloadList(url: string, options: { timeoutMs: number; maxBytes: number }): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'text/csv, application/xml, text/xml, */*' } });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (err as Error).message;
    throw SanctionsProblems.downloadFailed(`${new URL(url).host}: ${reason}`);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw SanctionsProblems.downloadFailed(`${new URL(url).host} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > options.maxBytes) {
    await res.body.cancel();
    throw SanctionsProblems.listTooLarge(options.maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > options.maxBytes) throw SanctionsProblems.listTooLarge(options.maxBytes);
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') throw SanctionsProblems.downloadFailed(`${new URL(url).host}: no complete answer within ${options.timeoutMs} ms`);
    throw err;
  }
  return Buffer.concat(chunks);
}

/** OFAC publishes the SDN list as XML and as CSV; the URL does not always say which. */
export function ofacFormatOf(bytes: Buffer): ListFormat {
  const head = bytes.subarray(0, 200).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('<') ? 'ofac-sdn-xml' : 'ofac-sdn-csv';
}
