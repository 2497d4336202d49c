/** CloudEvents 1.0 envelope: the shape the outbox stores and EventBridge carries. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** UUIDv7; the same id on every delivery and replay, so inboxes can deduplicate. */
  id: string;
  /** `/verity/<module>` */
  source: string;
  /** `<module>.<event-name>.v<N>` */
  type: string;
  subject?: string;
  /** When the event was written to the outbox (database clock), RFC 3339. */
  time: string;
  datacontenttype: 'application/json';
  /**
   * Plain JSON: a bigint in the published data arrives as its decimal string (as money does on the
   * HTTP API), a Date as its ISO string. Describe and validate it with the event's TypeBox contract.
   */
  data: T;
  traceparent?: string;
}

export interface NewEvent<T = unknown> {
  /** `<module>.<event-name>.v<N>`; the module prefix must be the publishing module's name. */
  type: string;
  subject?: string;
  data: T;
  /** Defaults to a new UUIDv7. */
  id?: string;
}

/** Writes events into the module's outbox; must run inside `db.tx`. */
export interface EventPublisher {
  publish<T>(event: NewEvent<T>): Promise<string>;
  /**
   * Several events in one statement (one round trip), in order: for code that commits the changes of
   * many requests at once (group commit). Each may carry the traceparent of its own request.
   */
  publishMany(events: readonly (NewEvent & { traceparent?: string })[]): Promise<string[]>;
}

/** What a handler knows about the delivery it is running. */
export interface Delivery {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the run exceeded `timeoutS` or shutdown gave up waiting: stop and throw. */
  signal: AbortSignal;
}

export interface SubscriberDefinition {
  /** Unique within the module; the queue is `<module>.<name>`, its dead-letter queue `<module>.<name>.dlq`. */
  name: string;
  /** Event types this subscriber receives. */
  events: readonly string[];
  /** Runs inside a transaction together with the inbox record: its database effects happen once. */
  handle(event: CloudEvent, delivery: Delivery): Promise<void>;
  /** Retries before the event goes to the dead-letter queue (default 8). */
  retryLimit?: number;
  /** Seconds before the first retry; doubles each retry, with jitter, capped at one hour (default 5). */
  retryDelayS?: number;
  /**
   * How long one run may take (default 60). Also how soon an event held by a process that died is
   * handed to another one (plus QUEUE_SUPERVISE_INTERVAL_S).
   */
  timeoutS?: number;
  /**
   * Heartbeat interval (≥ 10 s) for long handlers: a run whose process stops beating for this long is
   * retried elsewhere, so `timeoutS` can stay generous. Default: no heartbeat.
   */
  heartbeatS?: number;
  /** Handlers of this subscriber running at once in one process (default 2, at most 32). */
  concurrency?: number;
  /**
   * Events handed over at once (default 1, at most 100). With more than one, a batch runs in one
   * transaction (one inbox statement, one commit, one queue settlement for all of it); if any
   * handler of the batch throws, the batch is rolled back and its events run again one at a time,
   * each in its own transaction, so only the failing event is retried. Only for handlers whose every
   * effect is in the database: a call to another system would be made again by that rerun.
   */
  batchSize?: number;
}

/** What a job run knows about itself. */
export interface JobRun extends Delivery {
  id: string;
}

export interface JobDefinition<T extends object = Record<string, unknown>> {
  /** Unique within the module; the queue is `<module>.job.<name>`, its dead-letter queue `<module>.job.<name>.dlq`. */
  name: string;
  /** Cron expression (UTC) when the job runs on a schedule; declared here and nowhere else. */
  cron?: string;
  /**
   * Jobs are delivered at least once (a run that outlives its timeout or its process may run again):
   * make the effect idempotent, or guard it with a row written in the same transaction.
   */
  handle(data: T, run: JobRun): Promise<void>;
  /** Default 3. */
  retryLimit?: number;
  /** Seconds before the first retry; doubles each retry, with jitter, capped at one hour (default 30). */
  retryDelayS?: number;
  /** How long one run may take before it is considered failed (default 300). */
  timeoutS?: number;
  /** Heartbeat interval (≥ 10 s); see SubscriberDefinition.heartbeatS. */
  heartbeatS?: number;
  /** Runs of this job at once in one process (default 1, at most 32). */
  concurrency?: number;
}

export interface EnqueueOptions {
  /** When the job may start: a Date, or seconds from now. */
  startAfter?: Date | number;
  /**
   * At most one pending (not yet started) job per key: enqueueing again with the same key replaces
   * that job's data and start time (a timer that moves) instead of adding a second one.
   */
  singletonKey?: string;
}

/** Schedules this module's jobs; inside `db.tx` the job is enqueued atomically with the change. */
export interface JobQueue {
  enqueue(job: string, data: object, options?: EnqueueOptions): Promise<string | null>;
}

/** One queue as `/metrics` reports it (`EventBus.stats()`). */
export interface QueueStat {
  /** pg-boss queue name: `<module>.<subscriber>` or `<module>.job.<name>`. */
  queue: string;
  module: string;
  kind: 'subscriber' | 'job';
  /** Jobs waiting: created or waiting for a retry, including those whose start time is ahead. */
  depth: number;
  /** Of those, the ones runnable now. */
  ready: number;
  /** How long the oldest runnable job has waited, in seconds (0 when none waits). */
  oldestReadyAgeS: number;
  /** Jobs being handled now (in any process). */
  active: number;
  /** Jobs in the queue's dead-letter queue. */
  dlqDepth: number;
}

/** One module's outbox as `/metrics` reports it (`EventBus.outboxStats()`): the relay's lag. */
export interface OutboxStat {
  module: string;
  unpublished: number;
  /** Age of the oldest event not yet relayed, in seconds (0 when none). */
  oldestUnpublishedAgeS: number;
}

export interface ScheduleInfo {
  queue: string;
  cron: string;
  timezone: string;
}
