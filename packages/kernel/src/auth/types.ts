/** Who is calling, as established from a verified bearer token. */
export type PrincipalKind = 'player' | 'operator' | 'service';

export interface Principal {
  /** `sub` of the token: a player id, an operator id, or `service:<module>`. */
  subject: string;
  kind: PrincipalKind;
  roles: readonly string[];
  permissions: ReadonlySet<string>;
  /** Authentication methods (RFC 8176): `pwd`, `otp`, `hwk`, `svc`. */
  amr: readonly string[];
  /** When the user last authenticated (epoch seconds). */
  authTime: number;
  issuer: string;
  sessionId?: string;
  tokenId?: string;
}

/** Verifies a bearer token and returns its principal, or throws a DomainError (401). */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

export interface GuardOptions {
  /** Operator routes: `amr` must contain `otp` or `hwk`. */
  mfa?: boolean;
  /** Privileged actions: `auth_time` within STEP_UP_MAX_AGE_S. */
  stepUp?: boolean;
  /** Restrict to these principal kinds. */
  kinds?: readonly PrincipalKind[];
}
