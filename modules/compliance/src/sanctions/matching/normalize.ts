/**
 * Name normalisation for screening: transliteration to ASCII, case, punctuation, diacritics,
 * titles and honorifics removed, tokens. Pure functions; the same code normalises list entries at
 * import and the names screened against them, so both sides always agree.
 */
import anyAscii from 'any-ascii';

/** Longest name we normalise; list names and legal names are far shorter. */
export const NAME_CHARS_MAX = 300;
const TOKENS_MAX = 12;

/**
 * Titles, honorifics and ranks as they appear in list entries ("Sheikh", "Col.", "Hajji") and in
 * what people type. They say nothing about who someone is, so they must neither help nor hurt a
 * match. Kept lower-case, after transliteration and punctuation removal. Words that are also common
 * surnames or given names (King, Major, Prince, Amir, General) are left in: dropping a real name
 * part costs more than keeping a rare title.
 */
const TITLES: ReadonlySet<string> = new Set([
  'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'doctor', 'prof', 'professor', 'sir', 'dame', 'lord', 'lady', 'hon', 'honourable', 'honorable',
  'rev', 'reverend', 'fr', 'father', 'pastor', 'bishop', 'imam', 'mullah', 'mulla', 'maulana', 'maulvi', 'mawlawi', 'mufti', 'qari', 'ayatollah',
  'sheikh', 'shaikh', 'shaykh', 'sheik', 'haji', 'hajji', 'alhaji', 'sayyid',
  'gen', 'col', 'colonel', 'lt', 'lieutenant', 'maj', 'capt', 'captain', 'cmdr', 'commander', 'adm', 'admiral', 'brig', 'brigadier',
  'sgt', 'sergeant', 'president', 'minister', 'excellency', 'jr', 'sr', 'esq', 'phd',
]);

/**
 * Name particles: real parts of a name ("al-Assad", "bin Laden", "van der Berg"), but so common
 * that agreeing on them says little. Scoring gives them a small weight instead of dropping them.
 */
export const PARTICLES: ReadonlySet<string> = new Set([
  'al', 'el', 'ul', 'bin', 'ben', 'ibn', 'bint', 'abu', 'abou', 'de', 'da', 'das', 'do', 'dos', 'del', 'della', 'der', 'den', 'di', 'du', 'la', 'le', 'van', 'von', 'y', 'e',
]);

/** Han, Hiragana/Katakana, Hangul: one transliterated syllable per character, as separate tokens. */
const SYLLABIC = /[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/u;

/** Transliterates to ASCII ("Владимир" → "Vladimir", "Müller" → "Muller", "金正恩" → "jin zheng en"). */
export function transliterate(raw: string): string {
  const input = raw.slice(0, NAME_CHARS_MAX);
  if (!SYLLABIC.test(input)) return anyAscii(input);
  let out = '';
  for (const ch of input) out += SYLLABIC.test(ch) ? ` ${anyAscii(ch)} ` : anyAscii(ch);
  return out;
}

/** Lower-case ASCII words: apostrophes join ("O'Brien" → "obrien"), other punctuation separates. */
export function words(raw: string): string[] {
  return transliterate(raw)
    .toLowerCase()
    .replace(/['`´’‘]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
}

/** The tokens of a name that count: words without titles, at most TOKENS_MAX. */
export function nameTokens(raw: string): string[] {
  const all = words(raw);
  const kept = all.filter((w) => !TITLES.has(w));
  // A name that is only a title ("Prince") keeps its words rather than becoming empty.
  return (kept.length ? kept : all).slice(0, TOKENS_MAX);
}

/** Canonical form of a name: its tokens in their order, space-separated. */
export function normalizeName(raw: string): string {
  return nameTokens(raw).join(' ');
}

/** Order-free form ("Putin Vladimir" and "Vladimir Putin" agree): sorted tokens. */
export function fingerprint(tokens: readonly string[]): string {
  return [...tokens].sort().join(' ');
}

/** Weight of a token in a name: particles and initials say less than full name parts. */
export function tokenWeight(token: string): number {
  if (PARTICLES.has(token)) return 0.3;
  if (token.length === 1) return 0.5;
  return 1;
}
