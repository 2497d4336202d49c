/**
 * Service calls between processes. A module that runs elsewhere (`verity start --modules identity`)
 * is reached over HTTP: the callee exposes `POST /internal/v1/:module/:method` for its
 * `remoteMethods`, the caller gets a Proxy with the same interface. Calls carry a short-lived HS256
 * service token, the ambient traceparent, and arguments in the bigint-safe codec; DomainErrors come
 * back as problem+json and are re-thrown as the same DomainError.
 *
 * A command whose outcome is unknown (timeout, connection lost after sending) is never re-sent: the
 * caller gets `upstream-unavailable` and must find out, as with any partner (ARCHITECTURE §6).
 */
import { hkdfSync } from 'node:crypto';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, isBrokenCircuitError, retry } from 'cockatiel';
import { SignJWT, jwtVerify } from 'jose';
import { Type } from 'typebox';
import { decode, encode, stringify } from './codec.ts';
import type { Config } from './config.ts';
import { readOrCreateKeyFile } from './crypto/master-key.ts';
import { DomainError, Problems, type FieldError } from './errors.ts';
import { requestContext } from './http/context.ts';
import type { HttpApp } from './http/server.ts';
import type { ModuleDefinition, ModuleRuntime } from './module.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';

export const SERVICE_TOKEN_ISSUER = 'urn:verity:service';
const SERVICE_TOKEN_TTL_S = 60;
/** A cached token is replaced this long before it expires, so it never expires in flight. */
const SERVICE_TOKEN_RENEW_MS = 20_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
const RESPONSE_LIMIT_BYTES = 8 * 1_048_576;
const MAX_ARGS = 16;
/** Attempts for a call that never reached the other process (connection refused, DNS). */
const MAX_ATTEMPTS_NOT_SENT = 3;
const BREAKER_FAILURES = 5;
const BREAKER_HALF_OPEN_AFTER_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// The shared secret

/**
 * The HS256 secret of service tokens: SERVICE_TOKEN_SECRET, or derived from the local key file so
 * that processes sharing VERITY_DATA_DIR/VERITY_KEY_FILE agree without configuration. The key file
 * is the field-encryption master key (crypto/master-key.ts owns its format and creates it when
 * absent), so it is never used raw: HKDF with an `info` of its own.
 */
export async function serviceTokenSecret(config: Config, log: Logger = createLogger('silent')): Promise<string> {
  if (config.serviceTokenSecret) return config.serviceTokenSecret;
  const master = await readOrCreateKeyFile(config.keyFile, log);
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'verity/service-token/v1', 32)).toString('hex');
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

