/** W3C Trace Context (`traceparent`): continue the caller's trace or start one. */
import { randomFillSync } from 'node:crypto';

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

/** Random ids come from a pool refilled in blocks: one crypto call per few hundred requests, not two per request. */
const ID_POOL_BYTES = 4096;
const idPool = Buffer.alloc(ID_POOL_BYTES);
let idPoolAt = ID_POOL_BYTES;

function randomHex(bytes: number): string {
  if (idPoolAt + bytes > ID_POOL_BYTES) {
    randomFillSync(idPool);
    idPoolAt = 0;
  }
  const hex = idPool.toString('hex', idPoolAt, idPoolAt + bytes);
  idPoolAt += bytes;
  return hex;
}

export function continueTrace(header: string | undefined): TraceContext {
  const parent = parseTraceparent(header);
  return {
    traceId: parent?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    parentSpanId: parent?.parentSpanId,
    sampled: parent?.sampled ?? true,
  };
}

export const formatTraceparent = (t: Pick<TraceContext, 'traceId' | 'spanId' | 'sampled'>) =>
  `00-${t.traceId}-${t.spanId}-${t.sampled ? '01' : '00'}`;
