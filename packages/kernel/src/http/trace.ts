/** W3C Trace Context (`traceparent`): continue the caller's trace or start one. */
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  traceId: string;
  /** Our span id for this request. */
  spanId: string;
  parentSpanId?: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(header: string | undefined): { traceId: string; parentSpanId: string; sampled: boolean } | undefined {
  if (!header) return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const [, traceId, parentSpanId, flags] = m;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentSpanId!)) return undefined;
  return { traceId: traceId!, parentSpanId: parentSpanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

export function continueTrace(header: string | undefined): TraceContext {
  const parent = parseTraceparent(header);
  return {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: parent?.parentSpanId,
    sampled: parent?.sampled ?? true,
  };
}

export const formatTraceparent = (t: Pick<TraceContext, 'traceId' | 'spanId' | 'sampled'>) =>
  `00-${t.traceId}-${t.spanId}-${t.sampled ? '01' : '00'}`;
