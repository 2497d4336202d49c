/**
 * Password policy (NIST SP 800-63B): length 12..128, no composition rules, refuse passwords that are
 * common, guessable from the user's own details, or known breached. zxcvbn's score estimates guesses
 * with the common-password and diceware dictionaries; 3 means "safely unguessable" for online attacks.
 */
import { createHash } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

export const PASSWORD_CHARS_MIN = 12;
export const PASSWORD_CHARS_MAX = 128;
export const PASSWORD_SCORE_MIN = 3;

export type PasswordRefusal = 'too-short' | 'too-long' | 'too-guessable' | 'personal-info' | 'breached' | 'unchanged';

let estimator: ZxcvbnFactory | undefined;
const zxcvbn = () => (estimator ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs }));

/** Unicode-equivalent spellings of a password must hash the same (NFKC, as 800-63B advises). */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

/** Words of the user's own details, so "Jane.Doe.1990!" is judged as guessable by people who know Jane. */
export function personalInputs(values: readonly (string | undefined)[]): string[] {
  return values.flatMap((v) => (v ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length >= 3).slice(0, 20);
}

/** Offline checks: length and guessability. `undefined` means acceptable. */
export async function offlineRefusal(password: string, userInputs: readonly string[]): Promise<PasswordRefusal | undefined> {
  const chars = [...password].length;
  if (chars < PASSWORD_CHARS_MIN) return 'too-short';
  if (chars > PASSWORD_CHARS_MAX) return 'too-long';
  const result = await zxcvbn().check(password, [...userInputs]);
  if (result.score < PASSWORD_SCORE_MIN) return 'too-guessable';
  // Someone who targets this person knows their name and email: built on those, only the top score will do.
  const personal = result.sequence.some((m) => (m as { dictionaryName?: string }).dictionaryName === 'userInputs');
  return personal && result.score < 4 ? 'personal-info' : undefined;
}

export const refusalDetail: Record<PasswordRefusal, string> = {
  'too-short': `Use at least ${PASSWORD_CHARS_MIN} characters.`,
  'too-long': `Use at most ${PASSWORD_CHARS_MAX} characters.`,
  'too-guessable': 'This password is too common or too easy to guess. A few unrelated words make a strong one.',
  'personal-info': 'This password is built on your own name or email address. Choose one that is not about you.',
  breached: 'This password appears in known data breaches. Choose another one.',
  unchanged: 'Choose a new password: the temporary one was seen by the person who set it.',
};

/** k-anonymity (Have I Been Pwned range API): only the first 5 hex digits of the SHA-1 leave us. */
export function rangeQuery(password: string): { prefix: string; suffix: string } {
  const sha1 = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
  return { prefix: sha1.slice(0, 5), suffix: sha1.slice(5) };
}

/** True when `suffix` is listed with a count above zero (padding entries carry count 0). */
export function rangeContains(body: string, suffix: string): boolean {
  for (const line of body.split(/\r?\n/)) {
    const [s, count] = line.trim().split(':');
    if (s?.toUpperCase() === suffix && Number(count) > 0) return true;
  }
  return false;
}
