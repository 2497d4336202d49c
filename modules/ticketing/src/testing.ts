/**
 * Test support (`@verity/ticketing/testing`): the module with crash failpoints, so recovery tests
 * can leave a purchase exactly where a crash between two steps would leave it.
 */
import type { Failpoints } from './contract.ts';
import { defineTicketingModule } from './index.ts';

export type { Failpoints };

/** Thrown by a failpoint: the request fails there (HTTP 500), as a crashed process would stop. */
export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

type Predicate = (purchase: { purchaseId: string; playerId: string }) => boolean;

/** The module whose purchases stop after the given step when the predicate says so. */
export function ticketingModuleWithCrashes(crashes: { afterReserve?: Predicate; afterIssue?: Predicate }) {
  return defineTicketingModule({
    afterReserve(p) {
      if (crashes.afterReserve?.(p)) throw new SimulatedCrash(`crash after reserve of ${p.purchaseId}`);
    },
    afterIssue(p) {
      if (crashes.afterIssue?.(p)) throw new SimulatedCrash(`crash after issue of ${p.purchaseId}`);
    },
  });
}
