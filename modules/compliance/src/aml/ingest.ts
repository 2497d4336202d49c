/**
 * What feeds the AML aggregates: payments' events (deposits that succeeded, withdrawals requested,
 * purchase reservations and their voids or expiries), identity's sign-ins, and payment methods
 * payments reports through the service. Each stored fact that can trigger a rule is evaluated at
 * once, in the same delivery transaction. The event's own time is the fact's time.
 */
import { uuidv7, type CloudEvent, type SubscriberDefinition } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { prepareName, scoreNames, ALGORITHM_VERSION } from '../sanctions/matching/score.ts';
import type { Engine } from './engine.ts';
import { toEurMinor, type FxTable } from './fx.ts';
import type { AmlRepository, MoneyFact } from './repository.ts';

export const PAYMENT_EVENTS = {
  depositSucceeded: 'payments.deposit-succeeded.v1',
  withdrawalRequested: 'payments.withdrawal-requested.v1',
  fundsReserved: 'payments.funds-reserved.v1',
  transferVoided: 'payments.transfer-voided.v1',
  reservationExpired: 'payments.reservation-expired.v1',
} as const;
export const SIGNED_IN_EVENT = 'identity.signed-in.v1';

const ID = /^[A-Za-z0-9-]{1,64}$/;
const CURRENCY = /^[A-Z]{3}$/;
const MINOR = /^[0-9]{1,19}$/;
const HASH = /^[A-Za-z0-9_=+/-]{1,128}$/;

type Data = Record<string, unknown>;
const id = (v: unknown) => (typeof v === 'string' && ID.test(v) ? v : undefined);
const hash = (v: unknown) => (typeof v === 'string' && HASH.test(v) ? v : null);

export interface IngestDeps {
  ctx: PartContext;
  repo: AmlRepository;
  engine: Engine;
  fx: FxTable;
}

export function createIngest(deps: IngestDeps) {
  const { ctx, repo, engine, fx } = deps;

  /** The money facts of an event, or undefined (logged) when its data is not what the contract says. */
  function money(event: CloudEvent, idField: string): MoneyFact | undefined {
    const d = (event.data ?? {}) as Data;
    const amount = typeof d.amountMinor === 'string' || typeof d.amountMinor === 'number' ? String(d.amountMinor) : '';
    const [factId, playerId] = [id(d[idField]), id(d.playerId)];
    if (!factId || !playerId || !MINOR.test(amount) || typeof d.currency !== 'string' || !CURRENCY.test(d.currency)) {
      ctx.log.warn({ eventId: event.id, type: event.type }, 'AML: event data not as expected; ignored');
      return undefined;
    }
    const amountMinor = BigInt(amount);
    if (amountMinor <= 0n) return undefined;
    const eurMinor = toEurMinor(amountMinor, d.currency, fx);
    if (eurMinor === null) ctx.log.warn({ eventId: event.id, currency: d.currency }, 'AML: no FX rate to EUR (AML_FX_RATES_TO_EUR); amount counts towards no threshold');
    return { id: factId, playerId, amountMinor, currency: d.currency, eurMinor, eventId: event.id, occurredAt: new Date(event.time) };
  }

  async function onPayments(event: CloudEvent): Promise<void> {
    const d = (event.data ?? {}) as Data;
    switch (event.type) {
      case PAYMENT_EVENTS.depositSucceeded: {
        const f = money(event, 'depositId');
        if (f) await repo.lockPlayer(f.playerId);
        if (f && (await repo.insertDeposit(f))) await engine.onTrigger({ kind: 'deposit', ref: `deposit:${f.id}`, playerId: f.playerId, occurredAt: f.occurredAt, eurMinor: f.eurMinor });
        return;
      }
      case PAYMENT_EVENTS.withdrawalRequested: {
        const f = money(event, 'withdrawalId');
        if (f) await repo.lockPlayer(f.playerId);
        if (f && (await repo.insertWithdrawal(f))) await engine.onTrigger({ kind: 'withdrawal', ref: `withdrawal:${f.id}`, playerId: f.playerId, occurredAt: f.occurredAt, eurMinor: f.eurMinor });
        return;
      }
      case PAYMENT_EVENTS.fundsReserved: {
        const f = money(event, 'transferId');
        if (!f) return;
        await repo.lockTransfer(f.id);
        await repo.insertPurchase(f);
        return;
      }
      case PAYMENT_EVENTS.transferVoided:
      case PAYMENT_EVENTS.reservationExpired: {
        const pending = id(d.pendingTransferId);
        if (!pending) return;
        await repo.lockTransfer(pending);
        await repo.cancelPurchase(pending, new Date(event.time));
        return;
      }
    }
  }

  async function onSignIn(event: CloudEvent): Promise<void> {
    const d = (event.data ?? {}) as Data;
    const playerId = id(d.accountId);
    if (!playerId) return;
    const fact = { eventId: event.id, playerId, ipHash: hash(d.ipHash), deviceHash: hash(d.deviceHash), occurredAt: new Date(event.time) };
    if (!fact.ipHash && !fact.deviceHash) return;
    if (await repo.insertSignIn(fact)) await engine.onTrigger({ kind: 'sign-in', ref: `sign-in:${fact.eventId}`, ...fact });
  }

  const subscribers: SubscriberDefinition[] = [
    // Facts and rule runs only touch the database, so a surge is handled many events per transaction.
    { name: 'aml-payments', events: Object.values(PAYMENT_EVENTS), concurrency: 2, batchSize: 50, handle: onPayments },
    { name: 'aml-sign-ins', events: [SIGNED_IN_EVENT], concurrency: 2, batchSize: 50, handle: onSignIn },
  ];

  /**
   * A payment method payments learned the holder name of (card, bank account). The name is compared
   * with the player's legal name now and kept encrypted under the player's key; only the score is
   * read by the rule. Returns whether it was new.
   */
  async function recordPaymentMethod(input: { playerId: string; provider: string; methodRef: string; holderName: string; legalName: string }): Promise<{ recorded: boolean; nameScore: number; alertIds: string[] }> {
    const nameScore = Math.round(scoreNames(prepareName(input.holderName), prepareName(input.legalName)).score * 1000) / 1000;
    const holderNameEnc = await ctx.crypto.encrypt(input.playerId, input.holderName);
    return ctx.db.tx(async () => {
      const methodId = uuidv7();
      const occurredAt = await ctx.clock.now();
      const recorded = await repo.insertPaymentMethod({ id: methodId, playerId: input.playerId, provider: input.provider, methodRef: input.methodRef, holderNameEnc, nameScore, algorithmVersion: ALGORITHM_VERSION, occurredAt });
      if (!recorded) return { recorded, nameScore, alertIds: [] };
      const alertIds = await engine.onTrigger({ kind: 'payment-method', ref: `payment-method:${methodId}`, playerId: input.playerId, occurredAt, nameScore, methodKey: `${input.provider}:${input.methodRef}` });
      return { recorded, nameScore, alertIds };
    });
  }

  return { subscribers, recordPaymentMethod };
}
