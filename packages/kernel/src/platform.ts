/**
 * The composition of one process: database (embedded or DATABASE_URL), migrations, event bus,
 * HTTP, and the modules chosen to run here. `verity start` and the tests both go through this.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuditLog } from './audit/audit.ts';
import { createAuthGuards } from './auth/guards.ts';
import { createSessionRevocations } from './auth/revocations.ts';
import { cacheFromConfig } from './cache/cache.ts';
import { databaseClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { createFieldCrypto } from './crypto/field-crypto.ts';
import { createDb, type Db } from './db/db.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from './db/embedded.ts';
import { eventTablesMigration, migrate, quietOutboxMigration, readMigrations, type Migration } from './db/migrations.ts';
import { createEventBus, type EventBus } from './events/bus.ts';
import { anchorsFromConfig } from './evidence-log/anchors.ts';
import { registerLogRoutes } from './evidence-log/routes.ts';
import { createEvidenceLog, type EvidenceLogRuntime } from './evidence-log/service.ts';
import { createIdempotency, purgeExpiredIdempotencyKeys } from './http/idempotency.ts';
import { createHttpApp, type HttpApp } from './http/server.ts';
import type { ModuleContext, ModuleDefinition, ModuleRuntime } from './module.ts';
import { createRemoteService, registerInternalRoutes, serviceTokenSecret } from './remote.ts';
import { registerRuntimeConfigRoutes } from './runtime-config/routes.ts';
import { createRuntimeConfigStore } from './runtime-config/runtime-config.ts';
import { objectStoreFromConfig } from './storage/object-store.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { registerObservability } from './telemetry/observability.ts';

export const KERNEL_MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface PlatformOptions {
  config: Config;
  /** Every module the platform knows (the composition root lists them). */
  modules: readonly ModuleDefinition<any>[];
  /** Names of the modules to run in this process. Default: config.modules, or all. */
  run?: readonly string[];
  log?: Logger;
  clock?: Clock;
  /** Listen on config.host:config.port (default true). */
  listen?: boolean;
  /** Start queue workers and the outbox relay (default true). */
  workers?: boolean;
}

export interface Platform {
  readonly config: Config;
  readonly app: HttpApp;
  readonly db: Db;
  readonly log: Logger;
  readonly bus: EventBus;
  /** The evidence log of this process (checkpoints, proofs, verification). */
  readonly evidenceLog: EvidenceLogRuntime;
  /** Base URL the API listens on (after listen). */
  readonly url: string;
  readonly running: readonly string[];
  readonly migrations: Migration[][];
  service<T>(module: string): T;
  stop(): Promise<void>;
}

export async function connectDatabase(config: Config, log: Logger): Promise<{ url: string; embedded?: EmbeddedServer }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.embeddedPgPort,
    log: (line) => log.debug({ component: 'embedded-postgres' }, line),
  });
  const admin = createDb({ connectionString: embedded.adminUrl, max: 1 });
  try {
    const exists = await admin.maybeOne("select 1 from pg_database where datname = 'verity'");
    if (!exists) await embedded.createDatabase('verity');
  } finally {
    await admin.close();
  }
  // How an engineer reaches the same database with psql (the password stays in its file, 0600).
  const psql = `PGPASSWORD="$(cat ${embedded.passwordFile})" psql -h 127.0.0.1 -p ${embedded.port} -U postgres verity`;
  log.info({ dataDir: config.dataDir, port: embedded.port, psql }, 'embedded PostgreSQL started');
  return { url: embedded.urlFor('verity'), embedded };
}

