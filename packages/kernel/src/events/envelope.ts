/**
 * Names, limits and the JSON form of events and jobs. Events travel as plain JSON (the shape
 * EventBridge carries), so a bigint becomes its decimal string, as money does on the HTTP API.
 */
import type { CloudEvent } from './types.ts';

/** EventBridge refuses entries over 256 KiB; an event that fits here fits there. */
export const EVENT_DATA_MAX_BYTES = 256 * 1024;
export const JOB_DATA_MAX_BYTES = 256 * 1024;
export const SUBJECT_MAX_CHARS = 256;

/** Subscriber and job names: they become part of queue names. */
export const HANDLER_NAME = /^[a-z][a-z0-9_-]{0,47}$/;
/** `<module>.<event-name>.v<N>`, the event name may have dotted parts. */
export const EVENT_TYPE = /^[a-z][a-z0-9_]{1,30}\.[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.v[1-9][0-9]{0,3}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MODULE_NAME = /^[a-z][a-z0-9_]{1,30}$/;

export const subscriberQueue = (module: string, name: string) => `${module}.${name}`;
export const jobQueue = (module: string, name: string) => `${module}.job.${name}`;
export const deadLetterQueue = (queue: string) => `${queue}.dlq`;

export const isUuid = (value: string) => UUID.test(value);

/** JSON text of `value` with bigints as decimal strings; throws when over `maxBytes`. */
export function encodeJson(value: unknown, maxBytes: number, what: string): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (text === undefined) throw new TypeError(`${what} must be JSON data`);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new RangeError(`${what} is ${bytes} bytes; the limit is ${maxBytes}`);
  return text;
}

export interface OutboxRow {
  position: bigint;
  id: string;
  type: string;
  subject: string | null;
  data: unknown;
  traceparent: string | null;
  created_at: Date;
}

export function toCloudEvent(module: string, row: OutboxRow): CloudEvent {
  const event: CloudEvent = {
    specversion: '1.0',
    id: row.id,
    source: `/verity/${module}`,
    type: row.type,
    time: row.created_at.toISOString(),
    datacontenttype: 'application/json',
    data: row.data,
  };
  if (row.subject !== null) event.subject = row.subject;
  if (row.traceparent !== null) event.traceparent = row.traceparent;
  return event;
}

/** What a job carries besides the module's data: the trace it was enqueued in. */
export interface JobPayload {
  data: Record<string, unknown>;
  traceparent?: string;
}

export function assertBetween(value: number | undefined, min: number, max: number, what: string): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${value}`);
}
