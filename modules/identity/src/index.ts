/**
 * The identity module (the Cognito role): players and operators, credentials, MFA, sessions and
 * tokens. This file is its only import surface: the module definition, the service other modules
 * may call (in process or over HTTP), and the DTOs and events it publishes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '@verity/kernel';
import { noBreachedPasswordCheck, rangeApiClient } from './adapters/breached-passwords.ts';
import { notifierFromConfig } from './adapters/notifier.ts';
import { identityJobs } from './handlers.ts';
import { createPasswords } from './passwords.ts';
import { createRepository } from './repository.ts';
import { createSessionEnder } from './session-revocation.ts';
import { registerRoutes } from './routes.ts';
import { createIdentity } from './service.ts';
import type { AddressDto } from './contracts.ts';
import { createTokenIssuer } from './token-issuer.ts';

export {
  OPERATOR_CREATED_V1,
  PLAYER_REGISTERED_V1,
  PLAYER_ADDRESS_CHANGED_V1,
  SIGNED_IN_V1,
  type SignedInV1Data,
  type LoginResult,
  type OperatorCreatedV1Data,
  type PlayerRegisteredV1Data,
  type PlayerAddressChangedV1Data,
  type RegisterPlayerInput,
  type TokenSetDto,
  type AddressDto,
  type ChallengeDto,
  type MeDto,
  type OperatorDto,
} from './contracts.ts';

export interface BootstrapAdminResult {
  operatorId: string;
  email: string;
  /** In clear only here, once. */
  password: string;
  /** Base32 TOTP secret of the admin's active authenticator. */
  totpSecret: string;
}

export interface PlayerSummary {
  playerId: string;
  status: 'active' | 'suspended' | 'closed';
  /** ISO 3166-1 alpha-2 jurisdiction of registration. */
  country: string;
  /** When the player registered (a Date in process and across processes: the service codec keeps it). */
  createdAt: Date;
}

/**
 * The personal data KYC and sanctions screening need, decrypted. Service-to-service only (never on
 * the public API); a 410 `personal-data-erased` problem after erasure, 404 when unknown.
 */
export interface PlayerIdentity {
  playerId: string;
  legalName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  /** ISO 3166-1 alpha-2 jurisdiction of registration. */
  country: string;
  address: AddressDto;
}

/** What other modules (and tools) may ask identity, in process or over HTTP. */
export interface IdentityService {
  /** Creates an admin operator with an active TOTP factor (first start, tests, break-glass tooling). */
  bootstrapAdmin(input: { email: string; password?: string }): Promise<BootstrapAdminResult>;
  /** Non-personal facts about a player; 404 problem when unknown. */
  getPlayerSummary(playerId: string): Promise<PlayerSummary>;
  /** Legal name, date of birth, country and address of a player, for KYC and screening. */
  getPlayerIdentity(playerId: string): Promise<PlayerIdentity>;
  /**
   * A new token signing key signs from now on (scheduled, or at once after a suspected leak). The
   * previous keys stay in the JWKS until every token they signed has expired.
   */
  rotateSigningKey(): Promise<{ kid: string; publishedKids: string[] }>;
}

export const identityModule = defineModule<IdentityService>({
  name: 'identity',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['bootstrapAdmin', 'getPlayerSummary', 'getPlayerIdentity', 'rotateSigningKey'],
  async setup(ctx) {
    const repo = createRepository(ctx.db);
    const breached = ctx.config.breachedPasswordApiUrl ? rangeApiClient(ctx.config.breachedPasswordApiUrl, ctx.log) : noBreachedPasswordCheck;
    const passwords = await createPasswords(ctx.config, breached);
    const issuer = await createTokenIssuer({ db: ctx.db, repo, crypto: ctx.crypto, config: ctx.config, log: ctx.log });
    // Tokens of our own issuer are verified in process, with the keys just loaded.
    ctx.auth.setBuiltInVerifier(issuer.verifier());
    const notifier = await notifierFromConfig(ctx.config, ctx.log);
    const deps = { ...ctx, repo, passwords, issuer, notifier, sessionEnder: createSessionEnder(repo, ctx.auth) };
    const identity = createIdentity(deps);
    return {
      service: identity.service,
      routes: (app) => registerRoutes(app, { identity, issuer, auth: ctx.auth, idempotency: ctx.idempotency, config: ctx.config }),
      jobs: identityJobs(deps),
      start: () => identity.seedDemoAdmin(),
      stop: async () => notifier.close?.(),
    };
  },
});
