/**
 * LISTEN on one channel with a connection of its own, reconnecting with capped backoff. While the
 * connection is down nothing is heard, so every (re)connect and every drop is reported as a gap:
 * the caller reloads whatever a missed notification could have told it.
 */
import pg from 'pg';
import type { Logger } from '../telemetry/logger.ts';

const BACKOFF_MS_MIN = 500;
const BACKOFF_MS_MAX = 30_000;
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export interface Listener {
  stop(): Promise<void>;
}

export interface ListenOptions {
  connectionString: string;
  channel: string;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  log: Logger;
  onNotify(payload: string): void;
  /** Notifications may have been missed (connection established, lost or re-established). */
  onGap(): void;
}

export function listen(o: ListenOptions): Listener {
  if (!CHANNEL.test(o.channel)) throw new Error(`LISTEN channel "${o.channel}" must be a lower-case identifier`);
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let backoffMs = BACKOFF_MS_MIN;

  const drop = async (c: pg.Client) => {
    c.removeAllListeners('end');
    await c.end().catch(() => {});
    if (client === c) client = undefined;
  };

  const retry = () => {
    if (stopped || timer) return;
    o.onGap();
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, backoffMs);
    timer.unref();
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MS_MAX);
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString: o.connectionString, application_name: o.applicationName, keepAlive: true });
    client = c;
    c.on('error', (err) => {
      o.log.warn({ err, channel: o.channel }, 'LISTEN connection lost; reconnecting');
      void drop(c).then(retry);
    });
    c.on('end', () => {
      if (client === c) client = undefined;
      retry();
    });
    c.on('notification', (n) => {
      if (n.channel === o.channel) o.onNotify(n.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`listen ${o.channel}`);
      if (stopped) return void (await drop(c));
      backoffMs = BACKOFF_MS_MIN;
      o.onGap();
    } catch (err) {
      o.log.warn({ err, channel: o.channel }, 'LISTEN failed; retrying');
      await drop(c);
      retry();
    }
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) await drop(c);
    },
  };
}
