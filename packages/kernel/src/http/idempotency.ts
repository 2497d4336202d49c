/**
 * `Idempotency-Key` for commands (ADR 0004). The key row is inserted in the same transaction as the
 * command it guards and the answer is stored there too, so:
 * - a retry with the same key and body gets the stored status, headers and body back;
 * - the same key with another body (or path) is a 422;
 * - a concurrent duplicate blocks on the uncommitted unique key until the first commits, then reads
 *   the stored answer: the work is done once, without polling or an "in progress" state;
 * - a 4xx DomainError from the handler is an answer too (its writes are rolled back to a savepoint,
 *   the problem is stored); a 5xx or unexpected error rolls everything back and stores nothing, so
 *   the client may retry.
 * Scope: the calling principal (or `anonymous`) + method + route template. Keys live 24 hours.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { canonicalJson } from '../audit/canonical-json.ts';
import { pgCode, type Db } from '../db/db.ts';
import { DomainError, Problems } from '../errors.ts';
import type { Idempotency } from '../module.ts';
import type { Logger } from '../telemetry/logger.ts';
import { requestContext } from './context.ts';
import { problemFrom } from './server.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
export const IDEMPOTENCY_TTL_HOURS = 24;
/** Visible ASCII (0x21–0x7E), 8 to 255 characters: room for a UUID or a client's own scheme. */
const KEY = /^[\x21-\x7e]{8,255}$/;
/** How long a duplicate waits for the first request to finish before it is told to retry. */
const DEFAULT_LOCK_WAIT_MS = 10_000;
/** Stored answers are command results, not downloads. */
const STORED_BODY_MAX_BYTES = 256 * 1024;
/** Per-request headers that a replay must not repeat. */
const NOT_STORED = new Set(['x-request-id', 'traceparent', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'set-cookie', REPLAYED_HEADER]);

/**
 * The header in a route's schema (`schema.headers`), so the OpenAPI document and the SDK show it.
 * The wrapper checks it either way; this documents it.
 */
export function idempotencyKeyHeaders(options: { required?: boolean } = {}) {
  const key = Type.String({
    minLength: 8,
    maxLength: 255,
    pattern: '^[\\x21-\\x7e]+$',
    description: 'A unique key per command (a UUID): a retry with the same key and body replays the first answer; the same key with another body is a 422.',
  });
  return Type.Object({ [IDEMPOTENCY_KEY_HEADER]: options.required ? key : Type.Optional(key) });
}

const keyRequired = () =>
  new DomainError('idempotency-key-required', 400, 'Idempotency-Key required', 'This command needs an Idempotency-Key header (for example a UUID) so that a retry cannot repeat it.');

interface KeyId {
  scope: string;
  method: string;
  route: string;
  key: string;
}

interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface IdempotencyOptions {
  db: Db;
  log: Logger;
  lockWaitMs?: number;
}

