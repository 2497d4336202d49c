/**
 * The matcher's building blocks with plain values: Jaro-Winkler against published values,
 * normalisation, dates as lists write them, the list parsers on the shipped real-format fixtures,
 * and the score's behaviour (reordering, transliteration, titles, qualifiers).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countryCode } from '../src/sanctions/lists/countries.ts';
import { parseOfacCsv, parseOfacXml } from '../src/sanctions/lists/ofac.ts';
import { parseOfsiCsv } from '../src/sanctions/lists/ofsi.ts';
import { compareDates, parseListDate } from '../src/sanctions/matching/dates.ts';
import { nameTokens, normalizeName } from '../src/sanctions/matching/normalize.ts';
import { retrievalKeys } from '../src/sanctions/matching/phonetic.ts';
import { prepareName, scoreEntry } from '../src/sanctions/matching/score.ts';
import { jaro, jaroWinkler, levenshtein, osaDistance } from '../src/sanctions/matching/similarity.ts';
import { listFixture } from './fixtures/sanctions-lists.ts';

const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 0.0001, `${what}: ${actual} ≠ ${expected}`);

describe('string similarity', () => {
  test('when Jaro and Jaro-Winkler compare the textbook pairs, then they give the published values', () => {
    // Winkler (1990) and the usual reference implementations: MARTHA/MARHTA, DWAYNE/DUANE, DIXON/DICKSONX.
    near(jaro('MARTHA', 'MARHTA'), 0.9444, 'jaro MARTHA');
    near(jaroWinkler('MARTHA', 'MARHTA'), 0.9611, 'jw MARTHA');
    near(jaro('DWAYNE', 'DUANE'), 0.8222, 'jaro DWAYNE');
    near(jaroWinkler('DWAYNE', 'DUANE'), 0.84, 'jw DWAYNE');
    near(jaro('DIXON', 'DICKSONX'), 0.7667, 'jaro DIXON');
    near(jaroWinkler('DIXON', 'DICKSONX'), 0.8133, 'jw DIXON');
    near(jaroWinkler('JELLYFISH', 'SMELLYFISH'), 0.8963, 'jw JELLYFISH (no common prefix: no boost)');
    near(jaroWinkler('CRATE', 'TRACE'), 0.7333, 'jw CRATE (below 0.7 boost threshold stays Jaro)');
    assert.equal(jaroWinkler('ABC', 'XYZ'), 0);
    assert.equal(jaroWinkler('', ''), 1);
    assert.equal(jaroWinkler('abc', ''), 0);
  });

  test('when edit distances are computed, then a swap of neighbours counts once only in OSA', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('lavorv', 'lavrov'), 2);
    assert.equal(osaDistance('lavorv', 'lavrov'), 1);
    assert.equal(osaDistance('abc', 'abc'), 0);
  });
});

describe('normalisation', () => {
  test('when names carry case, punctuation, diacritics, other scripts and titles, then they normalise to the same tokens', () => {
    assert.equal(normalizeName('Владимир Путин'), 'vladimir putin');
    assert.equal(normalizeName('  José  NÚÑEZ-García '), 'jose nunez garcia');
    assert.equal(normalizeName("Siobhán O'Connor"), 'siobhan oconnor');
    assert.equal(normalizeName('Sheikh Dr. Yusuf al-Qaradawi'), 'yusuf al qaradawi');
    assert.equal(normalizeName('Mr. Dmitry Medvedev Jr.'), 'dmitry medvedev');
    assert.deepEqual(nameTokens('김정은'), ['gim', 'jeong', 'eun']);
    // A surname that is also a title-like word stays.
    assert.equal(normalizeName('John Major'), 'john major');
    // A name that is only a title keeps its words rather than vanishing.
    assert.equal(normalizeName('Sheikh'), 'sheikh');
  });

  test('when retrieval keys are built, then spelling and sound variants share one', () => {
    const shared = (a: string, b: string) => retrievalKeys(nameTokens(a)).some((k) => retrievalKeys(nameTokens(b)).includes(k));
    assert.ok(shared('Muammar Gaddafi', 'Moammar Qadhafi'));
    assert.ok(shared('Abdurrashid Dostum', 'Abdul Rashid Dostum'));
    assert.ok(shared('Vladimr Ptin', 'Vladimir Putin'));
    assert.ok(!shared('Ada Lovelace', 'Vladimir Putin'));
  });
});

describe('dates of birth', () => {
  test('when lists write dates their ways, then they become ISO prefixes of the right precision', () => {
    assert.deepEqual(parseListDate('07 Oct 1952'), ['1952-10-07']);
    assert.deepEqual(parseListDate('Oct 1952'), ['1952-10']);
    assert.deepEqual(parseListDate('1952'), ['1952']);
    assert.deepEqual(parseListDate('circa 1971'), ['1970', '1971', '1972']);
    assert.deepEqual(parseListDate('1975 to 1977'), ['1975', '1976', '1977']);
    assert.deepEqual(parseListDate('07/10/1952'), ['1952-10-07']);
    assert.deepEqual(parseListDate('00/00/1952'), ['1952']);
    assert.deepEqual(parseListDate('00/10/1952'), ['1952-10']);
    assert.deepEqual(parseListDate('1952-10-07'), ['1952-10-07']);
    assert.deepEqual(parseListDate('sometime'), []);
    assert.deepEqual(parseListDate('31/02/1800'), []);
  });

  test('when a queried date is compared, then agreement and conflict are told apart by precision', () => {
    assert.equal(compareDates('1952-10-07', ['1952-10-07']).dayMatch, true);
    assert.equal(compareDates('1952-10-07', ['1952']).yearMatch, true);
    const sameYear = compareDates('1952-03-01', ['1952-10-07']);
    assert.deepEqual([sameYear.yearDisjoint, sameYear.dayDisjoint], [false, true]);
    const otherYear = compareDates('1990-10-07', ['1952-10-07']);
    assert.deepEqual([otherYear.yearDisjoint, otherYear.dayDisjoint], [true, true]);
    // Day and month swapped is not evidence against.
    assert.equal(compareDates('1976-05-10', ['1976-10-05']).dayDisjoint, false);
    assert.deepEqual(compareDates(undefined, ['1952']), { dayMatch: false, yearMatch: false, yearDisjoint: false, dayDisjoint: false });
  });
});

describe('scoring', () => {
  const entry = (names: string[], datesOfBirth: string[] = [], countries: string[] = []) => ({ person: true, names: names.map((name) => ({ name, prepared: prepareName(name) })), datesOfBirth, countries });
  const score = (query: string, e: ReturnType<typeof entry>, extra: { dateOfBirth?: string; country?: string } = {}) => scoreEntry({ name: prepareName(query), ...extra }, e)?.score ?? 0;
  const putin = entry(['Vladimir Vladimirovich PUTIN', 'Владимир Владимирович Путин'], ['1952-10-07'], ['RU']);

  test('when a listed name is reordered, transliterated, titled or mistyped, then it still scores as a hit', () => {
    for (const q of ['Putin Vladimir Vladimirovich', 'Владимир Путин', 'President Vladimir Putin', 'Vladimr Putin', 'PUTIN, Vladimir']) {
      assert.ok(score(q, putin) >= 0.7, `${q}: ${score(q, putin)}`);
    }
  });

  test('when a different person shares only a first name, then it is not a hit', () => {
    for (const q of ['Vladimir Popov', 'Ada Lovelace', 'Putin']) assert.ok(score(q, putin) < 0.7, `${q}: ${score(q, putin)}`);
  });

  test('when the date of birth or country agrees or conflicts, then the score moves up or down', () => {
    const plain = score('Vladimir Putin', putin);
    assert.ok(score('Vladimir Putin', putin, { dateOfBirth: '1952-10-07' }) > plain);
    assert.ok(score('Vladimir Putin', putin, { dateOfBirth: '1990-01-01' }) < plain);
    assert.ok(score('Vladimir Putin', putin, { country: 'RU' }) > plain);
    assert.ok(score('Vladimir Putin', putin, { country: 'GB' }) < plain);
    const result = scoreEntry({ name: prepareName('Vladimir Putin'), dateOfBirth: '1990-01-01', country: 'GB' }, putin)!;
    assert.ok(result.score < 0.7, 'a namesake with another birth year and country is no hit');
    assert.deepEqual(Object.keys(result.qualifiers).sort(), ['country_mismatch', 'dob_day_disjoint', 'dob_year_disjoint']);
    assert.ok(result.explanation.some((line) => line.includes('dob_year_disjoint')));
  });
});

describe('list formats', () => {
  test('when the OFSI consolidated list CSV is parsed, then rows of a group form one target with aliases, dates and nationalities', async () => {
    const list = parseOfsiCsv(await listFixture('ConList.csv'));
    assert.equal(list.publishedAt, '01/06/2026');
    assert.equal(list.entries.length, 14);
    const zawahiri = list.entries.find((e) => e.listRef === '6897')!;
    assert.equal(zawahiri.entityType, 'individual');
    assert.deepEqual(zawahiri.names.map((n) => n.kind), ['primary', 'alias', 'alias', 'weak-alias']);
    assert.deepEqual(zawahiri.datesOfBirth, ['1951-06-19']);
    assert.deepEqual(zawahiri.countries, ['EG']);
    const usmanov = list.entries.find((e) => e.listRef === '14204')!;
    assert.deepEqual(usmanov.countries.sort(), ['RU', 'UZ']);
    assert.equal(list.entries.find((e) => e.listRef === '990002')!.entityType, 'vessel');
  });

  test('when the OFAC SDN XML is parsed, then strong and weak aliases, partial dates and country names are kept', async () => {
    const list = parseOfacXml(await listFixture('sdn.xml'));
    assert.equal(list.publishedAt, '06/01/2026');
    assert.equal(list.entries.length, 12);
    const prigozhin = list.entries.find((e) => e.listRef === '22204')!;
    assert.equal(prigozhin.names.filter((n) => n.kind === 'weak-alias').length, 1);
    assert.deepEqual(prigozhin.programs, ['CYBER2', 'UKRAINE-EO13661', 'RUSSIA-EO14024']);
    assert.deepEqual(list.entries.find((e) => e.listRef === '20840')!.countries, ['KP']);
    assert.deepEqual(list.entries.find((e) => e.listRef === '990401')!.datesOfBirth, ['1988-03']);
    assert.equal(list.entries.find((e) => e.listRef === '306')!.entityType, 'entity');
  });

  test('when the OFAC SDN CSV is parsed, then names are turned around and remarks give aliases, dates and nationality', async () => {
    const list = parseOfacCsv(await listFixture('sdn.csv'));
    assert.equal(list.entries.length, 12);
    const kim = list.entries.find((e) => e.listRef === '20840')!;
    assert.equal(kim.names[0]!.name, 'Jong Un KIM');
    assert.deepEqual(kim.names.slice(1).map((n) => n.name), ['Jong-un KIM', 'Chong-un KIM']);
    assert.deepEqual(kim.datesOfBirth, ['1984-01-08', '1983-01-08']);
    assert.deepEqual(kim.countries, ['KP']);
  });

  test('when a file is not the format it claims, then it is refused with a reason', async () => {
    const ofsi = await listFixture('ConList.csv');
    assert.throws(() => parseOfsiCsv('a,b\n1,2\n'), { code: 'sanctions-list-invalid' });
    assert.throws(() => parseOfacXml('<notSdn/>'), { code: 'sanctions-list-invalid' });
    assert.throws(() => parseOfacXml('<sdnList><sdnEntry>'), { code: 'sanctions-list-invalid' });
    assert.throws(() => parseOfacCsv(ofsi), { code: 'sanctions-list-invalid' });
  });

  test('when countries are named the lists\' ways, then they map to ISO codes', () => {
    assert.equal(countryCode('Korea, North'), 'KP');
    assert.equal(countryCode('Russian Federation'), 'RU');
    assert.equal(countryCode('Iran (Islamic Republic of)'), 'IR');
    assert.equal(countryCode('United Kingdom'), 'GB');
    assert.equal(countryCode('Côte d’Ivoire'), 'CI');
    assert.equal(countryCode('Atlantis'), undefined);
  });
});
