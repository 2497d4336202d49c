/**
 * Plain-SQL migrations per module, applied in order and recorded with a SHA-256 checksum.
 * An applied migration whose file changed stops the start: history is never rewritten silently.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from './db.ts';

export interface Migration {
  module: string;
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** Advisory lock key shared by every process that migrates ("verity-migrate"). */
const MIGRATION_LOCK = 0x76657269;

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

export async function readMigrations(module: string, dir: string): Promise<Migration[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return [];
  }
  const migrations: Migration[] = [];
  for (const file of files.sort()) {
    const m = FILE.exec(file);
    if (!m) {
      if (file.endsWith('.sql')) throw new MigrationError(`${module}: migration file "${file}" must be named NNNN_snake_name.sql`);
      continue;
    }
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ module, version: Number(m[1]), name: m[2]!, sql, checksum: checksum(sql) });
  }
  migrations.forEach((mig, i) => {
    if (mig.version !== i + 1) throw new MigrationError(`${module}: migrations must be numbered 0001, 0002, … without gaps (found ${mig.version} at position ${i + 1})`);
  });
  return migrations;
}

/**
 * Every module schema gets an outbox and an inbox owned by the kernel's event machinery
 * (events/outbox.ts). Its NOTIFY trigger is dropped again by `quietOutboxMigration`.
 */
export function eventTablesMigration(module: string): Migration {
  const sql = `
create schema if not exists ${module};
create table if not exists ${module}.outbox (
  position     bigint generated always as identity primary key,
  id           uuid not null unique,
  type         text not null,
  subject      text,
  data         jsonb not null,
  traceparent  text,
  created_at   timestamptz not null default clock_timestamp(),
  published_at timestamptz
);
create index if not exists outbox_unpublished on ${module}.outbox (position) where published_at is null;
create index if not exists outbox_created_at on ${module}.outbox (created_at);
create or replace function ${module}.outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('verity_outbox', '${module}');
  return null;
end;
$$;
create trigger outbox_notify after insert on ${module}.outbox for each statement execute function ${module}.outbox_notify();
create table if not exists ${module}.inbox (
  subscriber  text not null,
  event_id    uuid not null,
  handled_at  timestamptz not null default clock_timestamp(),
  primary key (subscriber, event_id)
);
create index if not exists inbox_handled_at on ${module}.inbox (handled_at);
`;
  return { module, version: 0, name: 'kernel_event_tables', sql, checksum: checksum(sql) };
}

/**
 * The outbox's NOTIFY trigger is dropped (version −1 of every module, after version 0): PostgreSQL
 * serialises the commits of notifying transactions (a database-wide lock held through the WAL
 * flush), so under load every module that publishes waited on every other. Relays are woken after
 * commit in process and poll (ADR 0003, ADR 0006).
 */
export function quietOutboxMigration(module: string): Migration {
  const sql = `
drop trigger if exists outbox_notify on ${module}.outbox;
drop function if exists ${module}.outbox_notify();
`;
  return { module, version: -1, name: 'kernel_outbox_without_notify', sql, checksum: checksum(sql) };
}

const BOOTSTRAP = `
create schema if not exists kernel;
create table if not exists kernel.schema_migrations (
  module     text not null,
  version    int  not null,
  name       text not null,
  checksum   text not null,
  applied_at timestamptz not null default clock_timestamp(),
  primary key (module, version)
);
`;

export interface MigrationReport {
  applied: Migration[];
  alreadyApplied: number;
}

/** Applies pending migrations of the given sets in order, under one advisory lock. */
export async function migrate(db: Db, sets: Migration[][]): Promise<MigrationReport> {
  const applied: Migration[] = [];
  let alreadyApplied = 0;
  const client = await db.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(BOOTSTRAP);
    const { rows } = await client.query<{ module: string; version: number; checksum: string; name: string }>(
      'select module, version, checksum, name from kernel.schema_migrations',
    );
    const done = new Map(rows.map((r) => [`${r.module}:${r.version}`, r]));
    for (const set of sets) {
      for (const mig of set) {
        const prior = done.get(`${mig.module}:${mig.version}`);
        if (prior) {
          if (prior.checksum !== mig.checksum) {
            throw new MigrationError(
              `${mig.module} migration ${String(mig.version).padStart(4, '0')}_${mig.name} was edited after it was applied ` +
                `(checksum ${prior.checksum.slice(0, 12)}… in the database, ${mig.checksum.slice(0, 12)}… on disk). ` +
                'Restore the file and add a new migration instead.',
            );
          }
          alreadyApplied++;
          continue;
        }
        try {
          await client.query('begin');
          await client.query(mig.sql);
          await client.query('insert into kernel.schema_migrations (module, version, name, checksum) values ($1, $2, $3, $4)', [
            mig.module,
            mig.version,
            mig.name,
            mig.checksum,
          ]);
          await client.query('commit');
          applied.push(mig);
        } catch (err) {
          await client.query('rollback').catch(() => {});
          if (err instanceof MigrationError) throw err;
          throw new MigrationError(`${mig.module} migration ${mig.version} (${mig.name}) failed: ${(err as Error).message}`);
        }
      }
    }
    return { applied, alreadyApplied };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** True when every given migration is recorded with a matching checksum (readiness). */
export async function migrationsCurrent(db: Db, sets: Migration[][]): Promise<boolean> {
  try {
    const rows = await db.query<{ module: string; version: number; checksum: string }>('select module, version, checksum from kernel.schema_migrations');
    const done = new Map(rows.map((r) => [`${r.module}:${r.version}`, r.checksum]));
    return sets.flat().every((m) => done.get(`${m.module}:${m.version}`) === m.checksum);
  } catch {
    return false;
  }
}
