/**
 * Dates of birth as lists give them: a full day, a month, a year, a range of years, "circa". All
 * are kept as ISO prefixes ('1952-10-07', '1952-10', '1952') so precision is explicit, and
 * compared the way yente's qualifiers compare them.
 */

const MONTHS: Record<string, string> = {
  jan: '01', feb: '02', mar: '03', apr: '04', may: '05', jun: '06', jul: '07', aug: '08', sep: '09', oct: '10', nov: '11', dec: '12',
};
const YEAR_MIN = 1850;
const YEAR_MAX = 2100;
const RANGE_YEARS_MAX = 15;

const pad = (n: number) => String(n).padStart(2, '0');
const validYear = (y: number) => Number.isInteger(y) && y >= YEAR_MIN && y <= YEAR_MAX;

function isoDay(y: number, m: number, d: number): string | undefined {
  if (!validYear(y) || m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  return `${y}-${pad(m)}-${pad(d)}`;
}

function yearsBetween(from: number, to: number): string[] {
  if (!validYear(from) || !validYear(to) || to < from || to - from > RANGE_YEARS_MAX) return [];
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
}

/**
 * One date as OFAC (`07 Oct 1952`, `Oct 1952`, `1952`, `circa 1952`, `1950 to 1952`), OFSI
 * (`07/10/1952`, `00/00/1952`, `00/10/1952`) or ISO (`1952-10-07`) write it, as ISO prefixes.
 */
export function parseListDate(raw: string): string[] {
  const s = raw.trim().toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s))) return [isoDay(+m[1]!, +m[2]!, +m[3]!)].filter((x): x is string => !!x);
  if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s))) {
    const [d, mo, y] = [+m[1]!, +m[2]!, +m[3]!];
    if (!validYear(y)) return [];
    if (mo === 0) return [String(y)];
    if (d === 0) return mo <= 12 ? [`${y}-${pad(mo)}`] : [String(y)];
    return [isoDay(y, mo, d)].filter((x): x is string => !!x);
  }
  if ((m = /^(\d{1,2}) ([a-z]{3})[a-z]* (\d{4})$/.exec(s)) && MONTHS[m[2]!]) return [isoDay(+m[3]!, +MONTHS[m[2]!]!, +m[1]!)].filter((x): x is string => !!x);
  if ((m = /^([a-z]{3})[a-z]* (\d{4})$/.exec(s)) && MONTHS[m[1]!] && validYear(+m[2]!)) return [`${m[2]}-${MONTHS[m[1]!]}`];
  if ((m = /^(\d{4})$/.exec(s)) && validYear(+m[1]!)) return [m[1]!];
  if ((m = /^(?:circa|ca\.?|approximately|approx\.?) (\d{4})$/.exec(s))) return yearsBetween(+m[1]! - 1, +m[1]! + 1);
  if ((m = /^(\d{4}) ?(?:to|-|–) ?(\d{4})$/.exec(s))) return yearsBetween(+m[1]!, +m[2]!);
  return [];
}

/** OFSI puts several values in one cell: "(1) 12/03/1965 (2) 00/00/1966". */
export function splitNumbered(cell: string): string[] {
  const parts = cell.split(/\(\d+\)/).map((p) => p.trim()).filter(Boolean);
  return parts.length ? parts : [];
}

export interface DateComparison {
  /** A listed date agrees to the day. */
  dayMatch: boolean;
  /** A listed date (at whatever precision) agrees on the year. */
  yearMatch: boolean;
  /** Both sides have years and none agree. */
  yearDisjoint: boolean;
  /** Both sides have full days and none agree (nor with day and month swapped). */
  dayDisjoint: boolean;
}

const swapDayMonth = (iso: string) => `${iso.slice(0, 4)}-${iso.slice(8, 10)}-${iso.slice(5, 7)}`;

/** Compares a queried date of birth (ISO day) with an entry's listed dates. */
export function compareDates(query: string | undefined, listed: readonly string[]): DateComparison {
  const none = { dayMatch: false, yearMatch: false, yearDisjoint: false, dayDisjoint: false };
  if (!query || listed.length === 0) return none;
  const year = query.slice(0, 4);
  const years = new Set(listed.map((d) => d.slice(0, 4)));
  const days = listed.filter((d) => d.length === 10);
  const monthsOnly = listed.filter((d) => d.length === 7);
  const dayMatch = days.includes(query);
  const monthMatch = monthsOnly.includes(query.slice(0, 7));
  const swapped = days.includes(swapDayMonth(query));
  return {
    dayMatch,
    yearMatch: years.has(year) && (dayMatch || monthMatch || days.length === 0),
    yearDisjoint: !years.has(year),
    dayDisjoint: days.length > 0 && !dayMatch && !swapped && monthsOnly.length === 0,
  };
}