export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const { db, log } = options;
  const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;

  async function execute(req: FastifyRequest, reply: FastifyReply, handler: Handler, key: string): Promise<unknown> {
    const id: KeyId = {
      scope: requestContext.get()?.principal?.subject ?? 'anonymous',
      method: req.method,
      route: req.routeOptions.url ?? req.url.split('?')[0]!,
      key,
    };
    const requestHash = hashRequest(req, id.route);
    // The common retry needs no transaction: answer it from a plain read.
    const prior = await readStored(db, id);
    if (prior) return sendStored(reply, checked(prior, requestHash), true);

    const outcome = await db.tx(async () => {
      if (!(await claim(db, id, requestHash, lockWaitMs))) {
        const stored = await readStored(db, id);
        if (!stored) throw new Error('idempotency: key row vanished after a conflict');
        return { stored: checked(stored, requestHash), replayed: true };
      }
      const stored = await runOnce(db, req, reply, handler);
      await db.query(
        `update kernel.idempotency_keys set status_code = $5, response_headers = $6, response_body = $7
          where scope = $1 and method = $2 and route = $3 and key = $4`,
        [id.scope, id.method, id.route, id.key, stored.status, JSON.stringify(stored.headers), stored.body],
      );
      return { stored, replayed: false };
    });
    if (outcome.replayed) log.debug({ route: id.route, status: outcome.stored.status }, 'idempotent replay');
    return sendStored(reply, outcome.stored, outcome.replayed);
  }

  return {
    wrap<H extends (req: any, reply: any) => Promise<unknown>>(handler: H, wrapOptions: { required?: boolean } = {}): H {
      const wrapped: Handler = async (req, reply) => {
        const raw = req.headers[IDEMPOTENCY_KEY_HEADER];
        if (raw === undefined) {
          if (wrapOptions.required) throw keyRequired();
          return handler(req, reply);
        }
        if (typeof raw !== 'string' || !KEY.test(raw)) throw Problems.idempotencyKeyInvalid();
        return execute(req, reply, handler, raw);
      };
      return wrapped as unknown as H;
    },
  };
}

/** Deletes keys older than the retention; returns how many went. The purge job calls this. */
export async function purgeExpiredIdempotencyKeys(db: Db, maxAgeHours = IDEMPOTENCY_TTL_HOURS): Promise<number> {
  const rows = await db.query<{ n: bigint }>(
    `with gone as (delete from kernel.idempotency_keys where created_at < clock_timestamp() - make_interval(hours => $1) returning 1)
     select count(*) as n from gone`,
    [maxAgeHours],
  );
  return Number(rows[0]?.n ?? 0n);
}

/** The request's identity: method, route, concrete params and query, canonical body. */
function hashRequest(req: FastifyRequest, route: string): string {
  const canonical = canonicalJson({ method: req.method, route, params: req.params ?? {}, query: req.query ?? {}, body: req.body ?? null });
  return createHash('sha256').update(canonical).digest('hex');
}

function checked(stored: StoredResponse & { requestHash: string }, requestHash: string): StoredResponse {
  if (stored.requestHash !== requestHash) throw Problems.idempotencyKeyReused();
  return stored;
}

async function readStored(db: Db, id: KeyId): Promise<(StoredResponse & { requestHash: string }) | undefined> {
  const row = await db.maybeOne<{ request_hash: string; status_code: number | null; response_headers: Record<string, string>; response_body: string | null }>(
    `select request_hash, status_code, response_headers, response_body from kernel.idempotency_keys
      where scope = $1 and method = $2 and route = $3 and key = $4
        and created_at >= clock_timestamp() - make_interval(hours => $5)`,
    [id.scope, id.method, id.route, id.key, IDEMPOTENCY_TTL_HOURS],
  );
  // Uncommitted rows are invisible to others, so a row without a status is this transaction's own.
  if (!row || row.status_code === null) return undefined;
  return { requestHash: row.request_hash, status: row.status_code, headers: row.response_headers, body: row.response_body };
}

/**
 * Inserts the key row; true when this request owns the key. An expired row is taken over in place.
 * A duplicate in flight holds the unique key, so this waits (up to lockWaitMs) for it to finish.
 */
async function claim(db: Db, id: KeyId, requestHash: string, lockWaitMs: number): Promise<boolean> {
  await db.query(`select set_config('lock_timeout', $1, true)`, [`${lockWaitMs}ms`]);
  try {
    const rows = await db.query(
      `insert into kernel.idempotency_keys as k (scope, method, route, key, request_hash)
       values ($1, $2, $3, $4, $5)
       on conflict (scope, method, route, key) do update
          set request_hash = excluded.request_hash, status_code = null, response_headers = '{}',
              response_body = null, created_at = clock_timestamp()
        where k.created_at < clock_timestamp() - make_interval(hours => $6)
       returning 1`,
      [id.scope, id.method, id.route, id.key, requestHash, IDEMPOTENCY_TTL_HOURS],
    );
    return rows.length === 1;
  } catch (err) {
    if (pgCode(err) === '55P03') throw Problems.idempotencyInProgress();
    throw err;
  } finally {
    // The command itself may wait on its own locks as long as the server allows.
    await db.query(`select set_config('lock_timeout', '0', true)`).catch(() => {});
  }
}

