/**
 * The sandbox PSP: its own HTTP server that behaves like a card PSP (ARCHITECTURE §6, issue 3).
 *
 * API (`Authorization: Bearer <api key>`, JSON, amounts as minor-unit strings; every POST needs an
 * `Idempotency-Key`: the same key and body replay the first answer, another body is a 400):
 *   POST /v1/payments   {amount_minor, currency, reference, customer_ref?, payment_method?, billing_details?: {name?}, return_url?, notify_url?}
 *                       (a payment reports `billing_details.name` and the card's fingerprint `method_ref`)
 *   GET  /v1/payments/<id>            GET /v1/payments?reference=<ours>
 *   POST /v1/payouts    {amount_minor, currency, reference, destination, customer_ref?, notify_url?}
 *   GET  /v1/payouts/<id>             GET /v1/payouts?reference=<ours>
 *   POST /v1/refunds    {payment, amount_minor, reason?, notify_url?}
 * Tools (no key; the sandbox binds to the API's interface):
 *   GET  /sandbox/3ds/<id>                                   the challenge page a player sees
 *   GET|POST /sandbox/3ds/<id>/complete?outcome=succeed|fail completes it (GET redirects to return_url)
 *   GET|POST /sandbox/control                                latency, failures, hangs, webhook behaviour
 *   GET  /sandbox/settlements/<YYYY-MM-DD>.csv               the daily settlement report
 *   GET  /sandbox/events?object=<id>                         webhook delivery log
 * Webhooks go to the `notify_url` given with each object (Mollie-style), signed with the secret.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { closeSandbox, listenSandbox, readSandboxBody, type Logger, type SandboxWebhookSender } from '@verity/kernel';
import { TEST_CARDS } from './cards.ts';
import { SandboxRequestError, SandboxStore, type SandboxEvent, type StoredAnswer } from './store.ts';
import { pspWebhookSender, type DeliveryPolicy } from './webhook-sender.ts';

export interface SandboxControl extends DeliveryPolicy {
  latencyMs: number;
  /** Share of API calls answered 500 before they take effect. */
  failurePercent: number;
  /** Share of API calls that take effect and then never answer (the caller times out). */
  timeoutPercent: number;
  /** How long a payout stays pending before the bank run pays it. */
  payoutDelayMs: number;
}

export const DEFAULT_CONTROL: SandboxControl = {
  latencyMs: 0,
  failurePercent: 0,
  timeoutPercent: 0,
  duplicatePercent: 0,
  outOfOrder: false,
  outOfOrderHoldMs: 5_000,
  webhooksEnabled: true,
  webhookRetryBaseMs: 500,
  webhookMaxAttempts: 8,
  payoutDelayMs: 200,
};

