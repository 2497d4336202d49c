/**
 * The request context every layer can read without threading it through calls: trace id for logs,
 * events and audit records; the principal for audit actors.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../auth/types.ts';
import type { TraceContext } from './trace.ts';

export interface RequestContext {
  requestId: string;
  trace: TraceContext;
  principal?: Principal;
  ip?: string;
}

const als = new AsyncLocalStorage<RequestContext>();

export const requestContext = {
  run<T>(ctx: RequestContext, fn: () => T): T {
    return als.run(ctx, fn);
  },
  enterWith(ctx: RequestContext): void {
    als.enterWith(ctx);
  },
  get(): RequestContext | undefined {
    return als.getStore();
  },
  traceId(): string | undefined {
    return als.getStore()?.trace.traceId;
  },
  traceparent(): string | undefined {
    const t = als.getStore()?.trace;
    return t ? `00-${t.traceId}-${t.spanId}-${t.sampled ? '01' : '00'}` : undefined;
  },
};
