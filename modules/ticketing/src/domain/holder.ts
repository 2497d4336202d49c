/**
 * The holder commitment of an entry (TICKETING-SKILL-CONTRACT): evidence names a hash, never a
 * player. holder = hex(SHA-256(utf8("verity/holder/v1") ‖ 0x00 ‖ salt ‖ utf8(owner))), where owner
 * is the player id of a paid ticket and "postal:" + the postal entry id of a free one. The owner
 * sees the salt (listMyTickets) and can recompute their own holder.
 */
import { createHash, randomBytes } from 'node:crypto';

const DOMAIN = Buffer.from('verity/holder/v1', 'utf8');
const SEPARATOR = Buffer.from([0]);

export const newHolderSalt = (): string => randomBytes(32).toString('hex');

export function holderOf(saltHex: string, owner: string): string {
  return createHash('sha256').update(DOMAIN).update(SEPARATOR).update(Buffer.from(saltHex, 'hex')).update(Buffer.from(owner, 'utf8')).digest('hex');
}

export const postalOwner = (postalEntryId: string): string => `postal:${postalEntryId}`;
