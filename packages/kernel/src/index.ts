// The kernel's public surface. Modules import from '@verity/kernel' only.
export { loadConfig, configTableMarkdown, ConfigError, type Config, type OidcIssuer } from './config.ts';
export { createDb, PgError, pgCode, type Db, type Queryable, type Row, type TxOptions } from './db/db.ts';
export { migrate, readMigrations, MigrationError, type Migration } from './db/migrations.ts';
export { startEmbeddedPostgres, DataDirLockedError, type EmbeddedServer } from './db/embedded.ts';
export { databaseClock, manualClock, type Clock } from './clock.ts';
export { DomainError, Problems, problemTypeUri, isDomainError, type FieldError, type ProblemBody } from './errors.ts';
export { createHttpApp, sendProblem, type HttpApp } from './http/server.ts';
export { requestContext, type RequestContext } from './http/context.ts';
export { defineModule, type ModuleDefinition, type ModuleContext, type ModuleRuntime, type AuthGuards, type Idempotency } from './module.ts';
export { startPlatform, loadMigrations, connectDatabase, type Platform, type PlatformOptions } from './platform.ts';
export type { CloudEvent, NewEvent, EventPublisher, SubscriberDefinition, JobDefinition, JobQueue, EnqueueOptions } from './events/types.ts';
export type { AuditEntry, AuditRecord, AuditLog } from './audit/types.ts';
export type { Principal, PrincipalKind, TokenVerifier, GuardOptions } from './auth/types.ts';
export type { FieldCrypto } from './crypto/types.ts';
export { createLogger, type Logger } from './telemetry/logger.ts';
export { uuidv7 } from './ids.ts';
export { Strict, Money } from './http/schemas.ts';
