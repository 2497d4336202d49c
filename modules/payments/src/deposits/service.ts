/**
 * Deposits: the player asks, we check the compliance gate, then — in one transaction with the
 * player's limit row locked — check the deposit limits and record the deposit `pending`; only then,
 * outside any transaction, ask the PSP to take the payment, with the deposit id as idempotency key.
 *
 * Why the PSP call is outside the transaction (and why deposits keep their own idempotency key
 * instead of the kernel's wrapper, which runs the handler inside one): a PSP call can take seconds;
 * a transaction held that long keeps a pool connection and the player's limit lock, and a PSP
 * outage would drain the pool of the whole process. The deposit row is the idempotency record: a
 * retry with the same key finds it (and re-sends a payment that never left, with the same key).
 *
 * The cardholder name goes to the PSP and is not stored: a retry that re-sends the payment carries
 * it again (the same key demands the same body), and only its keyed hash is in the request hash.
 */
import { createHash } from 'node:crypto';
import { DomainError, Problems, isDomainError, uuidv7, type Db, type FieldCrypto, type Logger } from '@verity/kernel';
import type { ComplianceGate, PspEvent, PspEventHandler } from '../contract.ts';
import type { ResilientPsp } from '../psp/resilient.ts';
import { DEPOSIT_CURRENCIES } from './contracts.ts';
import { enforceLimits } from './limits.ts';
import { outcomeOfSession, type Outcome, type Outcomes } from './outcomes.ts';
import type { DepositRepository, DepositRow } from './repository.ts';

export const STATUS_JOB = 'deposit-status-check';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CreateDepositInput {
  amountMinor: bigint;
  currency: string;
  paymentMethod?: string;
  /** The name on the card, for the PSP (personal data: not stored, not logged). */
  cardholderName?: string;
}

export interface DepositServiceDeps {
  db: Db;
  log: Logger;
  repo: DepositRepository;
  psp: ResilientPsp;
  gate: ComplianceGate;
  outcomes: Outcomes;
  jobs: { enqueue(job: string, data: object, options?: { startAfter?: number }): Promise<unknown> };
  maxAmountMinor: bigint;
  statusCheckS: number;
  crypto: Pick<FieldCrypto, 'keyedHash'>;
}

const CARDHOLDER_HASH_PURPOSE = 'payments.deposit-cardholder';

