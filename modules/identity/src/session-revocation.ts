/**
 * Ending a sign-in ends its access tokens too, in every process, from the commit on: the repository
 * records the family as revoked (no more refreshes) and the kernel lists its id (the tokens' `sid`)
 * as revoked, which every guard checks (ADR 0016). Without the second step a signed-out or disabled
 * operator's access token would keep working until it expires.
 */
import type { AuthGuards } from '@verity/kernel';
import type { Repository, RevokeReason } from './repository.ts';

export interface SessionEnder {
  /** Ends one sign-in. */
  endSession(familyId: string, reason: RevokeReason): Promise<void>;
  /** Ends every sign-in of an account; how many were live. */
  endAccountSessions(accountId: string, reason: RevokeReason): Promise<number>;
}

export function createSessionEnder(repo: Repository, auth: Pick<AuthGuards, 'revokeSessions'>): SessionEnder {
  return {
    async endSession(familyId, reason) {
      await repo.revokeFamily(familyId, reason);
      await auth.revokeSessions([familyId]);
    },
    async endAccountSessions(accountId, reason) {
      const ended = await repo.revokeAccountFamilies(accountId, reason);
      await auth.revokeSessions(ended);
      return ended.length;
    },
  };
}
