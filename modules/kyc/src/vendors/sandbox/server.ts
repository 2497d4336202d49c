/**
 * The sandbox KYC vendor: its own HTTP server, shaped like a real vendor (Onfido's applicant →
 * check → webhook → GET the result), for development, tests and the embedded default.
 *
 * API (`Authorization: Token token=<api key>`, JSON; POSTs need an `Idempotency-Key`: the same key
 * and body replay the first answer, another body is a 409):
 *   POST /v1/applicants  {reference, first_name, last_name, dob, country}
 *   GET  /v1/applicants/<id>
 *   POST /v1/checks      {applicant_id, reference, document_types?, notify_url?}
 *   GET  /v1/checks/<id> → {id, applicant_id, reference, status: in_progress|complete|expired,
 *                           result: clear|rejected|resubmit|review|null, created_at, completed_at}
 * Tools (no key): GET|POST /sandbox/control (latency, failures, check delay, duplicate and
 * out-of-order webhooks, pause), GET /sandbox/events?check=<id> (deliveries), GET /sandbox/scenarios.
 * Outcomes are chosen by the applicant's last name (scenarios.ts). The sandbox keeps only the
 * scenario of an applicant, never the name or date of birth, and holds everything in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { closeSandbox, listenSandbox, readSandboxBody, type Logger, type SandboxWebhookSender } from '@verity/kernel';
import { checkEnd, scenarioOf, SCENARIO_TABLE, type SandboxResult, type Scenario } from './scenarios.ts';
import { kycWebhookSender, type DeliveryPolicy, type SandboxWebhookEvent } from './webhooks.ts';

export interface SandboxControl extends DeliveryPolicy {
  latencyMs: number;
  /** Share of API calls answered 500 before they take effect. */
  failurePercent: number;
  /** How long a check runs before its result is ready. */
  checkDelayMs: number;
}

export const DEFAULT_CONTROL: SandboxControl = {
  latencyMs: 0,
  failurePercent: 0,
  checkDelayMs: 200,
  duplicatePercent: 0,
  outOfOrder: false,
  webhooksEnabled: true,
  webhookRetryBaseMs: 500,
  webhookMaxAttempts: 6,
};

const CONTROL_RANGES: Record<string, [number, number]> = {
  latencyMs: [0, 120_000],
  failurePercent: [0, 100],
  checkDelayMs: [0, 3_600_000],
  duplicatePercent: [0, 100],
  webhookRetryBaseMs: [1, 600_000],
  webhookMaxAttempts: [1, 50],
};
const BODY_MAX_BYTES = 64 * 1024;
const OBJECTS_MAX = 100_000;
const ID = /^[A-Za-z0-9_]{1,64}$/;

interface Applicant {
  id: string;
  reference: string;
  scenario: Scenario;
  created_at: string;
}

interface Check {
  id: string;
  applicant_id: string;
  reference: string;
  status: 'in_progress' | 'complete' | 'expired';
  result: SandboxResult | null;
  document_types: string[];
  created_at: string;
  completed_at: string | null;
  notify_url?: string;
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> };
const apiError = (status: number, type: string, message: string): Answer => ({ status, body: { error: { type, message } } });

export interface SandboxKycOptions {
  host: string;
  port: number;
  apiKey: string;
  webhookSecret: string;
  control?: Partial<SandboxControl>;
  log: Logger;
}

export class SandboxKycServer {
  readonly control: SandboxControl;
  readonly sender: SandboxWebhookSender<SandboxWebhookEvent>;
  private readonly options: SandboxKycOptions;
  private readonly server: http.Server;
  private readonly applicants = new Map<string, Applicant>();
  private readonly checks = new Map<string, Check>();
  private readonly answered = new Map<string, { fingerprint: string; answer: Answer }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private baseUrl = '';

  constructor(options: SandboxKycOptions) {
    this.options = options;
    this.control = { ...DEFAULT_CONTROL, ...options.control };
    this.sender = kycWebhookSender({ secret: options.webhookSecret, policy: () => this.control, log: options.log });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.log.error({ err }, 'sandbox KYC vendor request failed');
        if (!res.headersSent) send(res, apiError(500, 'internal_error', 'Internal sandbox error'));
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
    await this.sender.stop();
    for (const t of this.timers) clearTimeout(t);
    await closeSandbox(this.server);
  }

