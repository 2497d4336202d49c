// The composition root's list of every module. A module not listed here does not exist.
import type { ModuleDefinition } from '@verity/kernel';
import { identityModule } from '@verity/identity';

export const allModules: readonly ModuleDefinition<any>[] = [identityModule];
