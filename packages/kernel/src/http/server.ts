/**
 * The HTTP front of every process: Fastify + TypeBox, OpenAPI 3.1 at /openapi.json and /docs,
 * problem+json errors, request ids, W3C traceparent, security headers, CORS, rate and body limits.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import ajvFormatsModule from 'ajv-formats';
import type { Config } from '../config.ts';
import { DomainError, Problems, problemTypeUri, type FieldError, type ProblemBody } from '../errors.ts';
import { traceLogger, type Logger } from '../telemetry/logger.ts';
import { createMetrics, type PlatformMetrics } from '../telemetry/metrics.ts';
import { createTracing, type RequestSpan, type Tracing } from '../telemetry/tracing.ts';
import { requestContext } from './context.ts';
import { formatTraceparent } from './trace.ts';

export type HttpApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

const ajvFormats = ((ajvFormatsModule as unknown as { default?: unknown }).default ?? ajvFormatsModule) as never;

export interface HttpOptions {
  config: Config;
  log: Logger;
  title?: string;
  version?: string;
  /** Optional Redis client for shared rate-limit counters. */
  redis?: unknown;
}

function newAjv(coerceTypes: false | 'array'): Ajv {
  const ajv = new Ajv({ removeAdditional: false, allErrors: true, coerceTypes, useDefaults: true, strict: false, addUsedSchema: false });
  (ajvFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The metrics registry and tracer of one HTTP app (one platform instance). */
export interface HttpTelemetry {
  metrics: PlatformMetrics;
  tracing: Tracing;
}
const telemetryByApp = new WeakMap<object, HttpTelemetry>();
const spans = new WeakMap<FastifyRequest, { span: RequestSpan; startedAt: bigint }>();

export function httpTelemetry(app: HttpApp): HttpTelemetry {
  const t = telemetryByApp.get(app);
  if (!t) throw new Error('not an app made by createHttpApp');
  return t;
}

export function problemFrom(err: DomainError, instance: string): ProblemBody {
  const body: ProblemBody = {
    type: problemTypeUri(err.code),
    title: err.title,
    status: err.status,
    detail: err.detail,
    instance,
    code: err.code,
    ...err.extensions,
  };
  if (err.errors?.length) body.errors = err.errors;
  return body;
}

export function sendProblem(reply: FastifyReply, err: DomainError): FastifyReply {
  if (err.status === 429 && typeof err.extensions.retryAfterSeconds === 'number') {
    reply.header('retry-after', String(err.extensions.retryAfterSeconds));
  }
  return reply
    .code(err.status)
    .type('application/problem+json')
    .serializer((p: unknown) => JSON.stringify(p))
    .send(problemFrom(err, `urn:request:${reply.request.id}`));
}

/** Ajv errors → RFC 9457 `errors` with JSON Pointers into the request. */
function fieldErrors(err: FastifyError): FieldError[] {
  const context = (err as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  return (err.validation ?? []).slice(0, 50).map((v) => {
    let pointer = `/${context}${v.instancePath ?? ''}`;
    let detail = v.message ?? 'is invalid';
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'additionalProperties' && params.additionalProperty) {
      pointer += `/${String(params.additionalProperty)}`;
      detail = 'is not a known field';
    } else if (v.keyword === 'required' && params.missingProperty) {
      pointer += `/${String(params.missingProperty)}`;
      detail = 'is required';
    }
    return { pointer, detail };
  });
}

/** Maps anything thrown during a request to a DomainError; unknown errors become a 500. */
export function toDomainError(err: unknown, bodyLimit: number): { problem: DomainError; unexpected: boolean } {
  if (err instanceof DomainError) return { problem: err, unexpected: false };
  const e = err as FastifyError;
  if (e?.validation) return { problem: Problems.validation(fieldErrors(e)), unexpected: false };
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { problem: Problems.payloadTooLarge(bodyLimit), unexpected: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { problem: Problems.unsupportedMediaType(), unexpected: false };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { problem: Problems.malformed('The body is empty; send a JSON object.'), unexpected: false };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { problem: Problems.malformed('The body is not valid JSON.'), unexpected: false };
  }
  if (e instanceof SyntaxError || e?.statusCode === 400) {
    return { problem: Problems.malformed(e?.message?.slice(0, 200) ?? 'Bad request'), unexpected: false };
  }
  if (e?.statusCode === 413) return { problem: Problems.payloadTooLarge(bodyLimit), unexpected: false };
  if (e?.statusCode === 415) return { problem: Problems.unsupportedMediaType(), unexpected: false };
  if (e?.statusCode === 429) return { problem: Problems.rateLimited(60), unexpected: false };
  if (e?.statusCode === 503 || e?.code === 'FST_ERR_REP_ALREADY_SENT') return { problem: Problems.unavailable('Try again shortly.'), unexpected: false };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { problem: new DomainError('bad-request', e.statusCode, 'Bad request', e.message?.slice(0, 200)), unexpected: false };
  }
  return { problem: Problems.internal(), unexpected: true };
}

/** Bounds the walk below; a validated body is far smaller than this many values. */
const SCAN_VALUES_MAX = 200_000;

/**
 * Values that pass JSON Schema but that no handler can use, refused after validation and before any
 * guard or handler sees them: non-finite numbers (query coercion turns "1e999" into Infinity and
 * skips minimum/maximum) and strings with U+0000 (PostgreSQL text cannot store it).
 */
function unstorableAt(parts: Readonly<Record<string, unknown>>): { pointer: string; detail: string } | undefined {
  const state = { budget: SCAN_VALUES_MAX, detail: '' };
  for (const part in parts) {
    const found = unstorableIn(parts[part], `/${part}`, 1, state);
    if (found) return { pointer: found, detail: state.detail };
  }
  return undefined;
}

function unstorableIn(v: unknown, at: string, depth: number, state: { budget: number; detail: string }): string | undefined {
  if (typeof v === 'number') {
    state.detail = 'must be a finite number';
    return Number.isFinite(v) ? undefined : at;
  }
  // PostgreSQL text cannot hold U+0000: refuse it here rather than fail in the database.
  if (typeof v === 'string') {
    state.detail = 'must not contain the NUL character';
    return v.includes('\u0000') ? at : undefined;
  }
  if (v === null || typeof v !== 'object' || depth > 32 || --state.budget < 0) return undefined;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    const found = unstorableIn((v as Record<string, unknown>)[k], `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1, state);
    if (found) return found;
  }
  return undefined;
}

/** Nothing to scan: no body, and no query string or path parameters (the common GET). */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== 'object') return false;
  for (const k in v) if (Object.hasOwn(v, k)) return false;
  return true;
}

/** Errors the router raises before any hook runs (too long a parameter, a broken URL): still problem+json. */
function routerProblem(err: FastifyError, bodyLimit: number): DomainError {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return new DomainError('uri-too-long', 414, 'URI too long', 'A path parameter is longer than 200 characters.');
  if (err.code === 'FST_ERR_BAD_URL') return Problems.malformed('The URL is not validly percent-encoded.');
  return toDomainError(err, bodyLimit).problem;
}

/**
 * Per request: an OpenTelemetry span continuing the caller's traceparent (its ids are the request's
 * trace context), the request context, a latency observation by route template, one log line.
 */
function instrument(app: HttpApp, config: Config): void {
  const telemetry: HttpTelemetry = {
    metrics: createMetrics(),
    tracing: createTracing({ otlpEndpoint: config.otlpEndpoint, environment: config.env }),
  };
  telemetryByApp.set(app, telemetry);
  app.addHook('onClose', () => telemetry.tracing.shutdown());

  // The trace starts where Fastify makes the request's logger, so that one child logger carries both
  // the request id and the trace id (rather than a second child made in onRequest).
  const started = new WeakMap<object, RequestSpan>();
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    const span = telemetry.tracing.startRequest(raw.method ?? 'GET', undefined, raw.headers.traceparent as string | undefined);
    started.set(raw, span);
    return traceLogger(logger, span.trace.traceId, bindings, options);
  });

  app.addHook('onRequest', (req, reply, done) => {
    let span = started.get(req.raw);
    if (span) started.delete(req.raw);
    else {
      span = telemetry.tracing.startRequest(req.method, req.routeOptions.url, req.headers.traceparent as string | undefined);
      req.log = traceLogger(req.log, span.trace.traceId);
    }
    const { trace } = span;
    spans.set(req, { span, startedAt: process.hrtime.bigint() });
    reply.header('x-request-id', req.id);
    reply.header('traceparent', formatTraceparent(trace));
    requestContext.run({ requestId: req.id, trace, ip: req.ip }, done);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const timing = spans.get(req);
    const seconds = timing ? Number(process.hrtime.bigint() - timing.startedAt) / 1e9 : 0;
    // A path that matched no route is one series, whatever was asked for.
    const route = req.routeOptions.url ?? 'unmatched';
    telemetry.metrics.observeRequest(req.method, route, reply.statusCode, seconds);
    timing?.span.end({ route, statusCode: reply.statusCode });
    // The trace id and the actor come from the request context (logger mixin).
    req.log.info({ method: req.method, route, status: reply.statusCode, ms: Math.round(seconds * 1e6) / 1e3 }, 'request');
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    spans.get(req)?.span.end({ route: req.routeOptions.url, aborted: true });
    done();
  });
}

/** Headers of a plain response that are Fastify's or HTTP's own, not helmet's. */
const NOT_SECURITY_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * Helmet's headers, made once. With fixed options and no CSP nonces they are the same for every
 * response, but @fastify/helmet builds the whole helmet middleware chain again on each request; so
 * they are taken from one response of a throwaway app and then set as they are.
 */
async function securityHeaders(options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  try {
    await probe.register(helmet, options);
    probe.get('/', async () => '');
    const res = await probe.inject({ method: 'GET', url: '/' });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (!NOT_SECURITY_HEADERS.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    return headers;
  } finally {
    await probe.close();
  }
}

export async function createHttpApp(options: HttpOptions): Promise<HttpApp> {
  const { config, log } = options;
  const app = Fastify({
    loggerInstance: log,
    // Our onResponse hook writes the one line per request, with the route template and trace id.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    return503OnClosing: true,
    trustProxy: config.env === 'production',
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: {
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true },
      plugins: [ajvFormats],
    },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: (err, req, reply) => sendProblem(reply.header('x-request-id', req.id), routerProblem(err, config.bodyLimitBytes)),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;

  // Bodies are JSON and must arrive with the right types ({"name": 123} is a 400, not "123");
  // path, query and headers are text, so they are coerced to the declared types.
  const bodyAjv = newAjv(false);
  const textAjv = newAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema) as never);

  instrument(app, config);
  // After validation, before guards and handlers: see unstorableAt.
  app.addHook('preHandler', (req, _reply, done) => {
    if (isEmpty(req.body) && isEmpty(req.query) && isEmpty(req.params)) return done();
    const bad = unstorableAt({ querystring: req.query, params: req.params, body: req.body });
    done(bad ? Problems.validation([bad]) : undefined);
  });

  // Every operation must be documented: an undocumented route is a programming error, caught at start.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { operationId?: string; hide?: boolean } | undefined;
    if (route.method === 'HEAD' || route.method === 'OPTIONS') return;
    if (!schema?.operationId && !schema?.hide && !route.url.startsWith('/docs')) {
      throw new Error(`Route ${route.method} ${route.url} has no schema.operationId`);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { problem, unexpected } = toDomainError(err, config.bodyLimitBytes);
    if (unexpected) req.log.error({ err }, 'unexpected error');
    else if (problem.status >= 500) req.log.warn({ code: problem.code }, problem.detail);
    return sendProblem(reply, problem);
  });
  // Only JSON is accepted: without this, text/plain would reach validation as a string.
  app.removeContentTypeParser(['text/plain']);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, Problems.notFound(`route ${req.method} ${req.url.split('?')[0]}`)));

  const security = await securityHeaders({
    // The API serves JSON; the interactive docs need their own inline assets.
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] } },
    hsts: config.env === 'production',
  });
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(security);
    done();
  });
  await app.register(cors, { origin: config.corsOrigins.length ? config.corsOrigins : false, credentials: false, exposedHeaders: ['x-request-id', 'traceparent', 'idempotent-replayed', 'retry-after'] });
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    ...(options.redis ? { redis: options.redis as never, nameSpace: 'verity-rl:' } : {}),
    errorResponseBuilder: (_req, ctx) => Problems.rateLimited(Math.ceil(ctx.ttl / 1000)),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.title ?? 'Verity API',
        version: options.version ?? '1.0.0',
        description: 'The API of the Verity prize-draw platform. Errors are RFC 9457 problem+json; commands that move money or tickets take an Idempotency-Key.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Swagger UI sets inline styles at run time; scripts stay 'self' only.
    transformStaticCSP: (header) => header.replace(/style-src ([^;]*)/, "style-src $1 'unsafe-inline'"),
    uiConfig: { deepLinking: true },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