  /** Changes the misbehaviour knobs; throws on a bad value. */
  configure(patch: Record<string, unknown>): SandboxControl {
    const next = { ...this.control };
    for (const [key, value] of Object.entries(patch)) {
      const range = CONTROL_RANGES[key];
      if (range) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) throw new ControlError(`${key} must be an integer in ${range[0]}..${range[1]}`);
        (next as unknown as Record<string, number>)[key] = value;
      } else if (key === 'outOfOrder' || key === 'webhooksEnabled') {
        if (typeof value !== 'boolean') throw new ControlError(`${key} must be a boolean`);
        next[key] = value;
      } else throw new ControlError(`unknown control ${key.slice(0, 40)}`);
    }
    const resumed = !this.control.webhooksEnabled && next.webhooksEnabled;
    Object.assign(this.control, next);
    if (resumed) this.sender.resume();
    return { ...this.control };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const raw = req.method === 'POST' ? await readSandboxBody(req, BODY_MAX_BYTES) : Buffer.alloc(0);
    if (raw === undefined) return send(res, apiError(413, 'validation_error', `Body over ${BODY_MAX_BYTES} bytes`));
    if (url.pathname.startsWith('/v1/')) return send(res, await this.api(req, url, raw));
    if (url.pathname.startsWith('/sandbox/')) return send(res, this.tools(req, url, raw));
    send(res, apiError(404, 'resource_not_found', 'Unknown path'));
  }

  private async api(req: http.IncomingMessage, url: URL, raw: Buffer): Promise<Answer> {
    if (req.headers.authorization !== `Token token=${this.options.apiKey}`) return apiError(401, 'authorization_error', 'Invalid API token');
    const c = this.control;
    if (c.latencyMs > 0) await new Promise((r) => setTimeout(r, c.latencyMs));
    if (Math.random() * 100 < c.failurePercent) return apiError(500, 'internal_error', 'Simulated vendor failure (nothing was done)');
    if (req.method === 'GET') return this.get(url.pathname);
    if (req.method !== 'POST') return apiError(405, 'validation_error', 'Method not allowed');
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length < 8 || key.length > 255) return apiError(400, 'validation_error', 'Idempotency-Key header (8..255 chars) is required');
    const fingerprint = createHash('sha256').update(url.pathname).update('\n').update(raw).digest('hex');
    const prior = this.answered.get(key);
    if (prior) {
      if (prior.fingerprint !== fingerprint) return apiError(409, 'idempotency_error', 'Idempotency-Key reused with another request');
      return { ...prior.answer, headers: { 'idempotent-replayed': 'true' } };
    }
    const body = parseObject(raw);
    if (!body) return apiError(400, 'validation_error', 'Body must be a JSON object');
    if (this.checks.size + this.applicants.size > OBJECTS_MAX) return apiError(429, 'rate_limit', 'Sandbox is full; restart it');
    const answer = url.pathname === '/v1/applicants' ? this.createApplicant(body) : url.pathname === '/v1/checks' ? this.createCheck(body) : apiError(404, 'resource_not_found', 'Unknown path');
    if (answer.status < 500) this.answered.set(key, { fingerprint, answer });
    return answer;
  }

  private createApplicant(body: Record<string, unknown>): Answer {
    const { reference, last_name: lastName } = body;
    if (typeof reference !== 'string' || !reference || reference.length > 100) return apiError(422, 'validation_error', 'reference is required');
    if (typeof lastName !== 'string' || !lastName || lastName.length > 200) return apiError(422, 'validation_error', 'last_name is required');
    if (typeof body.dob !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(body.dob)) return apiError(422, 'validation_error', 'dob must be YYYY-MM-DD');
    const applicant: Applicant = { id: `sbx_app_${randomBytes(10).toString('hex')}`, reference, scenario: scenarioOf(lastName), created_at: new Date().toISOString() };
    this.applicants.set(applicant.id, applicant);
    return { status: 201, body: this.applicantView(applicant) };
  }

  private createCheck(body: Record<string, unknown>): Answer {
    const applicant = typeof body.applicant_id === 'string' ? this.applicants.get(body.applicant_id) : undefined;
    if (!applicant) return apiError(422, 'validation_error', 'applicant_id is not a known applicant');
    if (typeof body.reference !== 'string' || !body.reference || body.reference.length > 100) return apiError(422, 'validation_error', 'reference is required');
    const documentTypes = Array.isArray(body.document_types) ? body.document_types.filter((t): t is string => typeof t === 'string').slice(0, 20) : [];
    const notifyUrl = typeof body.notify_url === 'string' && /^https?:\/\//.test(body.notify_url) ? body.notify_url : undefined;
    const check: Check = {
      id: `sbx_chk_${randomBytes(10).toString('hex')}`,
      applicant_id: applicant.id,
      reference: body.reference,
      status: 'in_progress',
      result: null,
      document_types: documentTypes,
      created_at: new Date().toISOString(),
      completed_at: null,
      ...(notifyUrl ? { notify_url: notifyUrl } : {}),
    };
    this.checks.set(check.id, check);
    this.notify(check, 'check.started', false);
    const end = checkEnd(applicant.scenario, documentTypes);
    if (end) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        Object.assign(check, { status: end.status, result: end.result, completed_at: new Date().toISOString() });
        this.notify(check, end.status === 'expired' ? 'check.expired' : 'check.completed', true);
      }, this.control.checkDelayMs);
      t.unref();
      this.timers.add(t);
    }
    return { status: 201, body: this.checkView(check) };
  }

  private notify(check: Check, type: SandboxWebhookEvent['type'], terminal: boolean): void {
    const event: SandboxWebhookEvent = {
      id: `evt_${randomBytes(10).toString('hex')}`,
      type,
      created_at: new Date().toISOString(),
      object: { id: check.id, applicant_id: check.applicant_id, status: check.status, href: `${this.baseUrl}/v1/checks/${check.id}` },
    };
    this.sender.emit(event, check.notify_url, terminal);
  }

  private get(pathname: string): Answer {
    const m = /^\/v1\/(applicants|checks)\/([^/]+)$/.exec(pathname);
    if (!m || !ID.test(m[2]!)) return apiError(404, 'resource_not_found', 'Unknown path');
    if (m[1] === 'applicants') {
      const a = this.applicants.get(m[2]!);
      return a ? { status: 200, body: this.applicantView(a) } : apiError(404, 'resource_not_found', `No such applicant: ${m[2]}`);
    }
    const c = this.checks.get(m[2]!);
    return c ? { status: 200, body: this.checkView(c) } : apiError(404, 'resource_not_found', `No such check: ${m[2]}`);
  }

  private applicantView(a: Applicant) {
    return { id: a.id, reference: a.reference, created_at: a.created_at, href: `${this.baseUrl}/v1/applicants/${a.id}` };
  }

  private checkView(c: Check) {
    const { notify_url: _url, ...view } = c;
    return { ...view, href: `${this.baseUrl}/v1/checks/${c.id}` };
  }

  private tools(req: http.IncomingMessage, url: URL, raw: Buffer): Answer {
    try {
      if (url.pathname === '/sandbox/control') {
        if (req.method !== 'POST') return { status: 200, body: this.control };
        const patch = parseObject(raw);
        if (!patch) return apiError(400, 'validation_error', 'Body must be a JSON object');
        return { status: 200, body: this.configure(patch) };
      }
      if (url.pathname === '/sandbox/events') {
        const check = url.searchParams.get('check');
        return { status: 200, body: { data: [...this.sender.records.values()].filter((r) => !check || r.objectId === check) } };
      }
      if (url.pathname === '/sandbox/scenarios') return { status: 200, body: { chosenBy: 'applicant last_name (case-insensitive)', scenarios: SCENARIO_TABLE } };
      return apiError(404, 'resource_not_found', 'Unknown path');
    } catch (err) {
      if (err instanceof ControlError) return apiError(400, 'validation_error', err.message);
      throw err;
    }
  }
}

class ControlError extends Error {}

function send(res: http.ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}

function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8') || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
