/**
 * The UK OFSI Consolidated List of Financial Sanctions Targets, CSV edition (ConList.csv): a
 * "Last Updated" line, a header row, then one row per NAME, rows of one target sharing a Group ID.
 * Columns are found by their header, so added or reordered columns do not break the import.
 * Several values in one cell are numbered: "(1) 12/03/1965 (2) 00/00/1966".
 */
import { parse } from 'csv-parse/sync';
import { parseListDate, splitNumbered } from '../matching/dates.ts';
import { SanctionsProblems } from '../errors.ts';
import { countryCodes } from './countries.ts';
import { DETAIL_CHARS_MAX, ENTRIES_MAX, NAMES_PER_ENTRY_MAX, type EntityType, type ListEntry, type ListedName, type ParsedList } from './types.ts';

const REQUIRED = ['Name 6', 'Group Type', 'Group ID'];
const GIVEN = ['Name 1', 'Name 2', 'Name 3', 'Name 4', 'Name 5'];

type Row = Record<string, string>;

function entityType(groupType: string): EntityType {
  const t = groupType.trim().toLowerCase();
  if (t === 'individual') return 'individual';
  if (t === 'ship') return 'vessel';
  return 'entity';
}

function nameOf(row: Row): string {
  const parts = [...GIVEN.map((c) => row[c] ?? ''), row['Name 6'] ?? ''].map((p) => p.trim()).filter(Boolean);
  return parts.join(' ');
}

function nameKind(row: Row): ListedName['kind'] {
  const quality = (row['Alias Quality'] ?? '').trim().toLowerCase();
  if (quality === 'low') return 'weak-alias';
  return /^primary name$/i.test((row['Alias Type'] ?? '').trim()) ? 'primary' : 'alias';
}

const cellValues = (cell: string | undefined) => (cell ? splitNumbered(cell) : []);
const bounded = (values: string[]) => [...new Set(values.map((v) => v.slice(0, DETAIL_CHARS_MAX)).filter(Boolean))];

function addRow(entry: ListEntry, row: Row): void {
  const name = nameOf(row);
  if (name && entry.names.length < NAMES_PER_ENTRY_MAX && !entry.names.some((n) => n.name === name)) entry.names.push({ name, kind: nameKind(row) });
  const script = (row['Name Non-Latin Script'] ?? '').trim();
  if (script && entry.names.length < NAMES_PER_ENTRY_MAX && !entry.names.some((n) => n.name === script)) entry.names.push({ name: script, kind: 'alias' });
  entry.datesOfBirth.push(...cellValues(row.DOB).flatMap(parseListDate));
  entry.countries.push(...countryCodes([...cellValues(row.Nationality), ...cellValues(row.Country), ...cellValues(row['Country of Birth'])]));
  if (row.Regime) entry.programs.push(row.Regime.trim());
  for (const [column, field] of [['Title', 'titles'], ['Position', 'positions'], ['Other Information', 'remarks']] as const) {
    const v = (row[column] ?? '').trim();
    if (v) (entry.details[field] ??= []).push(v);
  }
}

function records(text: string): string[][] {
  try {
    return parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true }) as string[][];
  } catch (err) {
    throw SanctionsProblems.listInvalid(`Not a readable CSV file: ${(err as Error).message.slice(0, 200)}`);
  }
}

export function parseOfsiCsv(text: string): ParsedList {
  const rows = records(text);
  const headerAt = rows.findIndex((r) => r[0]?.trim() === 'Name 6');
  if (headerAt < 0) throw SanctionsProblems.listInvalid('No "Name 6, Name 1, …" header row: this is not the OFSI consolidated list CSV.');
  const header = rows[headerAt]!.map((h) => h.trim());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length) throw SanctionsProblems.listInvalid(`Missing columns: ${missing.join(', ')}.`);
  const updated = rows.slice(0, headerAt).find((r) => /last updated/i.test(r[0] ?? ''));
  const byGroup = new Map<string, ListEntry>();
  for (const cells of rows.slice(headerAt + 1)) {
    const row: Row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    const groupId = row['Group ID']!.trim();
    if (!groupId) continue;
    let entry = byGroup.get(groupId);
    if (!entry) {
      if (byGroup.size >= ENTRIES_MAX) throw SanctionsProblems.listTooLarge(ENTRIES_MAX);
      entry = { listRef: groupId, entityType: entityType(row['Group Type'] ?? ''), names: [], datesOfBirth: [], countries: [], programs: [], details: {} };
      byGroup.set(groupId, entry);
    }
    addRow(entry, row);
  }
  const entries = [...byGroup.values()].filter((e) => e.names.length > 0).map((e) => ({
    ...e,
    datesOfBirth: [...new Set(e.datesOfBirth)],
    countries: [...new Set(e.countries)],
    programs: bounded(e.programs),
    details: Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, bounded(v)])),
  }));
  if (entries.length === 0) throw SanctionsProblems.listInvalid('The list has no entries.');
  return { format: 'ofsi', ...(updated?.[1] ? { publishedAt: updated[1].trim() } : {}), entries };
}
