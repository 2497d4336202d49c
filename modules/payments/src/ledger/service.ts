/**
 * PaymentsService (index.ts): what ticketing and draws call. Each method is one ledger command; its
 * event is written by the statement that creates the transfer, and only then, so a retried call
 * (same transferId) neither moves money nor announces it twice.
 */
import type { JobQueue } from '@verity/kernel';
import type { AccountRef, TransferView } from '../contract.ts';
import type { PaymentsService } from '../index.ts';
import { openCommand, refundCommand, resolveCommand } from './commands.ts';
import {
  LedgerEvents, type FundsReservedV1, type PrizeCreditedV1, type RefundedV1, type TransferPostedV1, type TransferVoidedV1,
} from './contracts.ts';
import { LedgerErrors } from './errors.ts';
import type { LedgerEngine } from './ledger.ts';
import type { EventDraft, TransferField } from './runner.ts';

export const EXPIRY_JOB = 'expire-reservations';
/** Holds shorter than this get their own expiry timer; longer ones are found by the minutely sweep. */
export const SHORT_HOLD_S = 60;
const ID_MAX_CHARS = 128;
const REASON_MAX_CHARS = 200;

export interface ServiceDeps {
  /** Created with the module's event publisher: the service's commands carry events. */
  ledger: LedgerEngine;
  jobs: JobQueue;
  defaultTimeoutS: number;
}

function ownerId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > ID_MAX_CHARS) throw LedgerErrors.invalid(field, `must be 1..${ID_MAX_CHARS} characters`);
  return value;
}

export const playerWallet = (playerId: string, currency: string): AccountRef => ({ type: 'player_wallet', ownerId: ownerId(playerId, 'playerId'), currency });
export const houseSales = (competitionId: string, currency: string): AccountRef => ({ type: 'house_sales', ownerId: ownerId(competitionId, 'competitionId'), currency });
export const prizeLiability = (competitionId: string, currency: string): AccountRef => ({ type: 'prize_liability', ownerId: ownerId(competitionId, 'competitionId'), currency });

/** The precise expiry timer of a short hold: one job per second of expiry, whichever hold asks first. */
export async function scheduleExpiry(jobs: JobQueue, at: Date): Promise<void> {
  const second = Math.ceil(at.getTime() / 1000);
  await jobs.enqueue(EXPIRY_JOB, {}, { startAfter: new Date(second * 1000), singletonKey: `at-${second}` });
}

/**
 * The draft of an event of type `T`: the data known before the command runs, and the fields the database
 * copies from the transfer the command creates (which together are `T`).
 */
export function eventDraft<T>(type: string, subject: EventDraft['subject'], data: { [K in keyof T]?: T[K] & string }, fill: Partial<Record<TransferField, keyof T & string>>): EventDraft {
  return { type, subject, data: data as Record<string, string>, fill };
}

export function createPaymentsService(deps: ServiceDeps): PaymentsService {
  const { ledger } = deps;

  return {
    async reserve(input) {
      const timeoutS = input.timeoutS ?? deps.defaultTimeoutS;
      const cmd = openCommand('reserve', {
        transferId: input.transferId,
        kind: 'purchase',
        debit: playerWallet(input.playerId, input.currency),
        credit: houseSales(input.competitionId, input.currency),
        amountMinor: input.amountMinor,
        timeoutS,
        ...(input.metadata ? { metadata: input.metadata } : {}),
      });
      return ledger.execute(cmd, {
        event: eventDraft<FundsReservedV1>(LedgerEvents.fundsReserved, 'id', { playerId: input.playerId, competitionId: input.competitionId },
          { id: 'transferId', amount: 'amountMinor', currency: 'currency', expires_at: 'expiresAt' }),
        // Holds shorter than the sweep's minute get a timer of their own; the rest cost nothing extra.
        ...(timeoutS < SHORT_HOLD_S ? { after: (t: TransferView) => scheduleExpiry(deps.jobs, t.expiresAt!) } : {}),
      });
    },

    async post(input) {
      return ledger.execute(resolveCommand('post', input), {
        event: eventDraft<TransferPostedV1>(LedgerEvents.transferPosted, 'pending_id', {},
          { id: 'transferId', pending_id: 'pendingTransferId', amount: 'amountMinor', currency: 'currency' }),
      });
    },

    async void(input) {
      if (typeof input.reason !== 'string' || input.reason.length === 0 || input.reason.length > REASON_MAX_CHARS) {
        throw LedgerErrors.invalid('reason', `must be 1..${REASON_MAX_CHARS} characters`);
      }
      const cmd = resolveCommand('void', { transferId: input.transferId, pendingTransferId: input.pendingTransferId, metadata: { reason: input.reason } });
      return ledger.execute(cmd, {
        event: eventDraft<TransferVoidedV1>(LedgerEvents.transferVoided, 'pending_id', {},
          { id: 'transferId', pending_id: 'pendingTransferId', amount: 'amountMinor', currency: 'currency' }),
      });
    },

    async creditPrize(input) {
      const cmd = openCommand('transfer', {
        transferId: input.transferId,
        kind: 'prize',
        debit: prizeLiability(input.competitionId, input.currency),
        credit: playerWallet(input.playerId, input.currency),
        amountMinor: input.amountMinor,
        metadata: input.drawId ? { drawId: ownerId(input.drawId, 'drawId') } : {},
      });
      return ledger.execute(cmd, {
        event: eventDraft<PrizeCreditedV1>(LedgerEvents.prizeCredited, 'id',
          { playerId: input.playerId, competitionId: input.competitionId, ...(input.drawId ? { drawId: input.drawId } : {}) },
          { id: 'transferId', amount: 'amountMinor', currency: 'currency' }),
      });
    },

    async refund(input) {
      if (typeof input.reason !== 'string' || input.reason.length === 0 || input.reason.length > REASON_MAX_CHARS) {
        throw LedgerErrors.invalid('reason', `must be 1..${REASON_MAX_CHARS} characters`);
      }
      const cmd = refundCommand({
        transferId: input.transferId,
        originalTransferId: input.originalTransferId,
        ...(input.amountMinor !== undefined ? { amountMinor: input.amountMinor } : {}),
        kind: 'refund',
        originalKind: 'purchase',
        metadata: { reason: input.reason },
      });
      return ledger.execute(cmd, {
        event: eventDraft<RefundedV1>(LedgerEvents.refunded, 'id', { originalTransferId: input.originalTransferId },
          { id: 'transferId', amount: 'amountMinor', currency: 'currency' }),
      });
    },

    async balance(input) {
      return ledger.balance(playerWallet(input.playerId, input.currency));
    },
  };
}
