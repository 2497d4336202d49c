/** Opaque keyset cursors for newest-first lists (wallet, withdrawals, finance exceptions). */
import { Problems } from '@verity/kernel';

export const LIMIT_DEFAULT = 50;
export const LIMIT_MAX = 200;
const CURSOR_MAX_CHARS = 512;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Position {
  at: Date;
  id: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.at.toISOString(), p.id])).toString('base64url');
}

/** A cursor the client sent back: anything that is not one of ours is a 400, never a 500. */
export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined;
  const invalid = () => Problems.validation([{ pointer: '/query/cursor', detail: 'is not a cursor from a previous page' }]);
  if (cursor.length > CURSOR_MAX_CHARS) throw invalid();
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = typeof at === 'string' ? new Date(at) : undefined;
    if (!date || Number.isNaN(date.getTime()) || typeof id !== 'string' || !UUID.test(id)) throw invalid();
    return { at: date, id };
  } catch {
    throw invalid();
  }
}

/** Fetch one more than asked: its presence says whether there is a next page. */
export function page<T>(rows: T[], limit: number, position: (row: T) => Position): { items: T[]; nextCursor?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(position(items.at(-1)!)) };
}
