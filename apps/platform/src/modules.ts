// The composition root's list of every module. A module not listed here does not exist.
// Order matters only for readability: a module's service is looked up when it is called.
import type { ModuleDefinition } from '@verity/kernel';
import { complianceModule } from '@verity/compliance';
import { drawsModule } from '@verity/draws';
import { identityModule } from '@verity/identity';
import { kycModule } from '@verity/kyc';
import { paymentsModule } from '@verity/payments';
import { skillModule } from '@verity/skill';
import { ticketingModule } from '@verity/ticketing';

export const allModules: readonly ModuleDefinition<any>[] = [identityModule, kycModule, paymentsModule, complianceModule, skillModule, ticketingModule, drawsModule];
