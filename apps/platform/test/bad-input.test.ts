/**
 * Walks every operation of the OpenAPI document of the whole platform and sends it bad input:
 * malformed JSON, an empty body, bodies that are not objects, unknown fields, a wrong type and an
 * oversized value for each field, huge arrays, and broken path and query parameters; without and
 * with a valid admin bearer token. Every answer must be a 4xx problem+json: never a 5xx, never a
 * success. It reads the document at run time, so each new module's operations are covered too.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@verity/kernel/testing';
import { adminToken } from '@verity/identity/testing';
import { allModules } from '../src/modules.ts';

type Schema = {
  type?: string | string[];
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  additionalProperties?: boolean | Schema;
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  method: string;
  path: string;
  operationId: string;
  parameters: Parameter[];
  body?: Schema;
}

interface Probe {
  what: string;
  path: string;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** Values a lenient parser could coerce into a valid one are avoided: these cannot become the target type. */
const NOT_COERCIBLE: Record<string, unknown> = {
  string: { not: 'a string' },
  integer: 'not-a-number',
  number: 'not-a-number',
  boolean: { not: 'a boolean' },
  object: 'not-an-object',
  array: { not: 'an array' },
};
const HUGE_ARRAY_ITEMS = 100_000;
/** Longer than any field of ours may be, far below the body limit. */
const UNBOUNDED_STRING_CHARS = 100_000;
const NESTING_MAX = 3;

let components: Record<string, Schema> = {};

function resolve(schema: Schema | undefined): Schema {
  if (!schema) return {};
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()!;
    return resolve(components[name]);
  }
  if (schema.allOf?.length === 1) return resolve(schema.allOf[0]);
  return schema;
}

const typeOf = (schema: Schema): string | undefined => {
  const s = resolve(schema);
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null');
  if (s.type) return s.type;
  if (s.properties) return 'object';
  const branch = s.anyOf?.[0] ?? s.oneOf?.[0];
  return branch ? typeOf(branch) : undefined;
};

/** A plausible valid value, so that each probe breaks exactly one thing. */
function sample(schema: Schema, depth = 0): unknown {
  const s = resolve(schema);
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth < NESTING_MAX) for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(v, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items ?? {}, depth + 1));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      return sampleString(s);
    default:
      return 'x';
  }
}

function sampleString(s: Schema): string {
  switch (s.format) {
    case 'email':
      return `walker.${randomUUID().slice(0, 8)}@example.com`;
    case 'date':
      return '1990-01-01';
    case 'date-time':
      return '2030-01-01T00:00:00.000Z';
    case 'uuid':
      return randomUUID();
    case 'uri':
      return 'https://example.com/';
  }
  const plain = 'x'.repeat(Math.max(1, Math.min(s.maxLength ?? 8, Math.max(s.minLength ?? 1, 8))));
  if (!s.pattern) return plain;
  // Common shapes of our patterns (country, currency, amounts, codes); else a plain string that may not match.
  const candidates = ['GB', 'GBP', '100', '123456', 'abcdefgh', 'AB12CD', 'SW1A 1AA', plain];
  const re = new RegExp(s.pattern, 'u');
  return candidates.find((c) => re.test(c) && c.length <= (s.maxLength ?? Infinity) && c.length >= (s.minLength ?? 0)) ?? plain;
}

function oversized(schema: Schema): unknown {
  const s = resolve(schema);
  if (typeOf(s) === 'array') return Array.from({ length: (s.maxItems ?? 10_000) + 1 }, () => sample(s.items ?? {}));
  if (typeOf(s) === 'integer' || typeOf(s) === 'number') return s.maximum !== undefined ? s.maximum + 1 : Number.MAX_SAFE_INTEGER * 1e6;
  return 'x'.repeat(s.maxLength !== undefined ? s.maxLength + 1 : UNBOUNDED_STRING_CHARS);
}

