// PLACEHOLDER (helper "identity" replaces)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '@verity/kernel';
export interface IdentityService { ping(): Promise<string> }
export const identityModule = defineModule<IdentityService>({
  name: 'identity',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['ping'],
  setup: () => ({ service: { ping: async () => 'pong' } }),
});
