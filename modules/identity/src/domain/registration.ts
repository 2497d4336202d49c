/** Rules of a player's registration that need no I/O. */

/** One spelling per mailbox for lookup: trimmed, NFKC, lower-case. */
export const normalizeEmail = (email: string): string => email.trim().normalize('NFKC').toLowerCase();

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const EARLIEST_BIRTH_YEAR = 1900;

/**
 * Why `dob` is not an acceptable date of birth, or undefined. Age limits are KYC's decision, not
 * registration's: an under-18 date is accepted here and refused where verification happens.
 */
export function dateOfBirthProblem(dob: string, today: Date): string | undefined {
  const m = DATE.exec(dob);
  if (!m) return 'must be a date as YYYY-MM-DD';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return 'is not a calendar date';
  if (y < EARLIEST_BIRTH_YEAR) return `must be after ${EARLIEST_BIRTH_YEAR}`;
  const startOfToday = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  if (date.getTime() >= startOfToday) return 'must be in the past';
  return undefined;
}