/** Every property at every level (up to NESTING_MAX), as a path of keys and its schema. */
function fields(schema: Schema, at: string[] = []): { at: string[]; schema: Schema }[] {
  const s = resolve(schema);
  if (typeOf(s) !== 'object' || at.length >= NESTING_MAX) return [];
  return Object.entries(s.properties ?? {}).flatMap(([k, v]) => [{ at: [...at, k], schema: v }, ...fields(v, [...at, k])]);
}

function withValue(base: unknown, at: string[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  let node = copy;
  for (const k of at.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[at.at(-1)!] = value;
  return copy;
}

function fillPath(path: string, params: Parameter[], override?: { name: string; value: string; raw?: boolean }): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (override?.name === name) return override.raw ? override.value : encodeURIComponent(override.value);
    const p = params.find((q) => q.name === name && q.in === 'path');
    return encodeURIComponent(String(sample(p?.schema ?? { type: 'string' })));
  });
}

function bodyProbes(op: Operation, path: string): Probe[] {
  const json = (what: string, value: unknown): Probe => ({ what, path, rawBody: JSON.stringify(value) });
  const base = sample(op.body!);
  const probes: Probe[] = [
    { what: 'malformed JSON', path, rawBody: '{"oops": ' },
    { what: 'empty body', path, rawBody: '' },
    json('null body', null),
    json('string body', 'just a string'),
    json('huge top-level array', Array.from({ length: HUGE_ARRAY_ITEMS }, () => 0)),
  ];
  if (typeOf(op.body!) === 'object') probes.push(json('unknown field', { ...(base as object), unknownFieldFromTheWalker: true }));
  for (const f of fields(op.body!)) {
    const name = `/${f.at.join('/')}`;
    const t = typeOf(f.schema) ?? 'string';
    probes.push(json(`wrong type at ${name}`, withValue(base, f.at, NOT_COERCIBLE[t] ?? { not: t })));
    probes.push(json(`oversized ${name}`, withValue(base, f.at, oversized(f.schema))));
    probes.push(json(`huge array at ${name}`, withValue(base, f.at, Array.from({ length: HUGE_ARRAY_ITEMS }, () => 'x'))));
    // A lenient validator turns the string "1e999" into Infinity for numeric fields.
    if (t === 'integer' || t === 'number') probes.push(json(`infinite ${name}`, withValue(base, f.at, '1e999')));
  }
  return probes;
}

function paramProbes(op: Operation): Probe[] {
  const probes: Probe[] = [];
  const validPath = fillPath(op.path, op.parameters);
  const validBody = op.body ? JSON.stringify(sample(op.body)) : undefined;
  const withBody = (p: Probe): Probe => (validBody !== undefined ? { ...p, rawBody: validBody } : p);
  for (const param of op.parameters) {
    const bad = typeOf(param.schema ?? {}) === 'string' ? ['not valid \u0000 at all', '../../etc/passwd', 'x'.repeat(5_000)] : ['not-a-number', '-1e999', '1e999', 'x'.repeat(5_000)];
    if (param.in === 'path') probes.push(withBody({ what: `path ${param.name} badly percent-encoded`, path: fillPath(op.path, op.parameters, { name: param.name, value: '%E0%A4%A', raw: true }) }));
    for (const value of bad) {
      if (param.in === 'path') probes.push(withBody({ what: `path ${param.name}=${value.slice(0, 20)}`, path: fillPath(op.path, op.parameters, { name: param.name, value }) }));
      if (param.in === 'query') probes.push(withBody({ what: `query ${param.name}=${value.slice(0, 20)}`, path: `${validPath}?${param.name}=${encodeURIComponent(value)}` }));
      if (param.in === 'header' && !value.includes('\u0000')) probes.push(withBody({ what: `header ${param.name}`, path: validPath, headers: { [param.name]: value } }));
    }
  }
  if (op.parameters.some((p) => p.in === 'query')) probes.push(withBody({ what: 'unknown query parameter', path: `${validPath}?unknownParamFromTheWalker=1` }));
  return probes;
}

function operationsOf(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op) continue;
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])] as Parameter[];
      const body = op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
      ops.push({ method: method.toUpperCase(), path, operationId: op.operationId, parameters, ...(body ? { body } : {}) });
    }
  }
  return ops;
}

