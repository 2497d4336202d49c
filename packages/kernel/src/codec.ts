/**
 * The wire codec of service calls between processes. Plain JSON loses what our services traffic in
 * (money is bigint, timestamps are Date), so those travel as tagged objects:
 * bigint ↔ {"$bigint":"-12"}, Date ↔ {"$date":"2025-01-01T00:00:00.000Z"}, bytes ↔ {"$bytes":"<base64>"},
 * undefined inside arrays (an omitted optional argument) ↔ {"$undefined":true}.
 * An object that only looks like a tag is wrapped in {"$literal": …}, so no value is ever misread.
 */

const TAGS = new Set(['$bigint', '$date', '$bytes', '$undefined', '$literal']);
/** Deeper than any DTO we send; a guard against cycles and hostile input. */
const MAX_DEPTH = 64;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function looksLikeTag(obj: Record<string, unknown>): boolean {
  const keys = Object.keys(obj);
  return keys.length === 1 && TAGS.has(keys[0]!);
}

function encodeValue(value: unknown, depth: number, inArray: boolean): Json | undefined {
  if (depth > MAX_DEPTH) throw new TypeError(`codec: value nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
  switch (typeof value) {
    case 'bigint':
      return { $bigint: value.toString() };
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`codec: ${value} is not representable in JSON`);
      return value;
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return inArray ? { $undefined: true } : undefined;
    case 'function':
    case 'symbol':
      throw new TypeError(`codec: a ${typeof value} cannot cross a process boundary`);
  }
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('codec: invalid Date');
    return { $date: value.toISOString() };
  }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map((v) => encodeValue(v, depth + 1, true) as Json);
  if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value)) {
    throw new TypeError(`codec: ${value.constructor.name} is not supported; send a plain object or array`);
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const encoded = encodeValue(v, depth + 1, false);
    if (encoded !== undefined) out[k] = encoded;
  }
  return looksLikeTag(out) ? { $literal: out } : out;
}

function decodeTag(obj: Record<string, unknown>, depth: number): unknown {
  const [tag, raw] = Object.entries(obj)[0]!;
  switch (tag) {
    case '$bigint':
      if (typeof raw !== 'string' || !/^-?\d{1,4000}$/.test(raw)) throw new TypeError('codec: malformed $bigint');
      return BigInt(raw);
    case '$date': {
      const date = typeof raw === 'string' ? new Date(raw) : new Date(Number.NaN);
      if (Number.isNaN(date.getTime())) throw new TypeError('codec: malformed $date');
      return date;
    }
    case '$bytes':
      if (typeof raw !== 'string') throw new TypeError('codec: malformed $bytes');
      return new Uint8Array(Buffer.from(raw, 'base64'));
    case '$undefined':
      return undefined;
    default: {
      // $literal: the payload is a plain object whose own members still need decoding.
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('codec: malformed $literal');
      return decodeObject(raw as Record<string, unknown>, depth);
    }
  }
}

function decodeValue(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new TypeError(`codec: value nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => decodeValue(v, depth + 1));
  const obj = value as Record<string, unknown>;
  return looksLikeTag(obj) ? decodeTag(obj, depth) : decodeObject(obj, depth);
}

function decodeObject(obj: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    // Assigning `__proto__` would swap the object's prototype; no DTO of ours has such a field.
    if (k !== '__proto__') out[k] = decodeValue(v, depth + 1);
  }
  return out;
}

/** Value → JSON-safe tree. Throws a TypeError for what cannot travel (functions, Map, cycles, NaN). */
export function encode(value: unknown): Json | undefined {
  return encodeValue(value, 0, false);
}

/** JSON-parsed tree → value. Throws a TypeError on a malformed tag. */
export function decode(value: unknown): unknown {
  return decodeValue(value, 0);
}

export const stringify = (value: unknown): string => JSON.stringify(encode(value) ?? null);
export const parse = (text: string): unknown => decode(JSON.parse(text));
