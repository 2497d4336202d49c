// PLACEHOLDER (helper "identity" replaces): JWT verification against configured issuers + guards.
import type { Config } from '../config.ts';
import { Problems } from '../errors.ts';
import type { AuthGuards } from '../module.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { TokenVerifier } from './types.ts';
export function createAuthGuards(_opts: { config: Config; log: Logger }): AuthGuards {
  let verifier: TokenVerifier | undefined;
  return {
    require: () => async () => { if (!verifier) throw Problems.unauthenticated(); },
    principal: () => { throw Problems.unauthenticated(); },
    setBuiltInVerifier(v) { verifier = v; },
  };
}
