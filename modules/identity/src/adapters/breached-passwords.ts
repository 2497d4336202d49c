/**
 * The breached-password port: the k-anonymity range API of Have I Been Pwned (or a mirror with
 * the same shape). Only 5 hex digits of the password's SHA-1 leave the platform; the response is
 * padded so its size says nothing either. The check fails open on timeout or error: the offline
 * common-password check still applies, and registration must not depend on a third party.
 */
import type { Logger } from '@verity/kernel';
import { rangeContains, rangeQuery } from '../domain/password-policy.ts';

export interface BreachedPasswords {
  /** true: known breached; false: not listed; undefined: could not tell. */
  isBreached(password: string): Promise<boolean | undefined>;
}

const RESPONSE_CHARS_MAX = 2_000_000;

export function rangeApiClient(baseUrl: string, log: Logger, timeoutMs = 2000): BreachedPasswords {
  return {
    async isBreached(password) {
      const { prefix, suffix } = rangeQuery(password);
      try {
        const res = await fetch(`${baseUrl}/range/${prefix}`, {
          headers: { 'add-padding': 'true', 'user-agent': 'verity-identity' },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) {
          log.warn({ status: res.status }, 'breached-password API answered an error; offline check only');
          return undefined;
        }
        const body = await res.text();
        return rangeContains(body.slice(0, RESPONSE_CHARS_MAX), suffix);
      } catch (err) {
        log.warn({ err: (err as Error).name }, 'breached-password API unreachable; offline check only');
        return undefined;
      }
    },
  };
}

export const noBreachedPasswordCheck: BreachedPasswords = { isBreached: async () => undefined };
