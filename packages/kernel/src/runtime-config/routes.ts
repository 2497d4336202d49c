/**
 * The operator API of runtime configuration: list every declared key of the modules in this
 * process, read one with its history, change one (settings:manage, MFA, step-up, a reason, the
 * version it was based on).
 */
import { Type } from 'typebox';
import { actorOf } from '../audit/audit.ts';
import { OperatorPermissions } from '../auth/roles.ts';
import { Strict } from '../http/schemas.ts';
import type { HttpApp } from '../http/server.ts';
import type { AuthGuards } from '../module.ts';
import type { RuntimeConfigStore } from './runtime-config.ts';
import type { RuntimeConfigEntry, RuntimeConfigVersion } from './types.ts';

const TAG = 'Runtime configuration';
const bearer = [{ bearer: [] }];
const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;
const Time = Type.String({ format: 'date-time' });
const AnyJson = Type.Unknown({ description: 'Any JSON value' });

const KeyParams = Strict({
  module: Type.String({ pattern: '^[a-z][a-z0-9_]{1,30}$', maxLength: 31 }),
  key: Type.String({ pattern: '^[a-z][a-z0-9.-]{0,62}$', maxLength: 63 }),
});

const EntryDto = Strict({
  module: Type.String(),
  key: Type.String(),
  description: Type.Optional(Type.String()),
  schema: Type.Object({}, { additionalProperties: true, description: 'JSON Schema the value must fit' }),
  defaultValue: AnyJson,
  value: AnyJson,
  version: Type.Integer({ minimum: 0, description: '0 while the default applies' }),
  changedBy: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  changedAt: Type.Optional(Time),
  auditId: Type.Optional(Type.String()),
});

const VersionDto = Strict({
  version: Type.Integer({ minimum: 1 }),
  value: AnyJson,
  changedBy: Type.String(),
  reason: Type.String(),
  changedAt: Time,
  auditId: Type.Optional(Type.String()),
});

const EntryList = Strict({ items: Type.Array(EntryDto, { maxItems: 1000 }) });
const EntryWithHistory = Strict({ entry: EntryDto, history: Type.Array(VersionDto, { maxItems: 100 }) });

const SetBody = Strict({
  value: AnyJson,
  version: Type.Integer({ minimum: 0, maximum: 2_000_000_000, description: 'The version this change is based on (0 when the default applies); another current version is a 409' }),
  reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why: kept with the version and in the audit record' }),
});

const entryView = (e: RuntimeConfigEntry) => ({
  module: e.module, key: e.key, ...(e.description ? { description: e.description } : {}), schema: JSON.parse(JSON.stringify(e.schema)) as object,
  defaultValue: e.defaultValue, value: e.value, version: e.version, ...(e.changedBy ? { changedBy: e.changedBy } : {}), ...(e.reason ? { reason: e.reason } : {}),
  ...(e.changedAt ? { changedAt: e.changedAt.toISOString() } : {}), ...(e.auditId ? { auditId: e.auditId } : {}),
});

const versionView = (v: RuntimeConfigVersion) => ({
  version: v.version, value: v.value, changedBy: v.changedBy, reason: v.reason, changedAt: v.changedAt.toISOString(), ...(v.auditId ? { auditId: v.auditId } : {}),
});

export function registerRuntimeConfigRoutes(app: HttpApp, deps: { auth: AuthGuards; store: RuntimeConfigStore }): void {
  const { auth, store } = deps;
  // Reading is for any operator (the rules of the games are not secret); changing needs settings:manage.
  const read = auth.require([], { mfa: true, kinds: ['operator'] });
  const manage = auth.require([OperatorPermissions.settingsManage], { mfa: true, stepUp: true, kinds: ['operator'] });

  app.get('/v1/config', {
    preHandler: read,
    schema: { operationId: 'listRuntimeConfig', tags: [TAG], security: bearer, summary: 'Every runtime configuration key of the modules in this process, with its current value and version', response: { 200: EntryList, '4xx': Problem } },
  }, async () => {
    const items: RuntimeConfigEntry[] = [];
    for (const { module, key } of store.definitions()) items.push(await store.entry(module, key));
    return { items: items.map(entryView) };
  });

  app.get('/v1/config/:module/:key', {
    preHandler: read,
    schema: { operationId: 'getRuntimeConfig', tags: [TAG], security: bearer, summary: 'One key: its current value, schema, default and the last 100 versions (who, when, why)', params: KeyParams, response: { 200: EntryWithHistory, '4xx': Problem } },
  }, async (req) => {
    const { module, key } = req.params as { module: string; key: string };
    const entry = await store.entry(module, key);
    return { entry: entryView(entry), history: (await store.history(module, key, 100)).map(versionView) };
  });

  app.put('/v1/config/:module/:key', {
    preHandler: manage,
    schema: {
      operationId: 'setRuntimeConfig', tags: [TAG], security: bearer,
      summary: 'Change a key: validated against its schema, based on the current version (a stale one is a 409), with a reason; audited',
      description: 'Every process sees the new value within moments (a notification at commit; a cache TTL of a few seconds as the backstop).',
      params: KeyParams, body: SetBody, response: { 200: EntryDto, '4xx': Problem },
    },
  }, async (req) => {
    const { module, key } = req.params as { module: string; key: string };
    const body = req.body as { value: unknown; version: number; reason: string };
    const entry = await store.set({ module, key, value: body.value, expectedVersion: body.version, reason: body.reason, actor: actorOf(auth.principal(req)) });
    return entryView(entry);
  });
}
