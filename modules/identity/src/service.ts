/**
 * Identity use cases: player registration, the demo seed, and the service other modules call.
 * Sign-in, MFA, password reset, operators and the own profile live in their own files;
 * `createIdentity` puts them together for the routes.
 */
import { Problems, uuidv7 } from '@verity/kernel';
import { PLAYER_REGISTERED_V1, type AddressDto, type PlayerRegisteredV1Data, type RegisterPlayerInput } from './contracts.ts';
import { personalInputs } from './domain/password-policy.ts';
import { dateOfBirthProblem, normalizeEmail } from './domain/registration.ts';
import { otpauthUri } from './domain/totp.ts';
import type { BootstrapAdminResult, IdentityService, PlayerIdentity, PlayerSummary } from './index.ts';
import { createMfa } from './mfa.ts';
import { createOperators } from './operators.ts';
import { createPasswordReset } from './password-reset.ts';
import { createProfile } from './profile.ts';
import { createSessions } from './sessions.ts';
import { emailHash, IdentityProblems, insertOrConflict, type Deps } from './shared.ts';

export const DEMO_ADMIN_EMAIL = 'admin@verity.local';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createRegistration(deps: Deps) {
  const { repo, crypto, clock, audit, events, passwords } = deps;

  async function registerPlayer(input: RegisterPlayerInput): Promise<{ playerId: string; status: 'active' }> {
    const dobProblem = dateOfBirthProblem(input.dateOfBirth, await clock.now());
    if (dobProblem) throw Problems.validation([{ pointer: '/body/dateOfBirth', detail: dobProblem }]);
    const email = normalizeEmail(input.email);
    await passwords.assertAcceptable(input.password, personalInputs([email.split('@')[0], input.legalName]), '/body/password');
    const hash = emailHash(crypto, email);
    if (await repo.emailHashTaken(hash)) throw IdentityProblems.emailUnavailable();
    const playerId = uuidv7();
    const passwordHash = await passwords.hash(input.password);
    const [emailEnc, legalNameEnc, dateOfBirthEnc, addressEnc] = await Promise.all([
      crypto.encrypt(playerId, email),
      crypto.encrypt(playerId, input.legalName),
      crypto.encrypt(playerId, input.dateOfBirth),
      crypto.encrypt(playerId, JSON.stringify(input.address)),
    ]);
    await insertOrConflict(deps, playerId, async () => {
      await repo.insertAccount({ id: playerId, kind: 'player', emailHash: hash, emailEnc, passwordHash });
      const registeredAt = await repo.insertPlayer({ accountId: playerId, legalNameEnc, dateOfBirthEnc, addressEnc, country: input.country });
      const data: PlayerRegisteredV1Data = { playerId, country: input.country, registeredAt: registeredAt.toISOString() };
      await events.publish({ type: PLAYER_REGISTERED_V1, subject: playerId, data });
      await audit.record({ actor: `player:${playerId}`, action: 'identity.player-registered', subject: `player:${playerId}`, data: { country: input.country } });
    });
    return { playerId, status: 'active' };
  }

  return { registerPlayer };
}

function printDemoAdmin(admin: BootstrapAdminResult): void {
  const line = '='.repeat(78);
  console.log(
    [
      '',
      line,
      '  Verity demo admin operator: SHOWN ONLY ONCE (not stored in clear anywhere)',
      line,
      `  email        ${admin.email}`,
      `  password     ${admin.password}`,
      `  TOTP secret  ${admin.totpSecret}`,
      `  otpauth URI  ${otpauthUri(admin.totpSecret, admin.email)}`,
      '',
      '  Add the secret (or the URI as a QR code) to an authenticator app, then sign in with',
      '  POST /v1/auth/login and answer MFA_REQUIRED with POST /v1/auth/challenge.',
      line,
      '',
    ].join('\n'),
  );
}

export function createIdentity(deps: Deps) {
  const sessions = createSessions(deps);
  const mfa = createMfa(deps, sessions);
  const reset = createPasswordReset(deps);
  const registration = createRegistration(deps);
  const operators = createOperators(deps);
  const profile = createProfile(deps);

  /** First start of a demo installation: an admin, printed once. Another process may win the race. */
  async function seedDemoAdmin(): Promise<void> {
    if (!deps.config.seedDemo || (await deps.repo.operatorCount()) > 0) return;
    try {
      printDemoAdmin(await operators.bootstrapAdmin({ email: DEMO_ADMIN_EMAIL }));
    } catch (err) {
      if ((err as { code?: string }).code !== 'email-unavailable') throw err;
    }
  }

  async function getPlayerSummary(playerId: string): Promise<PlayerSummary> {
    const s = UUID.test(playerId) ? await deps.repo.playerSummary(playerId) : undefined;
    if (!s) throw Problems.notFound('player');
    // `disabled` is for operators only; a player is active, suspended or closed.
    const status = s.status === 'disabled' ? 'suspended' : s.status;
    return { playerId: s.playerId, status, country: s.country, createdAt: s.registeredAt };
  }

  async function getPlayerIdentity(playerId: string): Promise<PlayerIdentity> {
    const r = UUID.test(playerId) ? await deps.repo.playerProfile(playerId) : undefined;
    if (!r) throw Problems.notFound('player');
    const [legalName, dateOfBirth, address] = await Promise.all([r.legalNameEnc, r.dateOfBirthEnc, r.addressEnc].map((c) => deps.crypto.decrypt(playerId, c)));
    return { playerId, legalName: legalName!, dateOfBirth: dateOfBirth!, country: r.country, address: JSON.parse(address!) as AddressDto };
  }

  const service: IdentityService = {
    bootstrapAdmin: operators.bootstrapAdmin,
    getPlayerSummary,
    getPlayerIdentity,
    rotateSigningKey: () => deps.issuer.rotate(),
  };
  return { service, sessions, mfa, reset, registration, operators, profile, seedDemoAdmin };
}

export type Identity = ReturnType<typeof createIdentity>;
