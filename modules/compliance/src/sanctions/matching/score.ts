/**
 * The matcher, in the shape of yente's logic-v1: several name features each give a weighted score,
 * the best one counts, and qualifiers (date of birth, country) move it up or down. Pure: the same
 * function scores an operator's query, a player's legal name and the benchmark's name pairs.
 *
 * Changing any weight or rule here changes decisions: bump ALGORITHM_VERSION, which is stored with
 * every screening (ADR 0011).
 */
import { compareDates } from './dates.ts';
import { fingerprint, nameTokens, PARTICLES, tokenWeight } from './normalize.ts';
import { soundAlike } from './phonetic.ts';
import { jaroWinkler, levenshteinRatio, osaDistance } from './similarity.ts';

export const ALGORITHM_VERSION = 'verity-logic-v1.1';

/** Weights of the name features (the best weighted one is the name score). */
export const NAME_FEATURES = {
  name_literal_match: 1.0,
  person_name_jaro_winkler: 0.85,
  person_name_phonetic_match: 0.9,
  name_fingerprint_levenshtein: 0.9,
} as const;

/** Qualifiers: added to the name score when they apply. */
export const QUALIFIERS = {
  dob_day_match: 0.1,
  dob_year_match: 0.05,
  dob_year_disjoint: -0.15,
  dob_day_disjoint: -0.2,
  country_match: 0.05,
  country_mismatch: -0.1,
} as const;

export type NameFeature = keyof typeof NAME_FEATURES;
export type Qualifier = keyof typeof QUALIFIERS;

/** Each token one name has and the other lacks (a middle name, a patronymic) costs this factor. */
const OMISSION_FACTOR = 0.9;
/** One significant token against several ("Ali" vs "Ali Hassan") is never enough for a hit. */
const SINGLE_TOKEN_FACTOR = 0.75;
/** Aligned tokens less similar than this are different names, not variants (yente: 0.5). */
const TOKEN_FLOOR = 0.5;
/** Phonetic agreement of very short tokens is coincidence. */
const PHONETIC_TOKEN_MIN = 3;
const INITIAL_SIMILARITY = 0.8;
/**
 * Jaro-Winkler rates "Abramov"/"Abramovich" or "Putin"/"Pushkin" highly; more edits than a typo or
 * a transliteration variant makes (1 in short tokens, 2 up to 8 letters, 3 beyond) mark a
 * different name, and cost this factor.
 */
const IMPLAUSIBLE_EDIT_FACTOR = 0.85;
/** Same letters, other spacing ("Abdurrashid" / "Abdul Rashid"): at most one edit apart. */
const COMPACT_SIMILARITY = 0.95;

export interface PreparedName {
  tokens: string[];
  fingerprint: string;
  compact: string;
}

export function prepareName(raw: string): PreparedName {
  const tokens = nameTokens(raw);
  return { tokens, fingerprint: fingerprint(tokens), compact: tokens.join('') };
}

type TokenSimilarity = (a: string, b: string) => number;

const isInitialOf = (a: string, b: string) => (a.length === 1 && b.startsWith(a)) || (b.length === 1 && a.startsWith(b));

const editsAllowed = (a: string, b: string) => {
  const shorter = Math.min(a.length, b.length);
  return shorter <= 4 ? 1 : shorter <= 8 ? 2 : 3;
};

const jwSimilarity: TokenSimilarity = (a, b) => {
  if (a === b) return 1;
  if (isInitialOf(a, b)) return INITIAL_SIMILARITY;
  if (a.length === 1 || b.length === 1) return 0;
  const jw = jaroWinkler(a, b);
  return osaDistance(a, b) > editsAllowed(a, b) ? jw * IMPLAUSIBLE_EDIT_FACTOR : jw;
};

const phoneticSimilarity: TokenSimilarity = (a, b) => {
  if (a === b) return 1;
  if (isInitialOf(a, b)) return INITIAL_SIMILARITY;
  return a.length >= PHONETIC_TOKEN_MIN && b.length >= PHONETIC_TOKEN_MIN && soundAlike(a, b) ? 1 : 0;
};

/** Tokens that identify: not particles (an initial counts: "V. Putin" names two parts). */
const significant = (tokens: readonly string[]) => tokens.filter((t) => !PARTICLES.has(t)).length;
const oneAgainstMany = (a: readonly string[], b: readonly string[]) => {
  const [sa, sb] = [significant(a), significant(b)];
  return Math.min(sa, sb) <= 1 && Math.max(sa, sb) >= 2;
};

/**
 * Aligns the tokens of two names in any order ("Putin Vladimir" meets "Vladimir Putin"), best
 * pairs first, until every token of the shorter name has a partner. The score is the product of
 * the pair similarities (each weighted by how much its tokens say: a particle counts less), so one
 * different name part sinks it, as in yente's aligned name parts; tokens only the longer name has
 * cost OMISSION_FACTOR each.
 */
