/**
 * Canonical JSON for hashing: object keys sorted by UTF-16 code units (as RFC 8785 does), no
 * whitespace, bigint as a decimal string, Date as its ISO string, undefined members dropped.
 * Two equal values always give the same bytes, whatever order their keys were written in.
 */

/** Guards against cycles and hostile nesting; deeper than any record we hash. */
const MAX_DEPTH = 64;

function canonical(value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) throw new TypeError(`canonical JSON: nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not representable`);
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value as object).sort()) {
    const encoded = canonical((value as Record<string, unknown>)[key], depth + 1);
    if (encoded !== undefined) members.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${members.join(',')}}`;
}

export function canonicalJson(value: unknown): string {
  return canonical(value, 0) ?? 'null';
}
