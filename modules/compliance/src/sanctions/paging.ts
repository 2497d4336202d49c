/** Opaque cursors over UUIDv7 ids (time-ordered), for the sanctions and AML lists. */
import { Problems } from '@verity/kernel';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');

/** A cursor the client sent back; anything this API did not hand out is a 400, never a 500. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID.test(id)) throw Problems.validation([{ pointer: '/querystring/cursor', detail: 'is not a cursor this API returned' }]);
  return id;
}

/** Rows were fetched with limit + 1: the extra one says there is a next page. */
export function page<T extends { id: string }>(rows: T[], limit: number): { items: T[]; nextCursor?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(items.at(-1)!.id) };
}
