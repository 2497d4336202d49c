/**
 * The outbox and inbox tables of each module (created by the kernel's version-0 migration of every
 * module, db/migrations.ts). This file holds all the SQL on them.
 */
import type { Db } from '../db/db.ts';
import { requestContext } from '../http/context.ts';
import { uuidv7 } from '../ids.ts';
import { EVENT_DATA_MAX_BYTES, EVENT_TYPE, MODULE_NAME, SUBJECT_MAX_CHARS, encodeJson, isUuid, type OutboxRow } from './envelope.ts';
import type { EventPublisher, NewEvent, OutboxStat } from './types.ts';


/** Module names reach SQL as identifiers; only ever one that passed this check. */
function schema(module: string): string {
  if (!MODULE_NAME.test(module)) throw new Error(`"${module}" is not a module name`);
  return module;
}

/**
 * `onCommitted` wakes this process's relay once the events' transaction has committed (ADR 0003):
 * no NOTIFY, which would make every committing transaction that publishes wait for the others.
 */
export function createOutboxPublisher(db: Db, module: string, onCommitted?: (module: string) => void): EventPublisher {
  const table = `${schema(module)}.outbox`;
  const wake = () => {
    if (onCommitted) db.afterCommit(() => onCommitted(module));
  };
  /** Checks one event and gives its row: [id, type, subject, data]. */
  const row = (event: NewEvent<unknown>): [string, string, string | null, string] => {
    if (!EVENT_TYPE.test(event.type) || !event.type.startsWith(`${module}.`)) {
      throw new Error(`${module}: event type "${event.type}" must look like "${module}.<event-name>.v<N>"`);
    }
    if (event.subject !== undefined && (typeof event.subject !== 'string' || event.subject.length > SUBJECT_MAX_CHARS)) {
      throw new Error(`${module}: event subject must be a string of at most ${SUBJECT_MAX_CHARS} characters`);
    }
    if (event.id !== undefined && !isUuid(event.id)) throw new Error(`${module}: event id must be a UUID`);
    return [event.id ?? uuidv7(), event.type, event.subject ?? null, encodeJson(event.data ?? null, EVENT_DATA_MAX_BYTES, `${event.type} data`)];
  };
  // Outside a transaction the event could commit without the state change it announces, or the
  // other way round: exactly what the outbox exists to prevent.
  const inTx = () => {
    if (!db.inTransaction()) throw new Error(`${module}: events.publish must run inside db.tx, with the change it announces`);
  };
  return {
    async publish<T>(event: NewEvent<T>): Promise<string> {
      inTx();
      const [id, type, subject, data] = row(event);
      await db.query(`insert into ${table} (id, type, subject, data, traceparent) values ($1, $2, $3, $4::jsonb, $5)`, [
        id,
        type,
        subject,
        data,
        requestContext.traceparent() ?? null,
      ]);
      wake();
      return id;
    },
    async publishMany(events: readonly (NewEvent & { traceparent?: string })[]): Promise<string[]> {
      inTx();
      if (events.length === 0) return [];
      const rows = events.map(row);
      const here = requestContext.traceparent() ?? null;
      await db.query(
        `insert into ${table} (id, type, subject, data, traceparent)
         select id, type, subject, data, tp from unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[]) with ordinality as e(id, type, subject, data, tp, n) order by n`,
        [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), events.map((e) => e.traceparent ?? here)],
      );
      wake();
      return rows.map((r) => r[0]);
    },
  };
}

/**
 * The oldest unpublished events, locked for this transaction. SKIP LOCKED lets relays in several
 * processes share a module's outbox: each takes rows no other relay holds, and none waits.
 */
export async function lockUnpublished(db: Db, module: string, limit: number): Promise<OutboxRow[]> {
  return db.query<OutboxRow & Record<string, unknown>>(
    `select position, id, type, subject, data, traceparent, created_at from ${schema(module)}.outbox
      where published_at is null order by position limit $1 for update skip locked`,
    [limit],
  );
}

export async function markPublished(db: Db, module: string, positions: readonly bigint[]): Promise<void> {
  await db.query(`update ${schema(module)}.outbox set published_at = clock_timestamp() where position = any($1::bigint[])`, [positions]);
}

