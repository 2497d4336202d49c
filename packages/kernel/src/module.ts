/**
 * What a module is: a schema with migrations, a service (its only command surface), HTTP routes,
 * event subscribers and jobs. `defineModule` is the whole contract between a module and the kernel.
 */
import type { AuditLog } from './audit/types.ts';
import type { Cache } from './cache/types.ts';
import type { GuardOptions, Principal, TokenVerifier } from './auth/types.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { FieldCrypto } from './crypto/types.ts';
import type { Db } from './db/db.ts';
import type { EvidenceLog } from './evidence-log/types.ts';
import type { EventPublisher, JobDefinition, JobQueue, SubscriberDefinition } from './events/types.ts';
import type { HttpApp } from './http/server.ts';
import type { ObjectStore } from './storage/types.ts';
import type { RuntimeConfig } from './runtime-config/types.ts';
import type { Logger } from './telemetry/logger.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A route `preHandler` that authenticates and authorizes (usable on any route of the HttpApp). */
export type RouteGuard = (this: unknown, req: FastifyRequest, reply: FastifyReply) => Promise<void>;

export interface AuthGuards {
  /** preHandler: a valid bearer token with all the listed permissions (none = any signed-in user). */
  require(permissions?: readonly string[], options?: GuardOptions): RouteGuard;
  /** The verified principal of a guarded request (throws 401 when absent). */
  principal(req: FastifyRequest): Principal;
  /**
   * Ends sign-ins (token `sid`s) at once in every process: their access tokens are refused from the
   * commit of the ambient transaction on, not only when they expire.
   */
  revokeSessions(sessionIds: readonly string[]): Promise<void>;
  /** Replaced by the identity module at start so the built-in issuer's keys are trusted. */
  setBuiltInVerifier(verifier: TokenVerifier): void;
}

export interface Idempotency {
  /**
   * Wraps a command route handler: with an `Idempotency-Key` header the same key and body replay the
   * stored response, another body is a 422, and concurrent duplicates do the work once.
   * `required` rejects requests without the header.
   */
  wrap<H extends (req: any, reply: any) => Promise<unknown>>(handler: H, options?: { required?: boolean }): H;
}

export interface ModuleContext {
  readonly name: string;
  readonly config: Config;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  /** Writes this module's events to its outbox (inside db.tx). */
  readonly events: EventPublisher;
  /** Enqueues this module's jobs (inside db.tx: atomically with the change). */
  readonly jobs: JobQueue;
  readonly audit: AuditLog;
  /**
   * The platform's append-only Merkle log (ADR 0012): `append` inside the transaction of the change
   * it records, then `integrated`, `checkpoint` and proofs for evidence bundles.
   */
  readonly evidenceLog: EvidenceLog;
  readonly crypto: FieldCrypto;
  /** Documents and evidence files: content-addressed, SHA-256 verified, encrypted per subject on request. */
  readonly objects: ObjectStore;
  readonly auth: AuthGuards;
  readonly idempotency: Idempotency;
  /** Hot counters and short-lived read models, under this module's namespace: in-process, or Redis when REDIS_URL is set. Never the truth. */
  readonly cache: Cache;
  /** Game rules and feature flags: keys declared with a schema and default, changed by operators with an audit record (ADR 0013). */
  readonly runtimeConfig: RuntimeConfig;
  /** Another module's service: in-process, or an HTTP client when it runs elsewhere. */
  service<T>(module: string): T;
}

export interface ModuleRuntime<S> {
  service: S;
  routes?(app: HttpApp): void | Promise<void>;
  subscribers?: readonly SubscriberDefinition[];
  jobs?: readonly JobDefinition<any>[];
  /** After every module is set up and migrations ran (seeding, key loading). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface ModuleDefinition<S = unknown> {
  /** Also the PostgreSQL schema name. */
  readonly name: string;
  /** Absolute path of the folder of `NNNN_name.sql` files. */
  readonly migrationsDir: string;
  /** Service methods another process may call over HTTP. Arguments and results must be JSON (bigint allowed). */
  readonly remoteMethods: readonly string[];
  setup(ctx: ModuleContext): ModuleRuntime<S> | Promise<ModuleRuntime<S>>;
}

const NAME = /^[a-z][a-z0-9_]{1,30}$/;

export function defineModule<S>(def: ModuleDefinition<S>): ModuleDefinition<S> {
  if (!NAME.test(def.name) || def.name === 'kernel' || def.name === 'public') {
    throw new Error(`Module name "${def.name}" must be a lower-case identifier and not a reserved schema`);
  }
  return Object.freeze(def);
}
