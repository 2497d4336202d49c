/** A sanctions list as the importers produce it, whatever its source format. */

export const LIST_FORMATS = ['ofsi', 'ofac-sdn-xml', 'ofac-sdn-csv'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];
/** The list a format belongs to: a new version of it supersedes the previous one. */
export type ListSource = 'ofsi' | 'ofac-sdn';
export const sourceOf = (format: ListFormat): ListSource => (format === 'ofsi' ? 'ofsi' : 'ofac-sdn');

export type EntityType = 'individual' | 'entity' | 'vessel' | 'aircraft';

export interface ListedName {
  name: string;
  /** Weak aliases (OFAC "weak", OFSI quality "Low") are kept for reviewers but not screened against. */
  kind: 'primary' | 'alias' | 'weak-alias';
}

export interface ListEntry {
  /** The list's own id: OFSI Group ID, OFAC uid / ent_num. */
  listRef: string;
  entityType: EntityType;
  names: ListedName[];
  /** ISO prefixes: '1952-10-07', '1952-10', '1952'. */
  datesOfBirth: string[];
  /** ISO 3166-1 alpha-2: nationality, citizenship, address countries. */
  countries: string[];
  programs: string[];
  details: Record<string, string[]>;
}

export interface ParsedList {
  format: ListFormat;
  /** The list's own date stamp as published (OFSI "Last Updated", OFAC Publish_Date). */
  publishedAt?: string;
  entries: ListEntry[];
}

/** Bounds on what one import may hold (the real lists are ~20k entries). */
export const ENTRIES_MAX = 100_000;
export const NAMES_PER_ENTRY_MAX = 100;
export const DETAIL_CHARS_MAX = 500;
