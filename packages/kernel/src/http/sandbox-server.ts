/**
 * Start and stop of our partner sandboxes' own HTTP servers (PSP, KYC vendor, self-exclusion
 * register, randomness beacon): each listens on its configured port (0 = a free one) and answers
 * with the URL others reach it at.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens and resolves to the server's base URL (a wildcard host is reached on 127.0.0.1). */
export async function listenSandbox(server: http.Server, options: { port: number; host: string }): Promise<string> {
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Closes at once: a sandbox's callers are our own process or tests, nothing to drain. */
export async function closeSandbox(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A request's body, or undefined once it passes `maxBytes` (the sandbox answers 413 then). */
export async function readSandboxBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
