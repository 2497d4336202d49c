/**
 * Runtime configuration (the AppConfig role, ARCHITECTURE §8): values a module reads while it runs
 * and operators change without a deploy, each change a new version with who and why (ADR 0013).
 */
import type { Static, TSchema } from 'typebox';

/** One declared key of one module: read it with `get()` (cached, at most a few seconds stale). */
export interface RuntimeConfigHandle<T> {
  readonly module: string;
  readonly key: string;
  get(): Promise<T>;
}

/** What `ctx.runtimeConfig` offers a module: its own keys only. */
export interface RuntimeConfig {
  /**
   * Declares a key at setup: its TypeBox schema (its `description` is shown to operators) and the
   * value used until someone sets one. Keys read `^[a-z][a-z0-9.-]{0,62}$`; declaring one twice throws.
   */
  define<S extends TSchema>(key: string, schema: S, defaultValue: Static<S>): RuntimeConfigHandle<Static<S>>;
  /** The current value of a key this module declared. */
  get<T = unknown>(key: string): Promise<T>;
}

/** The current state of one key, as the operator API shows it. */
export interface RuntimeConfigEntry {
  module: string;
  key: string;
  description?: string;
  schema: unknown;
  defaultValue: unknown;
  value: unknown;
  /** 0 while the default applies (nobody set a value yet). */
  version: number;
  changedBy?: string;
  reason?: string;
  changedAt?: Date;
  auditId?: string;
}

export interface RuntimeConfigVersion {
  version: number;
  value: unknown;
  changedBy: string;
  reason: string;
  changedAt: Date;
  auditId?: string;
}

export interface SetRuntimeConfigInput {
  module: string;
  key: string;
  value: unknown;
  /** The version the change was based on (0 when no value was set yet); another is a 409. */
  expectedVersion: number;
  reason: string;
  /** `operator:<id>` */
  actor: string;
}