export async function signServiceToken(secret: string, callerModule: string, audience: string): Promise<string> {
  return new SignJWT({ token_use: 'service' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(SERVICE_TOKEN_ISSUER)
    .setSubject(`service:${callerModule}`)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${SERVICE_TOKEN_TTL_S}s`)
    .sign(keyOf(secret));
}

// ---------------------------------------------------------------------------------------------
// The callee: POST /internal/v1/:module/:method

const serviceTokenInvalid = () =>
  new DomainError('service-token-invalid', 401, 'Service credentials required', 'Internal calls need a valid service token for this module.');
const methodNotFound = (module: string, method: string) =>
  new DomainError('service-method-not-found', 404, 'Not found', `There is no remote method ${module}.${method} in this process.`);

async function verifyServiceToken(header: string | undefined, secret: string, module: string): Promise<{ subject: string; issuedAt: number }> {
  const token = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(header ?? '')?.[1];
  if (!token) throw serviceTokenInvalid();
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: ['HS256'],
      issuer: SERVICE_TOKEN_ISSUER,
      audience: module,
      requiredClaims: ['sub', 'exp', 'iat'],
      maxTokenAge: `${SERVICE_TOKEN_TTL_S * 2}s`,
      clockTolerance: 5,
    });
    if (payload.token_use !== 'service' || !payload.sub?.startsWith('service:')) throw serviceTokenInvalid();
    return { subject: payload.sub, issuedAt: payload.iat! };
  } catch {
    throw serviceTokenInvalid();
  }
}

export interface InternalRoutesOptions {
  modules: readonly ModuleDefinition<any>[];
  runtimes: Map<string, ModuleRuntime<unknown>>;
  secret: string;
  log: Logger;
  bodyLimitBytes?: number;
}

export function registerInternalRoutes(app: HttpApp, opts: InternalRoutesOptions): void {
  const byName = new Map(opts.modules.map((m) => [m.name, m]));
  app.post<{ Params: { module: string; method: string }; Body: { args: unknown[] } }>('/internal/v1/:module/:method', {
    schema: {
      hide: true,
      operationId: 'callInternalService',
      params: Type.Object({ module: Type.String({ maxLength: 64 }), method: Type.String({ maxLength: 128 }) }),
      body: Type.Object({ args: Type.Array(Type.Unknown(), { maxItems: MAX_ARGS }) }, { additionalProperties: false }),
    },
    bodyLimit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // Service traffic arrives from a handful of peers; the per-client limit for the public API would throttle it.
    config: { rateLimit: false },
    // Before the body is read: an unauthenticated caller costs us no parsing.
    onRequest: async (req) => {
      const { subject, issuedAt } = await verifyServiceToken(req.headers.authorization, opts.secret, req.params.module);
      const ctx = requestContext.get();
      if (ctx) ctx.principal = { subject, kind: 'service', roles: [], permissions: new Set(), amr: ['svc'], authTime: issuedAt, issuer: SERVICE_TOKEN_ISSUER };
    },
  }, async (req, reply) => {
    const { module, method } = req.params;
    const service = opts.runtimes.get(module)?.service as Record<string, unknown> | undefined;
    const fn = service?.[method];
    if (!byName.get(module)?.remoteMethods.includes(method) || typeof fn !== 'function') throw methodNotFound(module, method);
    let args: unknown[];
    try {
      args = decode(req.body.args) as unknown[];
    } catch (err) {
      throw Problems.malformed((err as Error).message);
    }
    const result = encode(await fn.apply(service, args));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(result === undefined ? {} : { result }));
  });
}

// ---------------------------------------------------------------------------------------------
// The caller: a Proxy with the service's interface

export interface RemoteServiceOptions {
  baseUrl: string;
  secret: string;
  callerModule: string;
  /** Deadline of one call, retries included. */
  timeoutMs?: number;
  log?: Logger;
}

/** A failure of the transport, not of the service. `sent` = the request may have reached it. */
class TransportError extends Error {
  override name = 'TransportError';
  readonly sent: boolean;
  constructor(message: string, sent: boolean) {
    super(message);
    this.sent = sent;
  }
}

/** Errors that prove the request never left this process: safe to retry, even for commands. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function classifyFetchError(err: unknown): TransportError {
  const e = err as Error & { cause?: { code?: string; errors?: { code?: string }[] } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new TransportError('timed out', true);
  const code = e?.cause?.code ?? e?.cause?.errors?.[0]?.code;
  if (code && NOT_SENT_CODES.has(code)) return new TransportError(`connection failed (${code})`, false);
  return new TransportError(`connection lost (${code ?? e?.message ?? 'unknown'})`, true);
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw new TransportError(`response larger than ${maxBytes} bytes`, true);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new TransportError(`response larger than ${maxBytes} bytes`, true);
      chunks.push(chunk);
    }
  } catch (err) {
    throw err instanceof TransportError ? err : classifyFetchError(err);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'errors']);

/** problem+json from the callee → the DomainError it was thrown as; undefined if it is not one of ours. */
function domainErrorFrom(res: Response, text: string): DomainError | undefined {
  if (!(res.headers.get('content-type') ?? '').includes('application/problem+json')) return undefined;
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof p.code !== 'string' || typeof p.title !== 'string') return undefined;
  const extensions = Object.fromEntries(Object.entries(p).filter(([k]) => !RESERVED.has(k)));
  const errors = Array.isArray(p.errors) ? (p.errors as FieldError[]) : undefined;
  return new DomainError(p.code, res.status, p.title, typeof p.detail === 'string' ? p.detail : undefined, extensions, errors);
}

export function upstreamUnavailable(module: string, detail: string, outcome: 'not-executed' | 'unknown'): DomainError {
  return new DomainError('upstream-unavailable', 503, 'Upstream service unavailable', detail, { upstream: module, outcome });
}

interface Target {
  module: string;
  opts: RemoteServiceOptions;
  bearer(): Promise<string>;
}

/** One attempt: a DomainError when the service answered with one, a TransportError when the wire failed. */
async function send(target: Target, method: string, body: string, signal: AbortSignal): Promise<unknown> {
  const { module, opts } = target;
  // A retry whose deadline already passed was never sent: say so, rather than "outcome unknown".
  if (signal.aborted) throw new TransportError('timed out before sending', false);
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${await target.bearer()}` };
  const traceparent = requestContext.traceparent();
  const requestId = requestContext.get()?.requestId;
  if (traceparent) headers.traceparent = traceparent;
  if (requestId) headers['x-request-id'] = requestId;
  let res: Response;
  try {
    res = await fetch(`${opts.baseUrl}/internal/v1/${module}/${method}`, { method: 'POST', headers, body, signal, redirect: 'error' });
  } catch (err) {
    throw classifyFetchError(err);
  }
  const text = await readCapped(res, RESPONSE_LIMIT_BYTES);
  if (res.ok) {
    try {
      return decode((JSON.parse(text) as { result?: unknown }).result);
    } catch {
      throw new TransportError('unreadable response', true);
    }
  }
  const problem = domainErrorFrom(res, text);
  if (problem?.code === 'service-token-invalid' || problem?.code === 'service-method-not-found') {
    opts.log?.error({ upstream: module, method, code: problem.code }, 'service call refused: check SERVICE_TOKEN_SECRET and versions');
    throw upstreamUnavailable(module, `The ${module} service refused this process's call (${problem.code}).`, 'not-executed');
  }
  if (problem) throw problem;
  // A bare 503 is Fastify refusing work while it closes: the request was not handled.
  throw new TransportError(`HTTP ${res.status} without a problem body`, res.status !== 503);
}

/** The resilience around `send`: one deadline, retries only when nothing was sent, a breaker per target. */
function remoteCaller(module: string, opts: RemoteServiceOptions): (method: string, args: unknown[]) => Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let token: { value: string; renewAtMs: number } | undefined;
  const target: Target = {
    module,
    opts,
    async bearer() {
      if (!token || Date.now() >= token.renewAtMs) {
        const value = await signServiceToken(opts.secret, opts.callerModule, module);
        token = { value, renewAtMs: Date.now() + SERVICE_TOKEN_TTL_S * 1000 - SERVICE_TOKEN_RENEW_MS };
      }
      return token.value;
    },
  };
  const notSent = retry(handleWhen((e) => e instanceof TransportError && !e.sent), {
    maxAttempts: MAX_ATTEMPTS_NOT_SENT - 1,
    backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
  });
  // When the target is down, callers fail in microseconds instead of each waiting on it.
  const breaker = circuitBreaker(handleWhen((e) => e instanceof TransportError || (e instanceof DomainError && [502, 503, 504].includes(e.status))), {
    halfOpenAfter: BREAKER_HALF_OPEN_AFTER_MS,
    breaker: new ConsecutiveBreaker(BREAKER_FAILURES),
  });
  breaker.onBreak(() => opts.log?.warn({ upstream: module }, 'circuit opened: calls paused'));
  breaker.onReset(() => opts.log?.info({ upstream: module }, 'circuit closed'));

  return async (method, args) => {
    if (args.length > MAX_ARGS) throw new TypeError(`${module}.${method}: at most ${MAX_ARGS} arguments cross processes`);
    const body = stringify({ args });
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await breaker.execute(() => notSent.execute(() => send(target, method, body, signal)));
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (isBrokenCircuitError(err)) {
        throw upstreamUnavailable(module, `Calls to the ${module} service are paused after repeated failures; retry in a few seconds.`, 'not-executed');
      }
      if (!(err instanceof TransportError)) throw err;
      opts.log?.warn({ upstream: module, method, reason: err.message, sent: err.sent }, 'service call failed');
      throw err.sent
        ? upstreamUnavailable(module, `${module}.${method} did not complete (${err.message}); its outcome is unknown.`, 'unknown')
        : upstreamUnavailable(module, `The ${module} service could not be reached (${err.message}); the call was not made.`, 'not-executed');
    }
  };
}

/** The service interface of a module in another process: each method in `remoteMethods` is an HTTP call. */
export function createRemoteService<S = unknown>(def: ModuleDefinition<any>, opts: RemoteServiceOptions): S {
  const module = def.name;
  const methods = new Set(def.remoteMethods);
  const call = remoteCaller(module, opts);
  const bound = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(Object.freeze({}), {
    get(_target, prop) {
      // Not a method: keeps `await service`, JSON.stringify and util.inspect from making calls.
      if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON' || prop === 'constructor') return undefined;
      let fn = bound.get(prop);
      if (!fn) {
        fn = methods.has(prop)
          ? (...args: unknown[]) => call(prop, args)
          : () => Promise.reject(new TypeError(`${module}.${prop} is not in ${module}'s remoteMethods; it cannot be called from another process`));
        bound.set(prop, fn);
      }
      return fn;
    },
  }) as S;
}
