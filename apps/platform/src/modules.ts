// The composition root's list of every module. A module not listed here does not exist.
import type { ModuleDefinition } from '@verity/kernel';
import { complianceModule } from '@verity/compliance';
import { identityModule } from '@verity/identity';
import { kycModule } from '@verity/kyc';
import { paymentsModule } from '@verity/payments';

export const allModules: readonly ModuleDefinition<any>[] = [identityModule, kycModule, paymentsModule, complianceModule];
