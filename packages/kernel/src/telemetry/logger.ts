import pino from 'pino';

export type Logger = pino.Logger;

/** Keys whose values never reach a log line (personal data, secrets). */
export const REDACTED_PATHS = [
  'password', '*.password', 'newPassword', '*.newPassword', 'email', '*.email', 'legalName', '*.legalName',
  'dateOfBirth', '*.dateOfBirth', 'address', '*.address', 'token', '*.token', 'refreshToken', '*.refreshToken',
  'accessToken', '*.accessToken', 'secret', '*.secret', 'code', '*.code',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["idempotency-key"]',
];

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'verity', ...base },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
