/** Opaque cursors of the skill lists: the last id of the page, base64url. */
import { Problems } from '@verity/kernel';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID.test(id)) throw Problems.validation([{ pointer: '/querystring/cursor', detail: 'is not a cursor this API returned' }]);
  return id;
}

/** Rows fetched with limit + 1: the page and the cursor of the next one. */
export function page<T, D>(rows: T[], limit: number, idOf: (row: T) => string, view: (row: T) => D): { items: D[]; nextCursor?: string } {
  const items = rows.slice(0, limit);
  return { items: items.map(view), ...(rows.length > limit ? { nextCursor: encodeCursor(idOf(items[items.length - 1]!)) } : {}) };
}
