/**
 * How eligibility learns: identity registrations (the player's row, the age and national register
 * checks), kyc verification changes (the read model eligibility answers from), payments' purchase
 * ledger events (spend against limits), and the periodic register re-check.
 */
import { isDomainError, type CloudEvent, type JobDefinition, type SubscriberDefinition } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { isAdult } from './domain.ts';
import { splitName, type RegisterStatus, type SelfExclusionRegister } from './register.ts';
import type { AuditTrail } from '../cases/history.ts';
import type { EligibilityRepository } from './repository.ts';
import type { Eligibility } from './service.ts';

/** The part of identity's service compliance uses (`getPlayerIdentity`: service-to-service only). */
interface IdentityLike {
  getPlayerIdentity(playerId: string): Promise<{ playerId: string; legalName: string; dateOfBirth: string; country: string; address: { postcode: string } }>;
}

const PLAYER_ID = /^[A-Za-z0-9-]{1,64}$/;
const STATUSES = new Set(['not_started', 'pending', 'approved', 'rejected_final', 'resubmit', 'manual_review', 'expired']);
const MINOR = /^[0-9]{1,19}$/;
const CURRENCY = /^[A-Z]{3}$/;

const str = (v: unknown, max = 128): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);
const date = (v: unknown): Date | undefined => {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};

export interface HandlerDeps {
  ctx: PartContext;
  repo: EligibilityRepository;
  eligibility: Eligibility;
  register?: SelfExclusionRegister;
  trail: AuditTrail;
}

/** Age and national register checks of one player, from identity's record; false when identity cannot say. */
export async function screenPlayer(deps: HandlerDeps, playerId: string): Promise<boolean> {
  const { ctx, repo, register } = deps;
  let person: Awaited<ReturnType<IdentityLike['getPlayerIdentity']>>;
  try {
    const identity = ctx.service<Partial<IdentityLike>>('identity');
    if (typeof identity.getPlayerIdentity !== 'function') throw new Error('identity has no getPlayerIdentity');
    person = await identity.getPlayerIdentity(playerId);
  } catch (err) {
    // Erased or unknown players cannot be screened (and need not be); anything else is retried.
    if (isDomainError(err) && (err.status === 404 || err.status === 410)) return false;
    throw err;
  }
  const now = await ctx.clock.now();
  if (!isAdult(person.dateOfBirth, now)) await repo.setUnderAge(playerId, true);
  if (!register) return true;
  const { firstName, lastName } = splitName(person.legalName);
  const { status } = await register.check({ firstName, lastName, dateOfBirth: person.dateOfBirth, postcode: person.address?.postcode ?? '' });
  await applyRegisterStatus(deps, playerId, status, now);
  return true;
}

async function applyRegisterStatus(deps: HandlerDeps, playerId: string, status: RegisterStatus, at: Date): Promise<void> {
  const { ctx, repo, eligibility } = deps;
  const before = (await repo.lockPlayer(playerId)).registerStatus;
  await repo.setRegisterStatus(playerId, status, at);
  if (status === before) return;
  await deps.trail.record({ actor: 'system', action: 'compliance.register-status-changed', subject: `player:${playerId}`, data: { register: deps.register?.name ?? 'none', status, previous: before } });
  if (status !== 'Y') return;
  await ctx.events.publish({ type: 'compliance.self-excluded.v1', subject: playerId, data: { playerId, exclusionId: null, source: 'national-register', startsAt: at.toISOString(), endsAt: null, extended: false } });
  await eligibility.suppressMarketing(playerId, 'national-register', at);
}

function onRegistered(deps: HandlerDeps): SubscriberDefinition {
  return {
    name: 'player-registered',
    events: ['identity.player-registered.v1'],
    retryLimit: 10,
    async handle(event: CloudEvent) {
      const d = event.data as { playerId?: unknown; country?: unknown; registeredAt?: unknown };
      const playerId = str(d.playerId, 64);
      if (!playerId || !PLAYER_ID.test(playerId)) return;
      const country = typeof d.country === 'string' && /^[A-Z]{2}$/.test(d.country) ? d.country : 'GB';
      await deps.repo.recordRegistration(playerId, country, date(d.registeredAt) ?? new Date(event.time));
      await screenPlayer(deps, playerId);
    },
  };
}

