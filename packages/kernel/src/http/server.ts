/**
 * The HTTP front of every process: Fastify + TypeBox, OpenAPI 3.1 at /openapi.json and /docs,
 * problem+json errors, request ids, W3C traceparent, security headers, CORS, rate and body limits.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import ajvFormatsModule from 'ajv-formats';
import type { Config } from '../config.ts';
import { DomainError, Problems, problemTypeUri, type FieldError, type ProblemBody } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { requestContext } from './context.ts';
import { continueTrace, formatTraceparent } from './trace.ts';

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

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

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

export async function createHttpApp(options: HttpOptions): Promise<HttpApp> {
  const { config, log } = options;
  const app = Fastify({
    loggerInstance: log,
    disableRequestLogging: true,
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
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;

  // Every operation must be documented: an undocumented route is a programming error, caught at start.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { operationId?: string; hide?: boolean } | undefined;
    if (route.method === 'HEAD' || route.method === 'OPTIONS') return;
    if (!schema?.operationId && !schema?.hide && !route.url.startsWith('/docs')) {
      throw new Error(`Route ${route.method} ${route.url} has no schema.operationId`);
    }
  });

  app.addHook('onRequest', (req, reply, done) => {
    const trace = continueTrace(req.headers.traceparent as string | undefined);
    reply.header('x-request-id', req.id);
    reply.header('traceparent', formatTraceparent(trace));
    req.log = req.log.child({ traceId: trace.traceId });
    (req as FastifyRequest & { startedAt: bigint }).startedAt = process.hrtime.bigint();
    requestContext.run({ requestId: req.id, trace, ip: req.ip }, done);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const started = (req as FastifyRequest & { startedAt?: bigint }).startedAt;
    const ms = started ? Number(process.hrtime.bigint() - started) / 1e6 : undefined;
    req.log.info({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms, actor: requestContext.get()?.principal?.subject }, 'request');
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    const { problem, unexpected } = toDomainError(err, config.bodyLimitBytes);
    if (unexpected) req.log.error({ err }, 'unexpected error');
    else if (problem.status >= 500) req.log.warn({ code: problem.code }, problem.detail);
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, Problems.notFound(`route ${req.method} ${req.url.split('?')[0]}`)));

  await app.register(helmet, {
    // The API serves JSON; the interactive docs need their own inline assets.
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] } },
    hsts: config.env === 'production',
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
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
