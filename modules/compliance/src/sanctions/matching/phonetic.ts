/**
 * Phonetic keys (Double Metaphone) and the retrieval keys stored with every list name: a name's
 * candidates are the list names that share at least one key with it, found through a GIN index.
 */
import { doubleMetaphone } from 'double-metaphone';
import { PARTICLES } from './normalize.ts';

/** Both Double Metaphone codes of a token (one when they agree); none for digits-only tokens. */
export function phoneticCodes(token: string): string[] {
  if (!/[a-z]/.test(token)) return [];
  const [primary, secondary] = doubleMetaphone(token);
  const out = primary ? [primary] : [];
  if (secondary && secondary !== primary) out.push(secondary);
  return out;
}

/** True when two tokens share a Double Metaphone code. */
export function soundAlike(a: string, b: string): boolean {
  const codes = phoneticCodes(a);
  return phoneticCodes(b).some((c) => codes.includes(c));
}

/**
 * Retrieval keys of a name: per significant token its phonetic codes (`p:`), the token itself
 * (`t:`) and its first three letters (`x:`), so a typo that changes the sound still shares the
 * spelling of the other tokens or their prefix. Particles and initials give no keys: they would
 * make every "al-…" name a candidate of every other.
 */
export function retrievalKeys(tokens: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const t of tokens) {
    if (t.length < 2 || PARTICLES.has(t)) continue;
    keys.add(`t:${t}`);
    if (t.length >= 4) keys.add(`x:${t.slice(0, 3)}`);
    for (const c of phoneticCodes(t)) keys.add(`p:${c}`);
  }
  // A compound written as one word ("abdulrahman") meets its spaced form ("abdul rahman").
  const significant = tokens.filter((t) => !PARTICLES.has(t));
  for (let i = 0; i + 1 < significant.length; i++) keys.add(`t:${significant[i]}${significant[i + 1]}`);
  return [...keys];
}
