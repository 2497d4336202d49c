/**
 * The pass token: a compact signed string a passed attempt yields and a purchase consumes once.
 *
 *   vpt1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "vpt1." ‖ payload part))>
 *
 * payload = { tid: token id, pid: player id, cid: competition id, exp: epoch seconds, n?: placements }.
 * The key is the field-crypto keyed-hash key of purpose `skill.pass-token.v1` (derived from the
 * master key, the same in every process). Checking needs no database: signature, binding, expiry.
 * Pure apart from the HMAC function it is given.
 */
import { timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'vpt1.';
export const TOKEN_KEY_PURPOSE = 'skill.pass-token.v1';
const TOKEN_LENGTH_MAX = 1024;
const PART = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface PassTokenPayload {
  tokenId: string;
  playerId: string;
  competitionId: string;
  /** Epoch seconds. */
  exp: number;
  /** Spot-the-ball: tickets this token covers. */
  placements?: number;
}

/** HMAC-SHA256 as hex (ctx.crypto.keyedHash bound to the token purpose). */
export type Mac = (signingInput: string) => string;

export function signPassToken(p: PassTokenPayload, mac: Mac): string {
  const body = Buffer.from(JSON.stringify({ tid: p.tokenId, pid: p.playerId, cid: p.competitionId, exp: p.exp, ...(p.placements !== undefined ? { n: p.placements } : {}) })).toString('base64url');
  const signingInput = TOKEN_PREFIX + body;
  return `${signingInput}.${Buffer.from(mac(signingInput), 'hex').toString('base64url')}`;
}

export type TokenCheck =
  | { valid: true; payload: PassTokenPayload }
  | { valid: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-player' | 'wrong-competition' };

function parsePayload(part: string): PassTokenPayload | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const r = raw as { tid?: unknown; pid?: unknown; cid?: unknown; exp?: unknown; n?: unknown };
  if (typeof r.tid !== 'string' || !UUID.test(r.tid) || typeof r.cid !== 'string' || !UUID.test(r.cid)) return undefined;
  if (typeof r.pid !== 'string' || r.pid.length < 1 || r.pid.length > 64) return undefined;
  if (typeof r.exp !== 'number' || !Number.isSafeInteger(r.exp)) return undefined;
  if (r.n !== undefined && (typeof r.n !== 'number' || !Number.isInteger(r.n) || r.n < 1 || r.n > 100)) return undefined;
  return { tokenId: r.tid, playerId: r.pid, competitionId: r.cid, exp: r.exp, ...(r.n !== undefined ? { placements: r.n as number } : {}) };
}

/** Signature first (nothing in an unsigned token is believed), then binding, then expiry. */
export function checkPassToken(token: string, expect: { playerId: string; competitionId: string; nowMs: number }, mac: Mac): TokenCheck {
  if (typeof token !== 'string' || token.length > TOKEN_LENGTH_MAX || !token.startsWith(TOKEN_PREFIX)) return { valid: false, reason: 'malformed' };
  const parts = token.slice(TOKEN_PREFIX.length).split('.');
  if (parts.length !== 2 || !PART.test(parts[0]!) || !PART.test(parts[1]!)) return { valid: false, reason: 'malformed' };
  const given = Buffer.from(parts[1]!, 'base64url');
  const expected = Buffer.from(mac(TOKEN_PREFIX + parts[0]!), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'bad-signature' };
  const payload = parsePayload(parts[0]!);
  if (!payload) return { valid: false, reason: 'malformed' };
  if (payload.playerId !== expect.playerId) return { valid: false, reason: 'wrong-player' };
  if (payload.competitionId !== expect.competitionId.toLowerCase()) return { valid: false, reason: 'wrong-competition' };
  if (payload.exp * 1000 <= expect.nowMs) return { valid: false, reason: 'expired' };
  return { valid: true, payload };
}