export async function loadMigrations(modules: readonly ModuleDefinition<any>[]): Promise<Migration[][]> {
  const sets: Migration[][] = [await readMigrations('kernel', KERNEL_MIGRATIONS_DIR)];
  for (const m of modules) sets.push([eventTablesMigration(m.name), quietOutboxMigration(m.name), ...(await readMigrations(m.name, m.migrationsDir))]);
  return sets;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config } = options;
  const log = options.log ?? createLogger(config.logLevel);
  const known = new Map(options.modules.map((m) => [m.name, m]));
  const runNames = options.run?.length ? options.run : config.modules.length ? config.modules : [...known.keys()];
  for (const n of runNames) if (!known.has(n)) throw new Error(`Unknown module "${n}". Known: ${[...known.keys()].join(', ')}`);
  const running = runNames.map((n) => known.get(n)!);

  // Shutdown runs these in reverse order of registration: stop taking requests (drain HTTP), stop
  // consumers and finish or release in-flight jobs, stop modules, close the pool, stop PostgreSQL.
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log.warn({ err }, 'cleanup failed'));
  };
  try {
    const { url: databaseUrl, embedded } = await connectDatabase(config, log);
    if (embedded) cleanups.push(() => embedded.stop());
    const db = createDb({
      connectionString: databaseUrl, max: config.databasePoolMax, statementTimeoutMs: config.databaseStatementTimeoutMs, preparedStatements: config.databasePreparedStatements,
    });
    cleanups.push(() => db.close());
    const migrations = await loadMigrations(running);
    const report = await migrate(db, migrations);
    if (report.applied.length) log.info({ applied: report.applied.map((m) => `${m.module}/${m.version}_${m.name}`) }, 'migrations applied');

    const clock = options.clock ?? databaseClock(db);
    const crypto = await createFieldCrypto({ db, config, log });
    cleanups.push(() => crypto.close());
    const objects = await objectStoreFromConfig({ config, crypto, log });
    cleanups.push(() => objects.close());
    const bus = createEventBus({ db, config, log, connectionString: databaseUrl });
    await bus.start();
    // Registered early so a failed start still releases them; `stopFront` runs them first on stop.
    let app: HttpApp | undefined;
    let frontStopped = false;
    const stopFront = async () => {
      if (frontStopped) return;
      frontStopped = true;
      if (app) {
        // Drain in-flight requests; a keep-alive socket that never sends another request would hold
        // close() open forever, so after the grace period every remaining connection is cut.
        const server = app.server;
        const cut = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        cut.unref();
        await app.close().catch((err: unknown) => log.warn({ err }, 'http close failed'));
        clearTimeout(cut);
      }
      await bus.stop();
    };
    cleanups.push(stopFront);

    app = await createHttpApp({ config, log });
    const revocations = createSessionRevocations({ db, connectionString: databaseUrl, accessTokenTtlS: config.accessTokenTtlS, log });
    await revocations.start();
    cleanups.push(() => revocations.stop());
    const auth = createAuthGuards({ config, log, revocations });
    const idempotency = createIdempotency({ db, log });
    const cache = cacheFromConfig({ redisUrl: config.redisUrl, log });
    cleanups.push(() => cache.close());

    // Every process runs the log; its integrator lock makes one of them sequence at a time.
    const evidenceLog = createEvidenceLog({ db, config, log: log.child({ component: 'evidence-log' }), crypto, anchors: anchorsFromConfig(config) });
    cleanups.push(() => evidenceLog.stop());
    const runtimeConfig = createRuntimeConfigStore({ db, log, audit: createAuditLog(db, 'kernel', evidenceLog.kick) });
    runtimeConfig.start();
    cleanups.push(() => runtimeConfig.stop());

    const services = new Map<string, unknown>();
    const secret = await serviceTokenSecret(config, log);
    for (const def of options.modules) {
      if (runNames.includes(def.name)) continue;
      const baseUrl = config.serviceUrls[def.name];
      if (baseUrl) services.set(def.name, createRemoteService(def, { baseUrl, secret, callerModule: 'platform', timeoutMs: config.serviceCallTimeoutMs, log }));
    }
    const service = <T>(name: string): T => {
      const s = services.get(name);
      if (!s) throw new Error(`Module "${name}" is neither in this process nor configured in VERITY_SERVICE_URLS`);
      return s as T;
    };

    const runtimes = new Map<string, ModuleRuntime<unknown>>();
    for (const def of running) {
      const ctx: ModuleContext = {
        name: def.name,
        config,
        db,
        clock,
        log: log.child({ module: def.name }),
        events: bus.publisherFor(def.name),
        jobs: bus.jobsFor(def.name),
        audit: createAuditLog(db, def.name, evidenceLog.kick),
        evidenceLog: evidenceLog.forModule(def.name),
        crypto,
        objects,
        auth,
        idempotency,
        cache: cache.namespace(def.name),
        runtimeConfig: runtimeConfig.forModule(def.name),
        service,
      };
      const runtime = await def.setup(ctx);
      runtimes.set(def.name, runtime);
      services.set(def.name, runtime.service);
    }
    registerInternalRoutes(app, { modules: running, runtimes, secret, log });
    registerLogRoutes(app, { log: evidenceLog, auth, config });
    await registerObservability(app, { db, bus, migrations, config });
    registerRuntimeConfigRoutes(app, { auth, store: runtimeConfig });
    for (const def of running) {
      const runtime = runtimes.get(def.name)!;
      await runtime.routes?.(app);
      await bus.register(def.name, runtime.subscribers ?? [], runtime.jobs ?? []);
    }
    cleanups.push(async () => {
      for (const runtime of runtimes.values()) await runtime.stop?.();
    });
    await bus.register('kernel', [], [
      ...evidenceLog.jobs,
      {
        name: 'idempotency-purge',
        cron: '23 * * * *',
        retryLimit: 3,
        async handle() {
          const purged = await purgeExpiredIdempotencyKeys(db);
          if (purged) log.info({ purged }, 'expired idempotency keys purged');
        },
      },
    ]);
    const kernelJobs = bus.jobsFor('kernel');
    await evidenceLog.start({
      background: options.workers !== false,
      enqueueAnchor: async (size, anchor) => void (await kernelJobs.enqueue('log-anchor', { size, anchor })),
    });
    for (const runtime of runtimes.values()) await runtime.start?.();

    await app.ready();
    let url = '';
    if (options.listen !== false) {
      url = await app.listen({ port: config.port, host: config.host });
      url = url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    }
    if (options.workers !== false) await bus.startWorkers(running.map((m) => m.name));

    let stopping: Promise<void> | undefined;
    return {
      config,
      app,
      db,
      log,
      bus,
      evidenceLog,
      url,
      migrations,
      running: running.map((m) => m.name),
      service,
      stop() {
        stopping ??= stopFront().then(cleanup);
        return stopping;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
