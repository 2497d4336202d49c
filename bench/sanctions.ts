/**
 * Sanctions matcher benchmark: precision and recall of the screening score on a labelled set of
 * name pairs (modules/compliance/fixtures/name-pairs.json: transliterations, reordered names,
 * typos, titles, partial names, near-misses, unrelated names, and date/country qualifiers).
 *
 * A pair is predicted a match when its score reaches the hit threshold (0.70 by default, as
 * SANCTIONS_HIT_THRESHOLD). Also reported: the candidate band (cutoff ≤ score < threshold), recall
 * of candidate retrieval (the pair shares a retrieval key, so the database would find it), per
 * category figures, and the misclassified pairs. `node bench/sanctions.ts` prints ONE JSON document.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nameTokens } from '../modules/compliance/src/sanctions/matching/normalize.ts';
import { retrievalKeys } from '../modules/compliance/src/sanctions/matching/phonetic.ts';
import { ALGORITHM_VERSION, prepareName, scoreEntry } from '../modules/compliance/src/sanctions/matching/score.ts';

const PAIRS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'modules', 'compliance', 'fixtures', 'name-pairs.json');

interface Pair {
  id: number;
  category: string;
  match: boolean;
  a: string;
  b: string;
  aDateOfBirth?: string;
  aCountry?: string;
  bDatesOfBirth?: string[];
  bCountries?: string[];
}

interface Counts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 1000) / 1000);
const metrics = (c: Counts) => ({ ...c, precision: ratio(c.tp, c.tp + c.fp), recall: ratio(c.tp, c.tp + c.fn) });

export function scorePair(p: Pair): number {
  const entry = { person: true, names: [{ name: p.b, prepared: prepareName(p.b) }], datesOfBirth: p.bDatesOfBirth ?? [], countries: p.bCountries ?? [] };
  const query = { name: prepareName(p.a), ...(p.aDateOfBirth ? { dateOfBirth: p.aDateOfBirth } : {}), ...(p.aCountry ? { country: p.aCountry } : {}) };
  return scoreEntry(query, entry)?.score ?? 0;
}

const shareKey = (a: string, b: string) => {
  const keys = new Set(retrievalKeys(nameTokens(a)));
  return retrievalKeys(nameTokens(b)).some((k) => keys.has(k));
};

export async function runSanctionsBench(options: { threshold?: number; cutoff?: number } = {}): Promise<Record<string, unknown>> {
  const threshold = options.threshold ?? 0.7;
  const cutoff = options.cutoff ?? 0.5;
  const { pairs } = JSON.parse(await readFile(PAIRS_FILE, 'utf8')) as { pairs: Pair[] };
  const all: Counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const byCategory = new Map<string, Counts>();
  const errors: { id: number; category: string; a: string; b: string; expected: boolean; score: number }[] = [];
  let candidates = 0;
  let retrieved = 0;
  let matches = 0;
  const started = performance.now();
  for (const p of pairs) {
    const score = scorePair(p);
    const predicted = score >= threshold;
    if (!predicted && score >= cutoff) candidates++;
    const key = p.match ? (predicted ? 'tp' : 'fn') : predicted ? 'fp' : 'tn';
    all[key]++;
    const c = byCategory.get(p.category) ?? { tp: 0, fp: 0, tn: 0, fn: 0 };
    c[key]++;
    byCategory.set(p.category, c);
    if (predicted !== p.match) errors.push({ id: p.id, category: p.category, a: p.a, b: p.b, expected: p.match, score });
    if (p.match) {
      matches++;
      if (shareKey(p.a, p.b)) retrieved++;
    }
  }
  const elapsedMs = performance.now() - started;
  return {
    sanctions: {
      algorithm: ALGORITHM_VERSION,
      pairs: pairs.length,
      threshold,
      candidateCutoff: cutoff,
      ...metrics(all),
      candidateBand: candidates,
      retrievalRecall: ratio(retrieved, matches),
      pairsPerSecond: Math.round(pairs.length / (elapsedMs / 1000)),
      byCategory: Object.fromEntries([...byCategory].map(([k, c]) => [k, metrics(c)])),
      misclassified: errors,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runSanctionsBench(), null, 2));
}
