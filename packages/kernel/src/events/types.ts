/** CloudEvents 1.0 envelope: the shape the outbox stores and EventBridge carries. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  /** `/verity/<module>` */
  source: string;
  /** `<module>.<event-name>.v<N>` */
  type: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  data: T;
  traceparent?: string;
}

export interface NewEvent<T = unknown> {
  type: string;
  subject?: string;
  data: T;
  /** Defaults to a new UUIDv7. */
  id?: string;
}

/** Writes events into the module's outbox; must run inside `db.tx`. */
export interface EventPublisher {
  publish<T>(event: NewEvent<T>): Promise<string>;
}

export interface SubscriberDefinition {
  /** Unique within the module; the queue is `<module>.<name>`. */
  name: string;
  /** Event types this subscriber receives. */
  events: readonly string[];
  /** Runs inside a transaction together with the inbox record: its database effects happen once. */
  handle(event: CloudEvent): Promise<void>;
  retryLimit?: number;
  /** Seconds before the first retry; doubles each retry. */
  retryDelayS?: number;
}

export interface JobDefinition<T extends object = Record<string, unknown>> {
  /** Unique within the module; the queue is `<module>.job.<name>`. */
  name: string;
  /** Cron expression (UTC) when the job runs on a schedule. */
  cron?: string;
  handle(data: T): Promise<void>;
  retryLimit?: number;
  retryDelayS?: number;
  /** How long one run may take before it is considered failed. */
  timeoutS?: number;
}

export interface EnqueueOptions {
  startAfter?: Date | number;
  singletonKey?: string;
}

/** Schedules this module's jobs; inside `db.tx` the job is enqueued atomically with the change. */
export interface JobQueue {
  enqueue(job: string, data: object, options?: EnqueueOptions): Promise<string | null>;
}