export function createDepositService(deps: DepositServiceDeps) {
  const { db, repo, psp, gate, outcomes, log } = deps;

  /** The input as the PSP gets it: the cardholder name trimmed, its inner spaces single. */
  function validate(raw: CreateDepositInput): CreateDepositInput {
    if (raw.amountMinor <= 0n || raw.amountMinor > deps.maxAmountMinor) {
      throw Problems.validation([{ pointer: '/body/amountMinor', detail: `must be between 1 and ${deps.maxAmountMinor}` }]);
    }
    if (!DEPOSIT_CURRENCIES.includes(raw.currency)) throw Problems.validation([{ pointer: '/body/currency', detail: `must be one of ${DEPOSIT_CURRENCIES.join(', ')}` }]);
    if (raw.cardholderName === undefined) return raw;
    const cardholderName = raw.cardholderName.trim().replace(/\s+/g, ' ');
    if (cardholderName.length === 0) throw Problems.validation([{ pointer: '/body/cardholderName', detail: 'must not be blank' }]);
    return { ...raw, cardholderName };
  }

  // Existing deposits' hashes were made without a name: the field is in the hash only when given.
  const requestHash = (input: CreateDepositInput) =>
    createHash('sha256').update(JSON.stringify({
      amountMinor: input.amountMinor.toString(), currency: input.currency, paymentMethod: input.paymentMethod ?? null,
      ...(input.cardholderName !== undefined ? { cardholder: deps.crypto.keyedHash(CARDHOLDER_HASH_PURPOSE, input.cardholderName) } : {}),
    })).digest('hex');

  /** `created` false: a retry of an earlier command with the same key. */
  async function create(playerId: string, idempotencyKey: string, raw: CreateDepositInput): Promise<{ deposit: DepositRow; created: boolean }> {
    const input = validate(raw);
    const hash = requestHash(input);
    const earlier = await repo.findByKey(playerId, idempotencyKey);
    if (earlier) return { deposit: await replay(earlier, hash, input), created: false };
    // Fail fast while the PSP is known to be down: nothing recorded, nothing to settle later.
    psp.assertAvailable();
    const decision = await gate.canDeposit(playerId, input.amountMinor, input.currency);
    if (!decision.allowed) {
      throw new DomainError('deposit-not-allowed', 403, 'Deposit not allowed', 'Deposits are not available on this account right now.', { reasons: decision.reasons });
    }
    const recorded = await db.tx(async () => {
      await repo.lockPlayer(playerId);
      // A concurrent duplicate held the lock before us and recorded the deposit.
      const twin = await repo.findByKey(playerId, idempotencyKey);
      if (twin) return { deposit: twin, created: false };
      await enforceLimits(repo, playerId, input.currency, input.amountMinor);
      const deposit = await repo.insert({ depositId: uuidv7(), playerId, idempotencyKey, requestHash: hash, provider: psp.name, amountMinor: input.amountMinor, currency: input.currency, ...(input.paymentMethod ? { paymentMethod: input.paymentMethod } : {}) });
      // Settles the deposit if nothing else does (a crash before the PSP answered, a lost webhook).
      await deps.jobs.enqueue(STATUS_JOB, { depositId: deposit.depositId, check: 1 }, { startAfter: deps.statusCheckS });
      return { deposit, created: true };
    });
    if (!recorded.created) return { deposit: await replay(recorded.deposit, hash, input), created: false };
    return { deposit: await send(recorded.deposit, input.cardholderName), created: true };
  }

  /** `input`: the retry's own, equal to the first (same hash); it brings back the cardholder name. */
  async function replay(deposit: DepositRow, hash: string, input: CreateDepositInput): Promise<DepositRow> {
    if (deposit.requestHash !== hash) throw Problems.idempotencyKeyReused();
    // Recorded but never accepted by the PSP (refused fast, or the process died): send it again, same key.
    if (deposit.status === 'pending' && !deposit.pspPaymentId) return send(deposit, input.cardholderName);
    return deposit;
  }

  /** Asks the PSP for the payment and records its answer; outside any transaction. */
  async function send(deposit: DepositRow, cardholderName: string | undefined): Promise<DepositRow> {
    let outcome: Outcome;
    try {
      const session = await psp.createPayment({
        idempotencyKey: deposit.depositId,
        reference: deposit.depositId,
        amountMinor: deposit.amountMinor,
        currency: deposit.currency,
        playerId: deposit.playerId,
        ...(deposit.paymentMethod ? { paymentMethod: deposit.paymentMethod } : {}),
        ...(cardholderName ? { cardholderName } : {}),
      });
      outcome = outcomeOfSession(session);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.code === 'psp-outcome-unknown') outcome = { status: 'unknown' };
      else if (err.code === 'psp-rejected') outcome = { status: 'failed', failureReason: 'psp-rejected' };
      // psp-unavailable: not sent; the deposit stays pending for a retry with the same key (or the status job).
      else throw err;
      log.warn({ depositId: deposit.depositId, problem: err.code }, 'deposit not confirmed by the PSP');
    }
    return db.tx(async () => {
      const locked = (await repo.get(deposit.depositId, { forUpdate: true }))!;
      await outcomes.apply(locked, outcome, 'create');
      return (await repo.get(deposit.depositId))!;
    });
  }

  async function get(playerId: string, depositId: string): Promise<DepositRow> {
    const d = await repo.get(depositId);
    // Another player's deposit is as absent as one that does not exist.
    if (!d || d.playerId !== playerId) throw Problems.notFound('deposit');
    return d;
  }

  const pspEvents: PspEventHandler = {
    types: ['payment.succeeded', 'payment.failed', 'payment.requires_action', 'refund.succeeded', 'refund.failed'],
    async apply(provider: string, event: PspEvent) {
      const d = (UUID.test(event.reference) ? await repo.get(event.reference, { forUpdate: true }) : undefined) ?? (await repo.getByPspPayment(provider, event.pspObjectId, { forUpdate: true }));
      if (!d || d.provider !== provider) return 'unknown-reference';
      if (event.type === 'refund.succeeded' || event.type === 'refund.failed') {
        if (d.refundStatus === null) return 'unknown-reference';
        if (event.type === 'refund.succeeded') return outcomes.refunded(d, event.pspObjectId);
        log.error({ depositId: d.depositId, reason: event.failureReason }, 'refund of a refused deposit failed at the PSP');
        await repo.setRefund(d.depositId, 'failed', event.pspObjectId);
        return 'applied';
      }
      if (event.type !== 'payment.succeeded' && event.type !== 'payment.failed' && event.type !== 'payment.requires_action') return 'unknown-reference';
      const status = ({ 'payment.succeeded': 'succeeded', 'payment.failed': 'failed', 'payment.requires_action': 'requires_action' } as const)[event.type];
      const outcome: Outcome = { status, pspPaymentId: event.pspObjectId, amountMinor: event.amountMinor, currency: event.currency, occurredAt: event.occurredAt };
      if (event.fundingType) outcome.fundingType = event.fundingType;
      if (event.failureReason) outcome.failureReason = event.failureReason;
      if (event.holderName) outcome.holderName = event.holderName;
      if (event.methodRef) outcome.methodRef = event.methodRef;
      return outcomes.apply(d, outcome, 'webhook');
    },
  };

  return { create, get, pspEvents };
}

export type DepositService = ReturnType<typeof createDepositService>;
