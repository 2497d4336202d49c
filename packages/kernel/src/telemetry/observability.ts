// PLACEHOLDER (helper "kernel-ops" replaces): /healthz, /readyz, /metrics, tracing.
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { migrationsCurrent, type Migration } from '../db/migrations.ts';
import type { EventBus } from '../events/bus.ts';
import type { HttpApp } from '../http/server.ts';
export async function registerObservability(app: HttpApp, opts: { db: Db; bus: EventBus; migrations: Migration[][]; config: Config }): Promise<void> {
  app.get('/healthz', { schema: { operationId: 'getHealth', hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { operationId: 'getReadiness', hide: true } }, async (_req, reply) => {
    const ok = await migrationsCurrent(opts.db, opts.migrations);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready' });
  });
}
