/**
 * Opaque tokens (refresh tokens, challenge sessions, reset tokens) and the refresh-token family
 * rules. Each is 256 random bits, so a plain SHA-256 is the right stored form (no salt or slow
 * hash needed: there is nothing to guess). A refresh token works once; presenting a used one
 * means two parties hold the family, so the whole family dies (OAuth 2.0 Security BCP §4.14).
 */
import { createHash, randomBytes } from 'node:crypto';

export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{43}$/;
export const newOpaqueToken = (): string => randomBytes(32).toString('base64url');
export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface RefreshTokenState {
  usedAt: Date | null;
  familyRevokedAt: Date | null;
  familyExpiresAt: Date;
  accountActive: boolean;
}

export type RefreshDecision = 'rotate' | 'reuse-detected' | 'family-ended' | 'account-inactive';

export function decideRefresh(state: RefreshTokenState, now: Date): RefreshDecision {
  if (state.familyRevokedAt) return 'family-ended';
  if (state.usedAt) return 'reuse-detected';
  if (state.familyExpiresAt.getTime() <= now.getTime()) return 'family-ended';
  if (!state.accountActive) return 'account-inactive';
  return 'rotate';
}

/** Methods (RFC 8176) behind a sign-in: the password, plus `otp` when a TOTP code was given. */
export const amrFor = (withOtp: boolean): string[] => (withOtp ? ['pwd', 'otp', 'mfa'] : ['pwd']);
