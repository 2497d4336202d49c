/**
 * Sign-in throttling by login identifier (the email's keyed hash), kept whether or not an account
 * has that email, so throttling reveals nothing about who is registered. The first failures are
 * free (typos); after that each failure locks the identifier for twice as long as the one before,
 * up to a cap: about a hundred guesses a day at most, while a real user is never locked out for good.
 */
export const FREE_FAILURES = 3;
export const LOCK_SECONDS_MAX = 15 * 60;

/** Seconds the identifier stays locked after its `failures`-th consecutive failure. */
export function lockSecondsAfter(failures: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(LOCK_SECONDS_MAX, 2 ** (failures - FREE_FAILURES - 1));
}

/** Whole seconds until `lockedUntil` (at least 1 while locked), or 0 when not locked. */
export function secondsLocked(lockedUntil: Date | null, now: Date): number {
  if (!lockedUntil) return 0;
  const ms = lockedUntil.getTime() - now.getTime();
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}