export async function outboxStats(db: Db, modules: readonly string[]): Promise<OutboxStat[]> {
  const out: OutboxStat[] = [];
  for (const module of modules) {
    const row = await db.one<{ unpublished: bigint; age_s: number | null }>(
      `select count(*) as unpublished, extract(epoch from clock_timestamp() - min(created_at))::float8 as age_s
         from ${schema(module)}.outbox where published_at is null`,
    );
    out.push({ module, unpublished: Number(row.unpublished), oldestUnpublishedAgeS: Math.max(0, row.age_s ?? 0) });
  }
  return out;
}

/** Modules whose outbox exists in this database (whichever process runs them). */
export async function modulesWithOutbox(db: Db): Promise<string[]> {
  const rows = await db.query<{ module: string }>(
    "select module from kernel.schema_migrations where version = 0 and name = 'kernel_event_tables' order by module",
  );
  return rows.map((r) => r.module).filter((m) => MODULE_NAME.test(m));
}

const PURGE_BATCH = 5_000;
/** A purge run stops after this many batches; the next day's run continues. */
const PURGE_BATCHES_MAX = 200;

/**
 * Deletes published events older than `retentionDays`, and inbox records older than twice that:
 * an inbox record outlives every retained event it could deduplicate, so a replay from the outbox
 * still finds it.
 */
export async function purgeEventTables(db: Db, module: string, retentionDays: number): Promise<{ outbox: number; inbox: number }> {
  const s = schema(module);
  const purge = async (sql: string, days: number) => {
    let total = 0;
    for (let i = 0; i < PURGE_BATCHES_MAX; i++) {
      const rows = await db.query(sql, [days, PURGE_BATCH]);
      total += rows.length;
      if (rows.length < PURGE_BATCH) break;
    }
    return total;
  };
  const outbox = await purge(
    `delete from ${s}.outbox where position in (
       select position from ${s}.outbox
        where published_at is not null and created_at < clock_timestamp() - make_interval(days => $1)
        order by created_at limit $2) returning position`,
    retentionDays,
  );
  const inbox = await purge(
    `delete from ${s}.inbox where (subscriber, event_id) in (
       select subscriber, event_id from ${s}.inbox
        where handled_at < clock_timestamp() - make_interval(days => $1) order by handled_at limit $2) returning event_id`,
    retentionDays * 2,
  );
  return { outbox, inbox };
}

/**
 * Records that `subscriber` handled `eventId`, in the caller's transaction. False when it already
 * had: the primary key makes a concurrent second delivery wait for the first and then see its row.
 */
export async function claimInbox(db: Db, module: string, subscriber: string, eventId: string): Promise<boolean> {
  return (await claimInboxes(db, module, subscriber, [eventId])).size === 1;
}

/** Records a batch of events as handled; returns the ids that were not handled before. */
export async function claimInboxes(db: Db, module: string, subscriber: string, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ event_id: string }>(
    `insert into ${schema(module)}.inbox (subscriber, event_id) select $1, unnest($2::uuid[]) on conflict do nothing returning event_id`,
    [subscriber, eventIds],
  );
  return new Set(rows.map((r) => r.event_id));
}

export interface ReplayFilter {
  type?: string;
  since?: Date;
  /** Continue after this position (paging). */
  afterPosition?: bigint;
  limit: number;
}

/** Published events for a replay, oldest first. Unpublished ones are left to the relay. */
export async function selectForReplay(db: Db, module: string, filter: ReplayFilter): Promise<OutboxRow[]> {
  return db.query<OutboxRow & Record<string, unknown>>(
    `select position, id, type, subject, data, traceparent, created_at from ${schema(module)}.outbox
      where published_at is not null
        and ($1::text is null or type = $1)
        and ($2::timestamptz is null or created_at >= $2)
        and position > coalesce($3::bigint, 0)
      order by position limit $4`,
    [filter.type ?? null, filter.since ?? null, filter.afterPosition ?? null, filter.limit],
  );
}

export async function outboxExists(db: Db, module: string): Promise<boolean> {
  const row = await db.one<{ t: string | null }>('select to_regclass($1)::text as t', [`${schema(module)}.outbox`]);
  return row.t !== null;
}