export function alignedScore(a: readonly string[], b: readonly string[], similarity: TokenSimilarity): number {
  if (a.length === 0 || b.length === 0) return 0;
  const pairs: { i: number; j: number; s: number }[] = [];
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) pairs.push({ i, j, s: similarity(a[i]!, b[j]!) });
  pairs.sort((x, y) => y.s - x.s);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const wanted = Math.min(a.length, b.length);
  let score = 1;
  for (const { i, j, s } of pairs) {
    if (usedA.size === wanted) break;
    if (usedA.has(i) || usedB.has(j)) continue;
    if (s < TOKEN_FLOOR) return 0;
    usedA.add(i);
    usedB.add(j);
    score *= s ** ((tokenWeight(a[i]!) + tokenWeight(b[j]!)) / 2);
  }
  const omitted = [...a.filter((_, i) => !usedA.has(i)), ...b.filter((_, j) => !usedB.has(j))];
  for (const t of omitted) score *= 1 - (1 - OMISSION_FACTOR) * tokenWeight(t);
  return oneAgainstMany(a, b) ? score * SINGLE_TOKEN_FACTOR : score;
}

/** The name features of two prepared names, unweighted, each in [0, 1]. */
export function nameFeatures(q: PreparedName, n: PreparedName, person: boolean): Record<NameFeature, number> {
  const literal = q.fingerprint.length > 0 && (q.fingerprint === n.fingerprint || q.compact === n.compact) ? 1 : 0;
  // Edit distance over whole names suits organisations and vessels ("Petrochem Ltd" / "Petro-Chem
  // Limited"); for people it lets a different surname through, so people are compared by parts.
  const fingerprintRatio = person ? 0 : Math.max(levenshteinRatio(q.fingerprint, n.fingerprint), levenshteinRatio(q.compact, n.compact));
  const respaced = q.tokens.length !== n.tokens.length && q.compact.length >= 6 && osaDistance(q.compact, n.compact) <= 1 ? COMPACT_SIMILARITY : 0;
  return {
    name_literal_match: literal,
    person_name_jaro_winkler: Math.max(alignedScore(q.tokens, n.tokens, jwSimilarity), respaced),
    person_name_phonetic_match: alignedScore(q.tokens, n.tokens, phoneticSimilarity),
    name_fingerprint_levenshtein: oneAgainstMany(q.tokens, n.tokens) ? fingerprintRatio * SINGLE_TOKEN_FACTOR : fingerprintRatio,
  };
}

export interface NameScore {
  score: number;
  best: NameFeature;
  features: Record<NameFeature, number>;
}

/** Weighted name score: the best feature counts (logic-v1). */
export function scoreNames(q: PreparedName, n: PreparedName, person = true): NameScore {
  const features = nameFeatures(q, n, person);
  let best: NameFeature = 'name_literal_match';
  let score = 0;
  for (const f of Object.keys(NAME_FEATURES) as NameFeature[]) {
    const weighted = features[f] * NAME_FEATURES[f];
    if (weighted > score) [score, best] = [weighted, f];
  }
  return { score, best, features };
}

export interface ScreenQuery {
  name: PreparedName;
  /** ISO day. */
  dateOfBirth?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
}

export interface EntryFacts {
  /** People are compared by name parts; organisations, vessels and aircraft also by edit distance. */
  person: boolean;
  names: { name: string; prepared: PreparedName }[];
  datesOfBirth: readonly string[];
  countries: readonly string[];
}

export interface EntryScore {
  score: number;
  matchedName: string;
  nameScore: NameScore;
  qualifiers: Partial<Record<Qualifier, number>>;
  explanation: string[];
}

function qualifiersFor(query: ScreenQuery, entry: EntryFacts): Partial<Record<Qualifier, number>> {
  const out: Partial<Record<Qualifier, number>> = {};
  const dates = compareDates(query.dateOfBirth, entry.datesOfBirth);
  if (dates.dayMatch) out.dob_day_match = QUALIFIERS.dob_day_match;
  else if (dates.yearMatch) out.dob_year_match = QUALIFIERS.dob_year_match;
  if (dates.yearDisjoint) out.dob_year_disjoint = QUALIFIERS.dob_year_disjoint;
  if (dates.dayDisjoint) out.dob_day_disjoint = QUALIFIERS.dob_day_disjoint;
  if (query.country && entry.countries.length > 0) {
    if (entry.countries.includes(query.country)) out.country_match = QUALIFIERS.country_match;
    else out.country_mismatch = QUALIFIERS.country_mismatch;
  }
  return out;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Scores an entry: its best-matching name, then the qualifiers; clamped to [0, 1]. */
export function scoreEntry(query: ScreenQuery, entry: EntryFacts): EntryScore | undefined {
  let best: { name: string; s: NameScore } | undefined;
  for (const n of entry.names) {
    const s = scoreNames(query.name, n.prepared, entry.person);
    if (!best || s.score > best.s.score) best = { name: n.name, s };
  }
  if (!best || best.s.score === 0) return undefined;
  const qualifiers = qualifiersFor(query, entry);
  const adjusted = best.s.score + Object.values(qualifiers).reduce((sum, v) => sum + v, 0);
  const score = round3(Math.min(1, Math.max(0, adjusted)));
  const explanation = [
    `name "${best.name}": ${best.s.best} ${round3(best.s.features[best.s.best])} × ${NAME_FEATURES[best.s.best]} = ${round3(best.s.score)}`,
    ...Object.entries(qualifiers).map(([q, v]) => `${q} ${v > 0 ? '+' : ''}${v}`),
  ];
  return { score, matchedName: best.name, nameScore: best.s, qualifiers, explanation };
}
