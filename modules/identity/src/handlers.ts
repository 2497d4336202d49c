/** Identity's jobs: no event subscriptions (identity reacts to no other domain), two housekeeping crons. */
import type { JobDefinition } from '@verity/kernel';
import type { Deps } from './shared.ts';

/** Expired challenges, reset tokens and refresh families are dead weight (and hashes of secrets). */
export function purgeExpiredJob(deps: Pick<Deps, 'repo' | 'clock' | 'log'>): JobDefinition {
  return {
    name: 'purge-expired',
    cron: '17 3 * * *',
    timeoutS: 300,
    async handle() {
      const purged = await deps.repo.purgeExpired(await deps.clock.now());
      deps.log.info({ purged }, 'expired sign-in records purged');
    },
  };
}

/**
 * Hourly, so a superseded key leaves the JWKS within an hour of its last token expiring; a new key
 * is made when the current one reaches KEY_ROTATE_AFTER_S. Both steps hold the signing-keys lock
 * and re-check, so a second run (another process, a retry) changes nothing.
 */
export function signingKeysJob(deps: Pick<Deps, 'clock' | 'log' | 'issuer'>): JobDefinition {
  return {
    name: 'signing-keys',
    cron: '41 * * * *',
    timeoutS: 120,
    async handle() {
      const now = await deps.clock.now();
      const retired = await deps.issuer.retireExpired(now);
      const rotated = await deps.issuer.rotateIfDue(now);
      if (retired.length || rotated) deps.log.info({ retired, rotated }, 'token signing keys maintained');
    },
  };
}

export function identityJobs(deps: Pick<Deps, 'repo' | 'clock' | 'log' | 'issuer'>): JobDefinition[] {
  return [purgeExpiredJob(deps), signingKeysJob(deps)];
}