function onVerificationChanged(deps: HandlerDeps): SubscriberDefinition {
  return {
    name: 'verification-changed',
    events: ['kyc.verification-changed.v1'],
    async handle(event: CloudEvent) {
      const d = event.data as { playerId?: unknown; status?: unknown; ageVerified?: unknown; decidedAt?: unknown; reason?: unknown; underAge?: unknown };
      const playerId = str(d.playerId, 64);
      if (!playerId || !PLAYER_ID.test(playerId) || typeof d.status !== 'string' || !STATUSES.has(d.status)) {
        deps.ctx.log.warn({ eventId: event.id }, 'kyc.verification-changed.v1 without a player or a known status; ignored');
        return;
      }
      const ageVerified = d.ageVerified === true;
      const underAge = d.underAge === true || d.reason === 'under-age' ? true : ageVerified ? false : null;
      await deps.repo.applyVerification({ playerId, status: d.status, ageVerified, underAge, decidedAt: date(d.decidedAt) ?? new Date(event.time) });
    },
  };
}

/** Purchases: payments reserves (funds-reserved), then posts, voids or lets the hold expire. */
function onPurchaseSpend(deps: HandlerDeps): SubscriberDefinition {
  const { repo } = deps;
  return {
    name: 'purchase-spend',
    events: ['payments.funds-reserved.v1', 'payments.transfer-posted.v1', 'payments.transfer-voided.v1', 'payments.reservation-expired.v1'],
    // Two upserts per purchase (the reservation's, then its post's on the same row), nothing outside
    // the database: many in one transaction, one batch at a time per process, so the post of a
    // purchase never waits for a concurrent batch holding its reservation's row.
    concurrency: 1,
    batchSize: 100,
    async handle(event: CloudEvent) {
      const d = event.data as Record<string, unknown>;
      const amount = typeof d.amountMinor === 'string' && MINOR.test(d.amountMinor) ? BigInt(d.amountMinor) : undefined;
      const currency = typeof d.currency === 'string' && CURRENCY.test(d.currency) ? d.currency : undefined;
      const at = new Date(event.time);
      if (amount === undefined || !currency) return;
      if (event.type === 'payments.funds-reserved.v1') {
        const transferId = str(d.transferId);
        const playerId = str(d.playerId, 64);
        if (transferId && playerId) await repo.spendReserved({ transferId, playerId, competitionId: str(d.competitionId) ?? '', currency, amountMinor: amount, at });
        return;
      }
      const pending = str(d.pendingTransferId);
      if (!pending) return;
      await repo.spendResolved({ transferId: pending, currency, amountMinor: amount, state: event.type === 'payments.transfer-posted.v1' ? 'posted' : 'released', at });
    },
  };
}

export function eligibilitySubscribers(deps: HandlerDeps): SubscriberDefinition[] {
  return [onRegistered(deps), onVerificationChanged(deps), onPurchaseSpend(deps)];
}

export function registerRecheckJob(deps: HandlerDeps): JobDefinition {
  const { ctx, repo } = deps;
  return {
    name: 'register-recheck',
    cron: '13 * * * *',
    retryLimit: 2,
    timeoutS: 900,
    async handle(_data, run) {
      if (!deps.register) return;
      const now = await ctx.clock.now();
      const due = await repo.registerDue(new Date(now.getTime() - ctx.config.complianceRegisterRecheckHours * 3_600_000), ctx.config.complianceRegisterBatchMax);
      let checked = 0;
      for (const playerId of due) {
        if (run.signal.aborted) break;
        try {
          // One transaction per player: a register outage stops the run, not what was already checked.
          if (await ctx.db.tx(() => screenPlayer(deps, playerId))) checked++;
        } catch (err) {
          ctx.log.warn({ err, playerId }, 'self-exclusion register re-check failed; the next run retries');
          break;
        }
      }
      if (checked) ctx.log.info({ checked, due: due.length }, 'players re-checked against the self-exclusion register');
    },
  };
}
