/**
 * RFC 8785 JSON Canonicalization Scheme: no whitespace, object members sorted by the UTF-16 code
 * units of their names, strings and numbers serialized as ECMAScript JSON.stringify does (RFC 8785
 * §3.2.2 adopts exactly that). Only I-JSON values: finite numbers, well-formed strings. Members
 * whose value is undefined are left out (an absent optional field), as JSON.stringify does.
 */
import { utf8 } from './bytes.ts';

const MAX_DEPTH = 32;

function serialize(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new TypeError(`JCS: nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`JCS: ${value} is not an I-JSON number`);
      return JSON.stringify(value);
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('JCS: string with a lone surrogate');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`JCS: ${typeof value} is not JSON`);
  }
  if (Array.isArray(value)) return `[${value.map((v) => serialize(v, depth + 1)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  const members = keys.map((k) => `${serialize(k, depth + 1)}:${serialize(obj[k], depth + 1)}`);
  return `{${members.join(',')}}`;
}

export function canonicalJson(value: unknown): string {
  return serialize(value, 0);
}

export function canonicalJsonBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}
