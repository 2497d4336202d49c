/**
 * The ledger (contract.ts `Ledger`): input checks and the commands (commands.ts), how they run
 * (runner.ts: the caller's transaction, or group commit, ADR 0006), and the reads (reads.ts). The
 * money logic itself is `payments.ledger_run` (0004) and `payments.ledger_apply` (0001), next to the
 * constraints it relies on. Command events go to the payments outbox, written by the same statement.
 */
import type { Db, Logger } from '@verity/kernel';
import type { Ledger, TransferView } from '../contract.ts';
import { expireCommand, openCommand, refundCommand, resolveCommand, type Command } from './commands.ts';
import { LedgerErrors } from './errors.ts';
import { createLedgerReads } from './reads.ts';
import { createLedgerRepository, type AccountSummary, type LedgerRepository } from './repository.ts';
import { createCommandRunner, type Effects, type Item } from './runner.ts';

export type { Effects, EventDraft } from './runner.ts';

export interface BatchingOptions {
  maxBatch: number;
  maxInFlight: number;
  /** Fewest commands of a flush that runs beside another (batcher.ts; default 16). */
  parallelMin?: number;
  maxQueued: number;
}

export interface LedgerOptions {
  db: Db;
  log: Logger;
  /** Shard rows per hot house account (1 = no sharding). */
  houseShards: number;
  /** Group commit; `maxBatch: 1` gives one transaction per command. */
  batching: BatchingOptions;
  /** Tests: a clock other than the database's. */
  now?: () => Promise<Date>;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatch: 64, maxInFlight: 2, maxQueued: 10_000 };
const EXPIRY_CHUNK = 64;
const REASON_MAX_CHARS = 200;

export interface LedgerEngine extends Ledger {
  /** Runs one command with its effects. */
  execute(cmd: Command, effects?: Effects): Promise<TransferView>;
  /** Expires due holds (at most `limit`), each with its effects. */
  expireDue(options?: { limit?: number; effects?: Effects }): Promise<number>;
  listAccounts(filter: { type?: string; ownerId?: string; currency?: string; cursor?: string; limit: number }): Promise<{ items: AccountSummary[]; nextCursor?: string }>;
  readonly repository: LedgerRepository;
  /** Waits for queued commands (shutdown). */
  drain(): Promise<void>;
  stats(): { queued: number; inFlight: number; flushes: number; items: number };
}

export function createLedger(opts: LedgerOptions): LedgerEngine {
  const repository = createLedgerRepository(opts.db);
  const { execute, runItems, batcher, clock } = createCommandRunner(opts, repository);

  return {
    ...createLedgerReads(repository),
    repository,
    execute,
    transfer: async (input) => execute(openCommand('transfer', input)),
    reserve: async (input) => execute(openCommand('reserve', input)),
    post: async (input) => execute(resolveCommand('post', input)),
    async void(input) {
      if (typeof input.reason !== 'string' || input.reason.length === 0 || input.reason.length > REASON_MAX_CHARS) {
        throw LedgerErrors.invalid('reason', `must be 1..${REASON_MAX_CHARS} characters`);
      }
      return execute(resolveCommand('void', { transferId: input.transferId, pendingTransferId: input.pendingTransferId, metadata: { reason: input.reason } }));
    },
    refund: async (input) => execute(refundCommand(input)),
    async expireDue(options = {}) {
      const due = await repository.dueReservations(options.limit ?? 1_000, await clock());
      let expired = 0;
      for (let i = 0; i < due.length; i += EXPIRY_CHUNK) {
        const items = due.slice(i, i + EXPIRY_CHUNK).map((id): Item => (options.effects ? { cmd: expireCommand(id), effects: options.effects } : { cmd: expireCommand(id) }));
        for (const r of await runItems(items, 0)) {
          if ('error' in r) opts.log.warn({ err: r.error }, 'a reservation could not be expired');
          else if (r.value.state === 'expired') expired++;
        }
      }
      return expired;
    },
    drain: () => batcher.drain(),
    stats: () => batcher.stats(),
  };
}
