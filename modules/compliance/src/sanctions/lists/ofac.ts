/**
 * The OFAC Specially Designated Nationals list, in its two published shapes:
 * - sdn.xml (schema http://tempuri.org/sdnList.xsd): <sdnList><publshInformation/> (OFAC's
 *   spelling) and one <sdnEntry> per target, with akaList, dateOfBirthList, nationalityList,
 *   citizenshipList, addressList, programList;
 * - sdn.csv: no header; ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage,
 *   GRT, Vess_flag, Vess_owner, Remarks, with "-0-" for empty. Aliases, dates of birth and
 *   nationalities live in Remarks ("DOB 07 Oct 1952; nationality Russia; a.k.a. 'X'").
 */
import { parse } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { parseListDate } from '../matching/dates.ts';
import { SanctionsProblems } from '../errors.ts';
import { countryCodes } from './countries.ts';
import { DETAIL_CHARS_MAX, ENTRIES_MAX, NAMES_PER_ENTRY_MAX, type EntityType, type ListEntry, type ListedName, type ParsedList } from './types.ts';

const ARRAYS = new Set(['sdnEntry', 'aka', 'program', 'nationality', 'citizenship', 'dateOfBirthItem', 'address', 'id', 'placeOfBirthItem']);

type Node = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '');
const list = (parent: unknown, container: string, item: string): Node[] => {
  const c = (parent as Node | undefined)?.[container] as Node | undefined;
  const items = c?.[item];
  return Array.isArray(items) ? (items as Node[]) : [];
};

function sdnType(raw: string): EntityType {
  const t = raw.trim().toLowerCase();
  if (t === 'individual') return 'individual';
  if (t === 'vessel') return 'vessel';
  if (t === 'aircraft') return 'aircraft';
  return 'entity';
}

const personName = (n: Node) => [text(n.firstName), text(n.lastName)].filter(Boolean).join(' ');

function xmlEntry(e: Node): ListEntry | undefined {
  const uid = text(e.uid);
  const primary = personName(e);
  if (!uid || !primary) return undefined;
  const names: ListedName[] = [{ name: primary, kind: 'primary' }];
  for (const aka of list(e, 'akaList', 'aka').slice(0, NAMES_PER_ENTRY_MAX - 1)) {
    const name = personName(aka);
    if (name) names.push({ name, kind: text(aka.category).toLowerCase() === 'weak' ? 'weak-alias' : 'alias' });
  }
  const countryNames = [
    ...list(e, 'nationalityList', 'nationality').map((n) => text(n.country)),
    ...list(e, 'citizenshipList', 'citizenship').map((n) => text(n.country)),
    ...list(e, 'addressList', 'address').map((n) => text(n.country)),
  ].filter(Boolean);
  const title = text(e.title);
  const remarks = text(e.remarks);
  return {
    listRef: uid,
    entityType: sdnType(text(e.sdnType)),
    names,
    datesOfBirth: [...new Set(list(e, 'dateOfBirthList', 'dateOfBirthItem').flatMap((d) => parseListDate(text(d.dateOfBirth))))],
    countries: countryCodes(countryNames),
    programs: [...new Set(list(e, 'programList', 'program').map(text).filter(Boolean))],
    details: { ...(title ? { titles: [title.slice(0, DETAIL_CHARS_MAX)] } : {}), ...(remarks ? { remarks: [remarks.slice(0, DETAIL_CHARS_MAX)] } : {}) },
  };
}

export function parseOfacXml(xml: string): ParsedList {
  let doc: Node;
  try {
    const parser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, isArray: (name) => ARRAYS.has(name), processEntities: true });
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw SanctionsProblems.listInvalid(`Not well-formed XML: ${(err as Error).message.slice(0, 200)}`);
  }
  const root = doc.sdnList as Node | undefined;
  if (!root) throw SanctionsProblems.listInvalid('No <sdnList> root element: this is not the OFAC SDN XML.');
  const raw = Array.isArray(root.sdnEntry) ? (root.sdnEntry as Node[]) : [];
  if (raw.length > ENTRIES_MAX) throw SanctionsProblems.listTooLarge(ENTRIES_MAX);
  const entries = raw.map(xmlEntry).filter((e): e is ListEntry => e !== undefined);
  if (entries.length === 0) throw SanctionsProblems.listInvalid('The list has no entries.');
  const published = text((root.publshInformation as Node | undefined)?.Publish_Date);
  return { format: 'ofac-sdn-xml', ...(published ? { publishedAt: published } : {}), entries };
}

const NULL = /^-0-\s*$/;
const cell = (v: string | undefined) => (v === undefined || NULL.test(v) ? '' : v.trim());

/** "PUTIN, Vladimir Vladimirovich" → "Vladimir Vladimirovich PUTIN" (individuals only). */
function csvName(raw: string, type: EntityType): string {
  if (type !== 'individual') return raw;
  const comma = raw.indexOf(',');
  return comma < 0 ? raw : `${raw.slice(comma + 1).trim()} ${raw.slice(0, comma).trim()}`.trim();
}

function remarksFacts(remarks: string): { aliases: ListedName[]; dates: string[]; countries: string[] } {
  const aliases: ListedName[] = [];
  for (const m of remarks.matchAll(/\b(a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s+'([^']{1,200})'/gi)) aliases.push({ name: m[2]!.trim(), kind: 'alias' });
  const dates = [...remarks.matchAll(/\bDOB ([^;.]{4,40})/g)].flatMap((m) => parseListDate(m[1]!));
  const countries = [...remarks.matchAll(/\b(?:nationality|citizen) ([^;.]{2,60})/gi)].map((m) => m[1]!.trim());
  return { aliases, dates, countries };
}

export function parseOfacCsv(csv: string): ParsedList {
  let rows: string[][];
  try {
    rows = parse(csv, { bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true, trim: false }) as string[][];
  } catch (err) {
    throw SanctionsProblems.listInvalid(`Not a readable CSV file: ${(err as Error).message.slice(0, 200)}`);
  }
  // Real files end with a SUB (0x1A) control line; anything whose first cell is not a number is not an entry.
  const data = rows.filter((r) => /^\d+$/.test((r[0] ?? '').trim()) && r.length >= 4);
  if (data.length === 0) throw SanctionsProblems.listInvalid('No rows of the form ent_num,"SDN_Name",SDN_Type,Program,…: this is not the OFAC SDN CSV.');
  if (data.length > ENTRIES_MAX) throw SanctionsProblems.listTooLarge(ENTRIES_MAX);
  const entries = data.map((r): ListEntry => {
    const type = sdnType(cell(r[2]) || 'entity');
    const remarks = cell(r[11]);
    const facts = remarksFacts(remarks);
    const title = cell(r[4]);
    return {
      listRef: r[0]!.trim(),
      entityType: type,
      names: [{ name: csvName(cell(r[1]), type), kind: 'primary' as const }, ...facts.aliases.map((a) => ({ ...a, name: csvName(a.name, type) }))].slice(0, NAMES_PER_ENTRY_MAX),
      datesOfBirth: [...new Set(facts.dates)],
      countries: countryCodes(facts.countries),
      programs: cell(r[3]).replace(/^\[|\]$/g, '').split(/\]\s*\[/).map((p) => p.trim()).filter(Boolean),
      details: { ...(title ? { titles: [title.slice(0, DETAIL_CHARS_MAX)] } : {}), ...(remarks ? { remarks: [remarks.slice(0, DETAIL_CHARS_MAX)] } : {}) },
    };
  }).filter((e) => e.names[0]!.name.length > 0);
  return { format: 'ofac-sdn-csv', entries };
}
