/**
 * The local beacon sandbox: its own HTTP server that behaves like a drand quicknet relay, with a BLS
 * key of its own (ADR 0015). For development, the demo and tests, where there is no network. Its
 * randomness is NOT public (we hold the key), so its chain info says `nonProduction: true` and every
 * manifest and bundle built on it carries that label.
 *
 * drand's HTTP API (v1), same JSON shapes:
 *   GET /chains                              → [chainHash]
 *   GET /info, /{chainHash}/info             → {public_key, period, genesis_time, hash, groupHash, schemeID, metadata}
 *   GET /public/latest, /{chainHash}/public/latest
 *   GET /public/{round}, /{chainHash}/public/{round} → {round, randomness, signature}; 404 before the round's time
 * Tools:
 *   GET|POST /sandbox/control                {latencyMs, failurePercent}: slow or failing answers
 * Only rounds whose time has passed by the injected clock are served, so a test that moves its clock
 * moves the beacon with it.
 */
import http from 'node:http';
import { localBeacon, roundAt } from '@verity/evidence';
import { closeSandbox, listenSandbox, readSandboxBody, type Logger } from '@verity/kernel';
import type { BeaconChain } from '../port.ts';

export interface SandboxBeaconControl {
  latencyMs: number;
  /** Share of answers that are a 500 (a relay having a bad day). */
  failurePercent: number;
}

const CONTROL_RANGES: Record<keyof SandboxBeaconControl, [number, number]> = { latencyMs: [0, 120_000], failurePercent: [0, 100] };
const BODY_MAX_BYTES = 4 * 1024;
const SIGNATURE_CACHE_MAX = 2_048;

export interface BeaconSandboxOptions {
  host: string;
  port: number;
  secretKey: Uint8Array;
  chain: BeaconChain;
  now(): Promise<Date>;
  control?: Partial<SandboxBeaconControl>;
  log: Logger;
}

type Answer = { status: number; body: unknown };

/** drand's JSON chain info for a chain (the wire names). */
export function wireInfo(chain: BeaconChain): Record<string, unknown> {
  return {
    public_key: chain.publicKey,
    period: chain.period,
    genesis_time: chain.genesisTime,
    hash: chain.hash,
    groupHash: chain.groupHash ?? chain.hash,
    schemeID: chain.schemeID,
    metadata: { ...chain.metadata, nonProduction: chain.nonProduction },
  };
}

export class BeaconSandboxServer {
  readonly control: SandboxBeaconControl;
  private readonly options: BeaconSandboxOptions;
  private readonly server: http.Server;
  private readonly signed = new Map<number, ReturnType<typeof localBeacon>>();
  private baseUrl = '';

  constructor(options: BeaconSandboxOptions) {
    this.options = options;
    this.control = { latencyMs: 0, failurePercent: 0, ...options.control };
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.log.error({ err }, 'beacon sandbox request failed');
        if (!res.headersSent) send(res, { status: 500, body: { error: 'internal sandbox error' } });
      });
    });
  }

  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<string> {
    this.baseUrl = await listenSandbox(this.server, this.options);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    await closeSandbox(this.server);
  }

  configure(patch: Record<string, unknown>): SandboxBeaconControl {
    const next = { ...this.control };
    for (const [key, value] of Object.entries(patch)) {
      const range = CONTROL_RANGES[key as keyof SandboxBeaconControl];
      if (!range) throw new ControlError(`unknown control ${key.slice(0, 40)}`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) throw new ControlError(`${key} must be an integer in ${range[0]}..${range[1]}`);
      next[key as keyof SandboxBeaconControl] = value;
    }
    Object.assign(this.control, next);
    return { ...this.control };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname === '/sandbox/control') return send(res, await this.controlRoute(req));
    if (req.method !== 'GET') return send(res, { status: 405, body: { error: 'method not allowed' } });
    const c = this.control;
    if (c.latencyMs > 0) await new Promise((r) => setTimeout(r, c.latencyMs));
    if (Math.random() * 100 < c.failurePercent) return send(res, { status: 500, body: { error: 'simulated relay failure' } });
    send(res, await this.api(url.pathname));
  }

  private async api(pathname: string): Promise<Answer> {
    const { chain } = this.options;
    if (pathname === '/chains') return { status: 200, body: [chain.hash] };
    // Paths with and without the chain hash, like drand's relays (the hash-less form is the default chain).
    const parts = pathname.split('/').filter(Boolean);
    if (parts[0] === chain.hash) parts.shift();
    else if (parts[0] && /^[0-9a-f]{64}$/.test(parts[0])) return { status: 404, body: { error: 'unknown chain' } };
    if (parts.length === 1 && parts[0] === 'info') return { status: 200, body: wireInfo(chain) };
    if (parts.length === 2 && parts[0] === 'public') return this.publicRound(parts[1]!);
    return { status: 404, body: { error: 'unknown path' } };
  }

  private async publicRound(which: string): Promise<Answer> {
    const latest = roundAt(this.options.chain, Math.floor((await this.options.now()).getTime() / 1000));
    const round = which === 'latest' ? latest : /^[1-9][0-9]{0,14}$/.test(which) ? Number(which) : undefined;
    if (round === undefined) return { status: 400, body: { error: 'round must be a positive integer or latest' } };
    // No future rounds: that is the whole point of a beacon.
    if (round < 1 || round > latest) return { status: 404, body: { error: `round ${round} is not available yet (latest is ${latest})` } };
    return { status: 200, body: this.beacon(round) };
  }

  private beacon(round: number): ReturnType<typeof localBeacon> {
    let b = this.signed.get(round);
    if (!b) {
      b = localBeacon(this.options.secretKey, round);
      if (this.signed.size >= SIGNATURE_CACHE_MAX) this.signed.delete(this.signed.keys().next().value!);
      this.signed.set(round, b);
    }
    return { round: b.round, randomness: b.randomness, signature: b.signature };
  }

  private async controlRoute(req: http.IncomingMessage): Promise<Answer> {
    if (req.method === 'GET') return { status: 200, body: { ...this.control } };
    if (req.method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
    const raw = await readSandboxBody(req, BODY_MAX_BYTES);
    if (raw === undefined) return { status: 413, body: { error: `body over ${BODY_MAX_BYTES} bytes` } };
    try {
      const patch: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ControlError('body must be a JSON object');
      return { status: 200, body: this.configure(patch as Record<string, unknown>) };
    } catch (err) {
      return { status: 400, body: { error: err instanceof ControlError ? err.message : 'body must be a JSON object' } };
    }
  }
}

class ControlError extends Error {}

function send(res: http.ServerResponse, answer: Answer): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

