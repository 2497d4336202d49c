/**
 * The sandbox self-exclusion register: its own HTTP server in GAMSTOP's v2 shape, for development and
 * tests (never production). It keeps no personal data, only SHA-256 hashes of the normalised
 * name + date of birth + postcode of the people excluded.
 *
 *   POST /v2                   (X-API-Key) form: firstName, lastName, dateOfBirth, postcode, …  → X-Exclusion: Y | N | P
 *   POST /sandbox/exclusions   JSON {firstName, lastName, dateOfBirth, postcode, status?: 'Y'|'P'}  adds a person (hash only)
 *   GET  /sandbox/exclusions   → {count}
 * Test data decides too, as in real sandboxes: a last name starting "Excluded" answers Y, "Previously" P.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeSandbox, listenSandbox, readSandboxBody, type Logger } from '@verity/kernel';
import type { RegisterPerson, RegisterStatus } from './register.ts';

const BODY_MAX_BYTES = 16 * 1024;
const LIST_MAX = 100_000;

const normName = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z]/g, '');
const normPostcode = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** The key the sandbox lists people by: no name, date or postcode is kept in clear. */
export function personHash(p: Pick<RegisterPerson, 'firstName' | 'lastName' | 'dateOfBirth' | 'postcode'>): string {
  return createHash('sha256').update(`${normName(p.firstName)}|${normName(p.lastName)}|${p.dateOfBirth.trim()}|${normPostcode(p.postcode)}`).digest('hex');
}

export class RegisterSandbox {
  readonly apiKey: string;
  private readonly server: http.Server;
  private readonly list = new Map<string, RegisterStatus>();
  private readonly options: { host: string; port: number; log: Logger };

  constructor(options: { host: string; port: number; apiKey: string; log: Logger }) {
    this.options = options;
    this.apiKey = options.apiKey;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.log.warn({ err }, 'register sandbox request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    const host = this.options.host === '0.0.0.0' || this.options.host === '::' ? '127.0.0.1' : this.options.host;
    return `http://${host}:${port}`;
  }

  async start(): Promise<void> {
    await listenSandbox(this.server, this.options);
    this.options.log.info({ url: this.url }, 'sandbox self-exclusion register listening');
  }

  async stop(): Promise<void> {
    await closeSandbox(this.server);
  }

  exclude(person: Pick<RegisterPerson, 'firstName' | 'lastName' | 'dateOfBirth' | 'postcode'>, status: RegisterStatus = 'Y'): void {
    if (this.list.size >= LIST_MAX) throw new Error('sandbox register list is full');
    this.list.set(personHash(person), status);
  }

  private statusOf(p: RegisterPerson): RegisterStatus {
    const listed = this.list.get(personHash(p));
    if (listed) return listed;
    if (/^excluded/i.test(p.lastName)) return 'Y';
    if (/^previously/i.test(p.lastName)) return 'P';
    return 'N';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const body = (await readSandboxBody(req, BODY_MAX_BYTES))?.toString('utf8');
    if (body === undefined) return void res.writeHead(413).end();
    if (req.method === 'POST' && path === '/v2') {
      if (req.headers['x-api-key'] !== this.apiKey) return void res.writeHead(403).end();
      const form = new URLSearchParams(body);
      const person = { firstName: form.get('firstName') ?? '', lastName: form.get('lastName') ?? '', dateOfBirth: form.get('dateOfBirth') ?? '', postcode: form.get('postcode') ?? '' };
      if (!person.lastName || !/^\d{4}-\d{2}-\d{2}$/.test(person.dateOfBirth)) return void res.writeHead(400).end();
      res.writeHead(200, { 'x-exclusion': this.statusOf(person), 'x-unique-id': randomUUID() }).end();
      return;
    }
    if (path === '/sandbox/exclusions') {
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: this.list.size }));
      if (req.method === 'POST') {
        const p = JSON.parse(body) as RegisterPerson & { status?: RegisterStatus };
        if (typeof p.firstName !== 'string' || typeof p.lastName !== 'string' || typeof p.dateOfBirth !== 'string' || typeof p.postcode !== 'string') {
          return void res.writeHead(400).end();
        }
        this.exclude(p, p.status === 'P' ? 'P' : 'Y');
        return void res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ count: this.list.size }));
      }
    }
    res.writeHead(404).end();
  }
}