/** Strings and arrays a client sends must declare an upper bound ("limits on everything"). */
function unboundedFields(schema: Schema, at: string, out: string[], depth = 0): void {
  const s = resolve(schema);
  if (depth > NESTING_MAX + 2) return;
  const branches = [...(s.anyOf ?? []), ...(s.oneOf ?? [])];
  // A union is as bounded as its branches (a union of literals is an enum).
  if (branches.length) {
    for (const branch of branches) unboundedFields(branch, at, out, depth + 1);
    return;
  }
  const t = typeOf(s);
  if (t === 'string' && s.maxLength === undefined && s.enum === undefined && s.const === undefined && !['date', 'date-time', 'uuid'].includes(s.format ?? '')) out.push(at);
  if (t === 'array') {
    if (s.maxItems === undefined) out.push(at);
    unboundedFields(s.items ?? {}, `${at}/items`, out, depth + 1);
  }
  if (t === 'object') for (const [k, v] of Object.entries(s.properties ?? {})) unboundedFields(v, `${at}/${k}`, out, depth + 1);
}

describe('bad input through every operation of the OpenAPI document', () => {
  let p: TestPlatform;
  let operations: Operation[];
  let token: string;
  before(async () => {
    p = await startTestPlatform({ modules: allModules });
    const doc = (await p.http.get('/openapi.json')).body;
    components = doc.components?.schemas ?? {};
    operations = operationsOf(doc);
    token = await adminToken(p);
  });
  after(() => p?.stop());

  it('when the document is read, then every operation has an operationId and the identity operations are there', () => {
    for (const op of operations) assert.ok(op.operationId, `${op.method} ${op.path} has no operationId`);
    const ids = new Set(operations.map((o) => o.operationId));
    for (const id of ['registerPlayer', 'login', 'respondToChallenge', 'refreshToken', 'logout', 'enrollMfa', 'verifyMfaEnrollment', 'createOperator', 'getMe']) {
      assert.ok(ids.has(id), `operation ${id} is missing`);
    }
  });

  it('when a request string or array is declared, then it has an upper bound', () => {
    const unbounded: string[] = [];
    for (const op of operations) {
      if (op.body) unboundedFields(op.body, `${op.operationId} body`, unbounded);
      for (const param of op.parameters) unboundedFields(param.schema ?? {}, `${op.operationId} ${param.in} ${param.name}`, unbounded);
    }
    assert.deepEqual(unbounded, [], `fields without maxLength/maxItems:\n  ${unbounded.join('\n  ')}`);
  });

  it('when every operation is sent bad input, with and without a token, then every answer is a 4xx problem+json', async (t) => {
    const failures: string[] = [];
    let sent = 0;
    for (const op of operations) {
      if (!op.body && op.parameters.length === 0) continue;
      const probes = [...(op.body ? bodyProbes(op, fillPath(op.path, op.parameters)) : []), ...paramProbes(op)];
      for (const bearer of [undefined, token]) {
        for (const probe of probes) {
          const res = await p.http.request(op.method, probe.path, {
            ...(probe.rawBody !== undefined ? { rawBody: probe.rawBody } : {}),
            headers: { ...(probe.headers ?? {}), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
          });
          sent++;
          const type = res.headers.get('content-type') ?? '';
          if (res.status < 400 || res.status >= 500 || !type.startsWith('application/problem+json')) {
            failures.push(`${op.operationId} (${op.method} ${op.path}) ${probe.what}${bearer ? ' [token]' : ''}: ${res.status} ${type} ${JSON.stringify(res.body).slice(0, 200)}`);
          }
        }
      }
    }
    assert.ok(sent > 0, 'no operation took a body or parameters');
    t.diagnostic(`${sent} probes over ${operations.length} operations`);
    assert.deepEqual(failures, [], `${failures.length} of ${sent} probes were not a 4xx problem:\n  ${failures.join('\n  ')}`);
  });
});
