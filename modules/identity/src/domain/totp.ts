/**
 * TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), the parameters every authenticator app
 * supports. A code is accepted one step either side of "now" for clock drift, and only for a step
 * later than the last one used: a code seen once (shoulder-surfed, phished) cannot be replayed.
 */
import * as OTPAuth from 'otpauth';

export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
const WINDOW_STEPS = 1;

export const newTotpSecret = (): string => new OTPAuth.Secret({ size: 20 }).base32;

const totp = (secretBase32: string, label = 'account') =>
  new OTPAuth.TOTP({ issuer: 'Verity', label, secret: OTPAuth.Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: DIGITS, period: TOTP_PERIOD_S });

export const otpauthUri = (secretBase32: string, label: string): string => totp(secretBase32, label).toString();

export function totpCode(secretBase32: string, at: Date): string {
  return totp(secretBase32).generate({ timestamp: at.getTime() });
}

/**
 * The time step the code belongs to, or undefined when it is wrong or replays a step at or before
 * `lastUsedStep`.
 */
export function acceptTotp(secretBase32: string, code: string, now: Date, lastUsedStep: bigint | null): bigint | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const delta = totp(secretBase32).validate({ token: code, timestamp: now.getTime(), window: WINDOW_STEPS });
  if (delta === null) return undefined;
  const step = BigInt(Math.floor(now.getTime() / 1000 / TOTP_PERIOD_S) + delta);
  if (lastUsedStep !== null && step <= lastUsedStep) return undefined;
  return step;
}
