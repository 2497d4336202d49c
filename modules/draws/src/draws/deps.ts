/** What the parts of the draws module share: context, repository, beacons, settings, other services. */
import type { ComplianceService } from '@verity/compliance';
import type { ModuleContext } from '@verity/kernel';
import type { PaymentsService } from '@verity/payments';
import type { TicketingService } from '@verity/ticketing';
import type { Beacons } from '../beacon/setup.ts';
import type { DrawsSettings } from '../settings.ts';
import type { DrawsRepository } from './repository.ts';

export interface DrawsDeps {
  ctx: ModuleContext;
  repo: DrawsRepository;
  beacons: Beacons;
  settings: DrawsSettings;
  ticketing(): TicketingService;
  payments(): PaymentsService;
  compliance(): ComplianceService;
}
