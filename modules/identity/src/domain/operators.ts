/** Operator roles, from the kernel's role catalogue, and who may change them. */
import { isOperatorRole, type OperatorRole } from '@verity/kernel';

/** Distinct, known operator roles in a stable order, or the first unknown one. */
export function normalizeRoles(roles: readonly string[]): { roles: OperatorRole[] } | { unknown: string } {
  const out = new Set<OperatorRole>();
  for (const r of roles) {
    if (!isOperatorRole(r)) return { unknown: r };
    out.add(r);
  }
  return { roles: [...out].sort() };
}

/** An admin cannot take the admin role from themselves: the last admin would lock everyone out. */
export function roleChangeRefusal(actorId: string, targetId: string, newRoles: readonly OperatorRole[]): string | undefined {
  if (actorId === targetId && !newRoles.includes('admin')) return 'You cannot remove the admin role from your own account. Ask another admin.';
  return undefined;
}

/**
 * List cursors: the last operator id of a page (UUIDv7, so creation order) as 22 base64url
 * characters. Opaque to clients; anything that does not decode to 16 bytes is not a cursor.
 */
export const encodeCursor = (id: string): string => Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');

export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(cursor)) return undefined;
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length !== 16 || bytes.toString('base64url') !== cursor) return undefined;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