/** Runs the handler once inside a savepoint and turns its outcome into a storable answer. */
async function runOnce(db: Db, req: FastifyRequest, reply: FastifyReply, handler: Handler): Promise<StoredResponse> {
  const before = { ...reply.getHeaders() };
  await db.query('savepoint idempotent_command');
  let payload: unknown;
  try {
    payload = await captureSend(reply, () => handler(req, reply));
  } catch (err) {
    if (!(err instanceof DomainError) || err.status >= 500) throw err;
    await db.query('rollback to savepoint idempotent_command');
    for (const name of Object.keys(changedHeaders(before, reply))) reply.removeHeader(name);
    const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
    if (err.status === 429 && typeof err.extensions.retryAfterSeconds === 'number') headers['retry-after'] = String(err.extensions.retryAfterSeconds);
    return { status: err.status, headers, body: JSON.stringify(problemFrom(err, `urn:request:${req.id}`)) };
  }
  await db.query('release savepoint idempotent_command');
  const headers = changedHeaders(before, reply);
  const body = serializePayload(reply, payload);
  if (body !== null) headers['content-type'] ??= 'application/json; charset=utf-8';
  return { status: reply.statusCode, headers, body };
}

/** What the handler sent (by returning it or by `reply.send`), without sending it yet. */
async function captureSend(reply: FastifyReply, run: () => Promise<unknown>): Promise<unknown> {
  let sent: { payload: unknown } | undefined;
  const target = reply as Omit<FastifyReply, 'then' | 'send'> & { send: (payload?: unknown) => FastifyReply; then?: unknown };
  target.send = (payload?: unknown) => {
    sent = { payload };
    return reply;
  };
  // A Fastify reply is thenable (it settles when the response is written). A handler that does
  // `return reply.code(201).send(x)` would make its promise wait for a write we are holding back,
  // so the reply stops being thenable while the handler runs.
  target.then = undefined;
  try {
    const result = await run();
    return sent ? sent.payload : result === reply ? undefined : result;
  } finally {
    delete (target as { send?: unknown }).send;
    delete (target as { then?: unknown }).then;
  }
}

function serializePayload(reply: FastifyReply, payload: unknown): string | null {
  if (payload === undefined || payload === null) return null;
  if (Buffer.isBuffer(payload) || typeof (payload as { pipe?: unknown }).pipe === 'function') {
    throw new Error('idempotency: streams and buffers cannot be stored; return a JSON value');
  }
  // The route's response schema serializer, as a normal answer would be serialized.
  const serialized = typeof payload === 'string' ? payload : reply.serialize(payload);
  const body = typeof serialized === 'string' ? serialized : Buffer.from(serialized as ArrayBuffer).toString('utf8');
  if (Buffer.byteLength(body) > STORED_BODY_MAX_BYTES) throw new Error(`idempotency: answer over ${STORED_BODY_MAX_BYTES} bytes cannot be stored`);
  return body;
}

function changedHeaders(before: Record<string, unknown>, reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined || NOT_STORED.has(name) || before[name] === value) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function sendStored(reply: FastifyReply, stored: StoredResponse, replayed: boolean): FastifyReply {
  reply.code(stored.status);
  for (const [name, value] of Object.entries(stored.headers)) reply.header(name, value);
  if (replayed) reply.header(REPLAYED_HEADER, 'true');
  // A string with a JSON content type goes out as it is: the bytes of the first answer.
  return stored.body === null ? reply.send() : reply.send(stored.body);
}
