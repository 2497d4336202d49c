/**
 * Password hashing (argon2id with the configured cost) and the acceptance check of a new password.
 */
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import { DomainError, type Config } from '@verity/kernel';
import type { BreachedPasswords } from './adapters/breached-passwords.ts';
import { normalizePassword, offlineRefusal, refusalDetail, type PasswordRefusal } from './domain/password-policy.ts';

// @node-rs/argon2 declares Algorithm as a const enum, which type-stripped code cannot reference.
const ARGON2ID = 2 as NonNullable<Options['algorithm']>;

export interface Passwords {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the time of one verification, so an unknown email answers as slowly as a wrong password. */
  verifyNothing(password: string): Promise<void>;
  /** True when the hash was made with other parameters than today's (rehash at the next sign-in). */
  needsRehash(passwordHash: string): boolean;
  /** Throws `password-rejected` (400) for a password that must not be used. */
  assertAcceptable(password: string, userInputs: readonly string[], pointer: string): Promise<void>;
}

export const passwordRejected = (reason: PasswordRefusal, pointer: string) =>
  new DomainError('password-rejected', 400, 'Password not accepted', refusalDetail[reason], { reason }, [{ pointer, detail: refusalDetail[reason] }]);

export async function createPasswords(config: Config, breached: BreachedPasswords): Promise<Passwords> {
  const options: Options = { algorithm: ARGON2ID, memoryCost: config.argon2MemoryKib, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism };
  const dummy = await hash('verity-timing-equaliser', options);
  return {
    hash: (password) => hash(normalizePassword(password), options),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, normalizePassword(password));
      } catch {
        return false;
      }
    },
    async verifyNothing(password) {
      await verify(dummy, normalizePassword(password)).catch(() => false);
    },
    needsRehash(passwordHash) {
      try {
        const p = parseOptions(passwordHash);
        return p.memoryCost !== options.memoryCost || p.timeCost !== options.timeCost || p.parallelism !== options.parallelism || p.algorithm !== ARGON2ID;
      } catch {
        return true;
      }
    },
    async assertAcceptable(password, userInputs, pointer) {
      const normalized = normalizePassword(password);
      const offline = await offlineRefusal(normalized, userInputs);
      if (offline) throw passwordRejected(offline, pointer);
      if ((await breached.isBreached(normalized)) === true) throw passwordRejected('breached', pointer);
    },
  };
}
