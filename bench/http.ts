/** HTTP load figures: autocannon in a worker thread against a server in this process, loopback only. */
import autocannon from 'autocannon';
import Fastify from 'fastify';

export interface Target {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadFigures {
  requestsPerS: number;
  latencyMsP50: number;
  latencyMsP99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

export interface LoadOptions {
  durationS: number;
  connections: number;
  /** A short unreported run first, so JIT and pools are warm. */
  warmupS?: number;
}

export async function load(target: Target, options: LoadOptions): Promise<LoadFigures> {
  const run = (durationS: number) => autocannon({ ...target, connections: options.connections, duration: durationS, workers: 1 });
  if (options.warmupS) await run(options.warmupS);
  const r = await run(options.durationS);
  return {
    requestsPerS: round(r.requests.average),
    latencyMsP50: r.latency.p50,
    latencyMsP99: r.latency.p99,
    requests: Math.round(r.requests.average * options.durationS),
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** Latency of one request at a time (no queueing), with sub-millisecond resolution. */
export async function unloadedLatency(target: Target, samples: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const res = await fetch(target.url, { method: target.method ?? 'GET', headers: target.headers ?? {}, body: target.body ?? null });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${target.url} answered ${res.status}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: round(times[Math.floor(samples * 0.5)]!, 3), p99Ms: round(times[Math.floor(samples * 0.99)]!, 3) };
}

/** The floor: a Fastify route with no plugins, hooks or database. */
export async function startBareFastify(): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/bare', async () => ({ status: 'ok', service: 'bare' }));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${base}/bare`, close: () => app.close() };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
