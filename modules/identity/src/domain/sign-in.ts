/**
 * The steps of a sign-in after a correct password, in Cognito's shape. The order matters:
 * - an enrolled second factor comes first, so a temporary password alone (mailed, read aloud,
 *   intercepted) cannot even choose the account's next password;
 * - then a temporary password is replaced (NEW_PASSWORD_REQUIRED);
 * - then an operator without a factor enrols one (MFA_SETUP_REQUIRED);
 * - then tokens.
 */
export type ChallengeName = 'MFA_REQUIRED' | 'NEW_PASSWORD_REQUIRED' | 'MFA_SETUP_REQUIRED';

/** How long a temporary password set by an admin works (Cognito's default, too). */
export const TEMPORARY_PASSWORD_TTL_S = 7 * 86400;

export interface SignInState {
  kind: 'player' | 'operator';
  mfaActive: boolean;
  /** The account's password is temporary (set by an admin). */
  temporaryPassword: boolean;
  /** A TOTP code was verified earlier in this sign-in. */
  mfaVerified: boolean;
}

/** The challenge still to answer, or undefined when the sign-in is complete. */
export function nextChallenge(s: SignInState): ChallengeName | undefined {
  if (s.mfaActive && !s.mfaVerified) return 'MFA_REQUIRED';
  if (s.temporaryPassword) return 'NEW_PASSWORD_REQUIRED';
  // Operators always need a second factor; players only once they enrolled one.
  if (s.kind === 'operator' && !s.mfaActive) return 'MFA_SETUP_REQUIRED';
  return undefined;
}

export const temporaryPasswordExpired = (expiresAt: Date | null, now: Date): boolean => expiresAt !== null && expiresAt.getTime() <= now.getTime();
