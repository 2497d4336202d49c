/**
 * Ended sessions, refused at once by every process (ADR 0016). An access token lives up to
 * ACCESS_TOKEN_TTL_S; without this list a logout, a disabled operator or a password reset would
 * leave its tokens working until then. The guard asks an in-memory set (no query per request);
 * the set is loaded at start, told of each new revocation by LISTEN at commit, and reloaded after
 * any gap in notifications and every RELOAD_MS as a backstop.
 */
import type { Db } from '../db/db.ts';
import { listen, type Listener } from '../db/listen.ts';
import type { Logger } from '../telemetry/logger.ts';

export const SESSION_REVOKED_CHANNEL = 'verity_session_revoked';
const RELOAD_MS = 30_000;
/** Tokens are accepted up to this much after their `exp` by no verifier; keep rows that much longer. */
const CLOCK_SKEW_S = 60;
const REVOKE_BATCH_MAX = 10_000;

export interface SessionRevocations {
  /** Lists sessions as ended (joins the ambient transaction: they end when it commits). */
  revoke(sessionIds: readonly string[]): Promise<void>;
  isRevoked(sessionId: string): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSessionRevocations(o: { db: Db; connectionString: string; accessTokenTtlS: number; log: Logger }): SessionRevocations {
  let revoked = new Set<string>();
  let listener: Listener | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> | undefined;

  const load = async () => {
    const rows = await o.db.query<{ session_id: string }>('select session_id from kernel.revoked_sessions where expires_at > now()');
    revoked = new Set(rows.map((r) => r.session_id));
  };
  // One reload at a time; a notification heard meanwhile is added to whichever set wins.
  const reload = () => {
    reloading ??= load()
      .catch((err: unknown) => o.log.warn({ err }, 'could not reload revoked sessions; keeping the last list'))
      .finally(() => (reloading = undefined));
    return reloading;
  };

  return {
    async revoke(sessionIds) {
      if (sessionIds.length === 0) return;
      if (sessionIds.length > REVOKE_BATCH_MAX) throw new Error(`at most ${REVOKE_BATCH_MAX} sessions per call`);
      await o.db.query(
        `insert into kernel.revoked_sessions (session_id, expires_at)
         select unnest($1::text[]), now() + make_interval(secs => $2)
         on conflict (session_id) do update set expires_at = greatest(kernel.revoked_sessions.expires_at, excluded.expires_at)`,
        [sessionIds, o.accessTokenTtlS + CLOCK_SKEW_S],
      );
      // This process refuses them at once, even before the commit's notification comes back.
      for (const id of sessionIds) revoked.add(id);
    },
    isRevoked: (sessionId) => revoked.has(sessionId),
    async start() {
      await load();
      await o.db.query('delete from kernel.revoked_sessions where expires_at < now()');
      listener = listen({
        connectionString: o.connectionString,
        channel: SESSION_REVOKED_CHANNEL,
        applicationName: 'verity-session-revocations',
        log: o.log,
        onNotify: (sessionId) => revoked.add(sessionId),
        onGap: () => void reload(),
      });
      timer = setInterval(() => void reload(), RELOAD_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await listener?.stop();
      await reloading;
    },
  };
}
