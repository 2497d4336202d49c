/**
 * Sanctions reactions and jobs: screening at registration (identity.player-registered.v1), the
 * batched re-screening of every player after a list changed, and the daily list download.
 */
import { isDomainError, type JobDefinition, type SubscriberDefinition } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { downloadList, ofacFormatOf } from './download.ts';
import type { ListFormat } from './lists/types.ts';
import type { SanctionsRepository } from './repository.ts';
import { RESCREEN_JOB, type Sanctions } from './service.ts';

export const DOWNLOAD_JOB = 'sanctions-download';
/** Daily (UTC), after OFSI and OFAC usually publish their overnight changes. */
const DOWNLOAD_CRON = '41 5 * * *';

export interface HandlerDeps {
  ctx: PartContext;
  repo: SanctionsRepository;
  sanctions: Sanctions;
}

export function registrationSubscriber(deps: HandlerDeps): SubscriberDefinition {
  return {
    name: 'sanctions-registration',
    events: ['identity.player-registered.v1'],
    retryLimit: 10,
    async handle(event) {
      const playerId = (event.data as { playerId?: unknown })?.playerId;
      if (typeof playerId !== 'string') return;
      try {
        await deps.sanctions.screenPlayer(playerId, 'registration');
      } catch (err) {
        // An erased (or never known) player cannot be screened and never will be: do not retry.
        if (isDomainError(err) && (err.status === 404 || err.status === 410)) return deps.ctx.log.warn({ playerId }, 'registered player unknown to identity; not screened');
        throw err;
      }
    },
  };
}

/**
 * One batch of a re-screening run, then the next batch as a new job: a long run survives restarts
 * (it resumes at the stored cursor) and never holds one job for the whole population.
 */
export function rescreenJob(deps: HandlerDeps, batchSize: number): JobDefinition<{ runId: string }> {
  const { ctx, repo, sanctions } = deps;
  return {
    name: RESCREEN_JOB,
    retryLimit: 5,
    retryDelayS: 30,
    timeoutS: 900,
    async handle({ runId }, run) {
      const state = await repo.run(runId);
      if (!state || state.status !== 'running') return;
      const players = await repo.playersAfter(state.cursor, batchSize);
      let [screened, hits, failed] = [0, 0, 0];
      for (const playerId of players) {
        if (run.signal.aborted) throw new Error('re-screening batch aborted');
        try {
          const result = await sanctions.screenPlayer(playerId, 'list-change');
          screened++;
          if (result.outcome === 'hit') hits++;
        } catch (err) {
          failed++;
          ctx.log.warn({ runId, playerId, err: (err as Error).message }, 'player not re-screened');
        }
      }
      const finished = players.length < batchSize;
      await ctx.db.tx(async () => {
        const moved = await repo.advanceRun(runId, state.cursor, { cursor: players.at(-1) ?? state.cursor, screened, hits, failed, finished });
        if (moved && !finished) await ctx.jobs.enqueue(RESCREEN_JOB, { runId }, { singletonKey: `rescreen:${runId}` });
      });
      if (finished) ctx.log.info({ runId, listId: state.listId }, 're-screening after a list change finished');
    },
  };
}

/** The daily download of the configured lists; not scheduled when no URL is configured. */
export function downloadJob(deps: HandlerDeps): JobDefinition<{ trigger?: string }> | undefined {
  const { ctx, sanctions } = deps;
  const { sanctionsOfsiUrl: ofsi, sanctionsOfacUrl: ofac, sanctionsDownloadTimeoutMs: timeoutMs, sanctionsImportMaxBytes: maxBytes } = ctx.config;
  if (!ofsi && !ofac) return undefined;
  const sources: { url: string; format: (bytes: Buffer) => ListFormat }[] = [
    ...(ofsi ? [{ url: ofsi, format: () => 'ofsi' as const }] : []),
    ...(ofac ? [{ url: ofac, format: ofacFormatOf }] : []),
  ];
  return {
    name: DOWNLOAD_JOB,
    cron: DOWNLOAD_CRON,
    retryLimit: 4,
    retryDelayS: 600,
    timeoutS: 1_800,
    async handle() {
      const failures: string[] = [];
      // One list failing must not keep the other from updating.
      for (const s of sources) {
        try {
          const bytes = await downloadList(s.url, { timeoutMs, maxBytes });
          const result = await sanctions.importList({ format: s.format(bytes), bytes, origin: 'download', actor: 'system' });
          ctx.log.info({ source: result.source, version: result.version, unchanged: result.unchanged, entries: result.entryCount }, 'sanctions list downloaded');
        } catch (err) {
          failures.push(`${new URL(s.url).host}: ${(err as Error).message}`);
        }
      }
      if (failures.length) throw new Error(`sanctions list download failed: ${failures.join('; ')}`);
    },
  };
}