/** Allowed range of each numeric control. */
const CONTROL_RANGES: Record<string, [number, number]> = {
  latencyMs: [0, 120_000],
  failurePercent: [0, 100],
  timeoutPercent: [0, 100],
  duplicatePercent: [0, 100],
  outOfOrderHoldMs: [0, 600_000],
  webhookRetryBaseMs: [1, 600_000],
  webhookMaxAttempts: [1, 50],
  payoutDelayMs: [0, 3_600_000],
};
const BODY_MAX_BYTES = 64 * 1024;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface SandboxServerOptions {
  host: string;
  port: number;
  apiKey: string;
  webhookSecret: string;
  /** Journal and settlement reports; none: memory only. */
  dir?: string;
  control?: Partial<SandboxControl>;
  log: Logger;
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

const apiError = (status: number, type: string, message: string): Answer => ({ status, body: { error: { type, message } } });

export class SandboxServer {
  readonly control: SandboxControl;
  readonly store: SandboxStore;
  readonly sender: SandboxWebhookSender<SandboxEvent>;
  private readonly options: SandboxServerOptions;
  private readonly server: http.Server;
  private readonly payoutTimers = new Set<NodeJS.Timeout>();
  private baseUrl = '';

  constructor(options: SandboxServerOptions) {
    this.options = options;
    this.control = { ...DEFAULT_CONTROL, ...options.control };
    this.sender = pspWebhookSender({ secret: options.webhookSecret, policy: () => this.control, log: options.log });
    this.store = new SandboxStore({
      ...(options.dir ? { dir: options.dir } : {}),
      baseUrl: () => this.baseUrl,
      fingerprintKey: options.webhookSecret,
      onEvent: (event, url, terminal) => this.sender.emit(event, url, terminal),
    });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.log.error({ err }, 'sandbox PSP request failed');
        if (!res.headersSent) send(res, apiError(500, 'api_error', 'Internal sandbox error'));
      });
    });
  }

  /** The base URL (known after start). */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<string> {
    this.baseUrl = await listenSandbox(this.server, this.options);
    for (const payout of this.store.pendingPayouts()) this.schedulePayout(payout.id);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    await this.sender.stop();
    for (const t of this.payoutTimers) clearTimeout(t);
    await closeSandbox(this.server);
  }

  /** Changes the misbehaviour knobs; throws SandboxRequestError on a bad value. */
  configure(patch: Record<string, unknown>): SandboxControl {
    const next = { ...this.control };
    for (const [key, value] of Object.entries(patch)) {
      const range = CONTROL_RANGES[key];
      if (range) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
          throw new SandboxRequestError(400, 'invalid_request_error', `${key} must be an integer in ${range[0]}..${range[1]}`);
        }
        (next as unknown as Record<string, number>)[key] = value;
      } else if (key === 'outOfOrder' || key === 'webhooksEnabled') {
        if (typeof value !== 'boolean') throw new SandboxRequestError(400, 'invalid_request_error', `${key} must be a boolean`);
        next[key] = value;
      } else throw new SandboxRequestError(400, 'invalid_request_error', `unknown control ${key.slice(0, 40)}`);
    }
    const resumed = !this.control.webhooksEnabled && next.webhooksEnabled;
    Object.assign(this.control, next);
    if (resumed) this.sender.resume();
    return { ...this.control };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const raw = req.method === 'POST' ? await readSandboxBody(req, BODY_MAX_BYTES) : Buffer.alloc(0);
    if (raw === undefined) return send(res, apiError(413, 'invalid_request_error', `Body over ${BODY_MAX_BYTES} bytes`));
    if (url.pathname.startsWith('/v1/')) return this.api(req, res, url, raw);
    if (url.pathname.startsWith('/sandbox/')) return this.tools(req, res, url, raw);
    send(res, apiError(404, 'invalid_request_error', 'Unknown path'));
  }

  private async api(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: Buffer): Promise<void> {
    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) return send(res, apiError(401, 'authentication_error', 'Invalid API key'));
    const c = this.control;
    if (c.latencyMs > 0) await new Promise((r) => setTimeout(r, c.latencyMs));
    if (Math.random() * 100 < c.failurePercent) return send(res, apiError(500, 'api_error', 'Simulated PSP failure (nothing was done)'));
    const answer = req.method === 'POST' ? this.idempotentPost(url.pathname, req.headers['idempotency-key'], raw) : this.get(url);
    if (Math.random() * 100 < c.timeoutPercent) return; // it happened; the answer never comes (the socket stays open until the caller gives up)
    send(res, answer);
  }

  private idempotentPost(pathname: string, keyHeader: string | string[] | undefined, raw: Buffer): Answer {
    if (typeof keyHeader !== 'string' || keyHeader.length < 8 || keyHeader.length > 255) return apiError(400, 'invalid_request_error', 'Idempotency-Key header (8..255 chars) is required');
    const key = `${pathname}:${keyHeader}`;
    const fingerprint = createHash('sha256').update(raw).digest('hex');
    const prior = this.store.answered(key);
    if (prior) {
      if (prior.fingerprint !== fingerprint) return apiError(400, 'idempotency_error', 'Keys for idempotent requests can only be used with the same parameters they were first used with.');
      return { status: prior.status, body: prior.body, headers: { 'idempotent-replayed': 'true' } };
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return apiError(400, 'invalid_request_error', 'Body must be a JSON object');
    }
    const answer = this.post(pathname, body);
    const stored: StoredAnswer = { fingerprint, status: answer.status, body: answer.body };
    this.store.remember(key, stored);
    return answer;
  }

  private post(pathname: string, body: Record<string, unknown>): Answer {
    try {
      if (pathname === '/v1/payments') return { status: 200, body: this.store.createPayment(body) };
      if (pathname === '/v1/payouts') {
        const payout = this.store.createPayout(body);
        this.schedulePayout(payout.id);
        return { status: 200, body: payout };
      }
      if (pathname === '/v1/refunds') return { status: 200, body: this.store.createRefund(body) };
      return apiError(404, 'invalid_request_error', 'Unknown path');
    } catch (err) {
      if (err instanceof SandboxRequestError) return apiError(err.status, err.type, err.message);
      throw err;
    }
  }

  private get(url: URL): Answer {
    const m = /^\/v1\/(payments|payouts|refunds)(?:\/([A-Za-z0-9_]{1,64}))?$/.exec(url.pathname);
    if (!m) return apiError(404, 'invalid_request_error', 'Unknown path');
    const [, kind, id] = m;
    const books = { payments: this.store.payments, payouts: this.store.payouts, refunds: this.store.refunds } as const;
    if (id) {
      const object = books[kind as keyof typeof books].get(id);
      return object ? { status: 200, body: object } : apiError(404, 'invalid_request_error', `No such ${kind!.slice(0, -1)}: ${id}`);
    }
    const reference = url.searchParams.get('reference');
    if (!reference || kind === 'refunds') return apiError(400, 'invalid_request_error', 'reference query parameter is required');
    const found = kind === 'payments' ? this.store.paymentByReference(reference) : this.store.payoutByReference(reference);
    return { status: 200, body: { object: 'list', data: found ? [found] : [] } };
  }

  private tools(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: Buffer): void {
    const p = url.pathname;
    try {
      const challenge = /^\/sandbox\/3ds\/([A-Za-z0-9_]{1,64})(\/complete)?$/.exec(p);
      if (challenge) return this.challenge(req, res, url, challenge[1]!, challenge[2] !== undefined);
      if (p === '/sandbox/control') {
        const control = req.method === 'POST' ? this.configure(parseObject(raw)) : this.control;
        return send(res, { status: 200, body: control });
      }
      const day = /^\/sandbox\/settlements\/([0-9-]{10})\.csv$/.exec(p);
      if (day && DAY.test(day[1]!)) {
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
        res.end(this.store.settlementCsv(day[1]!));
        return;
      }
      if (p === '/sandbox/events') {
        const object = url.searchParams.get('object');
        const records = [...this.sender.records.values()].filter((r) => !object || r.objectId === object);
        return send(res, { status: 200, body: { object: 'list', data: records } });
      }
      if (p === '/sandbox/cards') return send(res, { status: 200, body: TEST_CARDS });
      send(res, apiError(404, 'invalid_request_error', 'Unknown path'));
    } catch (err) {
      if (err instanceof SandboxRequestError) return send(res, apiError(err.status, err.type, err.message));
      throw err;
    }
  }

  private challenge(req: http.IncomingMessage, res: http.ServerResponse, url: URL, id: string, complete: boolean): void {
    if (!complete) {
      const payment = this.store.payments.get(id);
      if (!payment) return send(res, apiError(404, 'invalid_request_error', `No such payment: ${id}`));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(challengePage(id, `${payment.amount_minor} ${payment.currency}`, payment.status));
      return;
    }
    const outcome = url.searchParams.get('outcome') ?? 'succeed';
    if (outcome !== 'succeed' && outcome !== 'fail') return send(res, apiError(400, 'invalid_request_error', 'outcome must be succeed or fail'));
    const payment = this.store.completeChallenge(id, outcome);
    if (req.method === 'GET' && payment.return_url) {
      const back = new URL(payment.return_url);
      back.searchParams.set('psp_payment', payment.id);
      res.writeHead(303, { location: back.toString() });
      res.end();
      return;
    }
    send(res, { status: 200, body: payment });
  }

  private schedulePayout(id: string): void {
    const t = setTimeout(() => {
      this.payoutTimers.delete(t);
      this.store.settlePayout(id);
    }, this.control.payoutDelayMs);
    t.unref();
    this.payoutTimers.add(t);
  }
}

function send(res: http.ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}

function parseObject(raw: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8') || '{}');
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new SandboxRequestError(400, 'invalid_request_error', 'Body must be a JSON object');
}

function challengePage(id: string, amount: string, status: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox 3-D Secure</title></head>
<body style="font-family:system-ui;max-width:28rem;margin:3rem auto">
<h1>Sandbox 3-D Secure</h1><p>Payment <code>${esc(id)}</code> of <strong>${esc(amount)}</strong> (minor units) is <em>${esc(status)}</em>.</p>
<form method="get" action="/sandbox/3ds/${esc(id)}/complete"><input type="hidden" name="outcome" value="succeed"><button>Authenticate</button></form>
<form method="get" action="/sandbox/3ds/${esc(id)}/complete"><input type="hidden" name="outcome" value="fail"><button>Fail authentication</button></form>
</body></html>`;
}
