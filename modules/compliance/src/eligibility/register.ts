/**
 * The national self-exclusion register port (GAMSTOP in Great Britain) and its adapter. The adapter
 * speaks GAMSTOP's v2 single-check API: `POST /v2` with form fields firstName, lastName,
 * dateOfBirth (YYYY-MM-DD), email, postcode, mobile and an `X-API-Key` header; the answer is in the
 * `X-Exclusion` header: Y (excluded), N (not), P (previously excluded, no longer). The sandbox
 * (register-sandbox.ts) serves the same shape.
 */
import { DomainError } from '@verity/kernel';

export type RegisterStatus = 'Y' | 'N' | 'P';

export interface RegisterPerson {
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  postcode: string;
  email?: string;
}

export interface SelfExclusionRegister {
  readonly name: string;
  check(person: RegisterPerson): Promise<{ status: RegisterStatus; reference?: string }>;
}

/** Legal name → first and last name as a register expects them (first token, last token). */
export function splitName(legalName: string): { firstName: string; lastName: string } {
  const parts = legalName.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { firstName: '', lastName: '' };
  return { firstName: parts[0]!, lastName: parts.length > 1 ? parts[parts.length - 1]! : parts[0]! };
}

export const registerUnavailable = (detail: string) => new DomainError('self-exclusion-register-unavailable', 503, 'Self-exclusion register unavailable', detail);

export function gamstopRegister(options: { baseUrl: string | (() => string); apiKey: string; timeoutMs: number; name?: string }): SelfExclusionRegister {
  const base = typeof options.baseUrl === 'string' ? () => options.baseUrl as string : options.baseUrl;
  return {
    name: options.name ?? 'gamstop',
    async check(person) {
      const form = new URLSearchParams({
        firstName: person.firstName, lastName: person.lastName, dateOfBirth: person.dateOfBirth, postcode: person.postcode,
        email: person.email ?? '', mobile: '',
      });
      let res: Response;
      try {
        res = await fetch(`${base()}/v2`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': options.apiKey },
          body: form.toString(),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (err) {
        throw registerUnavailable(`The register did not answer: ${(err as Error).name}.`);
      }
      await res.arrayBuffer().catch(() => undefined);
      const status = res.headers.get('x-exclusion');
      if (res.status !== 200 || (status !== 'Y' && status !== 'N' && status !== 'P')) {
        throw registerUnavailable(`The register answered HTTP ${res.status}${status ? ` (X-Exclusion: ${status.slice(0, 5)})` : ''}.`);
      }
      const reference = res.headers.get('x-unique-id') ?? undefined;
      return { status, ...(reference ? { reference: reference.slice(0, 100) } : {}) };
    },
  };
}
