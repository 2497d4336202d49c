/**
 * OpenTelemetry traces: one SERVER span per HTTP request, continuing the caller's `traceparent`.
 * The span's own ids are the request's trace context, so the `traceparent` response header, the
 * `traceId` of every log line, events and audit records all name the span that was exported.
 * Spans leave by OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; without it no span is made
 * at all (nothing would read it), but the trace context is still continued and propagated.
 * The provider is not registered globally: several platforms may share one process (tests).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace as otel, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { continueTrace, parseTraceparent, type TraceContext } from '../http/trace.ts';

export interface RequestSpan {
  readonly trace: TraceContext;
  /** Idempotent: the first call ends the span. */
  end(outcome: { route?: string; statusCode?: number; aborted?: boolean }): void;
}

export interface Tracing {
  startRequest(method: string, route: string | undefined, traceparent: string | undefined): RequestSpan;
  /** Flushes spans not yet exported. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  otlpEndpoint?: string;
  serviceName?: string;
  environment?: string;
  /** How often batched spans are exported. */
  exportIntervalMs?: number;
}

const EXPORT_TIMEOUT_MS = 3000;

const noSpan = (trace: TraceContext): RequestSpan => ({ trace, end: () => undefined });

/** No exporter: the same ids and sampling decision as a span would have, without the span. */
const contextOnly: Tracing = {
  startRequest: (_method, _route, traceparent) => noSpan(continueTrace(traceparent)),
  shutdown: async () => undefined,
};

export function createTracing(options: TracingOptions): Tracing {
  if (!options.otlpEndpoint) return contextOnly;
  const spanProcessors = [
    new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint}/v1/traces`, timeoutMillis: EXPORT_TIMEOUT_MS }), {
      scheduledDelayMillis: options.exportIntervalMs ?? 1000,
      exportTimeoutMillis: EXPORT_TIMEOUT_MS,
    }),
  ];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? 'verity',
      ...(options.environment ? { 'deployment.environment.name': options.environment } : {}),
    }),
    spanProcessors,
  });
  const tracer = provider.getTracer('verity-http');

  return {
    startRequest(method, route, traceparent) {
      const parent = parseTraceparent(traceparent);
      const parentContext = parent
        ? otel.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.parentSpanId,
            traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          })
        : ROOT_CONTEXT;
      const span: Span = tracer.startSpan(
        `${method} ${route ?? 'unmatched'}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, ...(route ? { 'http.route': route } : {}) } },
        parentContext,
      );
      const ids = span.spanContext();
      let ended = false;
      return {
        trace: { traceId: ids.traceId, spanId: ids.spanId, parentSpanId: parent?.parentSpanId, sampled: (ids.traceFlags & TraceFlags.SAMPLED) !== 0 },
        end({ route: finalRoute, statusCode, aborted }) {
          if (ended) return;
          ended = true;
          if (finalRoute && finalRoute !== route) {
            span.setAttribute('http.route', finalRoute);
            span.updateName(`${method} ${finalRoute}`);
          }
          if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
          if (aborted) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
          else if (statusCode !== undefined && statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}
