/**
 * How ledger commands run: in the caller's transaction when there is one, else through the batcher
 * (group commit, ADR 0006). Either way a batch is one `payments.ledger_run` statement that moves the
 * money, writes the new transfers and writes their events (from each command's event draft): outside a
 * caller's transaction the flush of a batch is one round trip and one commit.
 */
import { randomInt } from 'node:crypto';
import { pgCode, requestContext, uuidv7 } from '@verity/kernel';
import type { TransferView } from '../contract.ts';
import { createBatcher, type Settled } from './batcher.ts';
import { withShard, type Command } from './commands.ts';
import { fromResultCode, LedgerErrors } from './errors.ts';
import type { LedgerOptions } from './ledger.ts';
import type { ApplyResult, LedgerRepository } from './repository.ts';

/** A field of the created transfer the database copies into an event (amounts as decimal strings, times as ISO 8601 UTC with milliseconds). */
export type TransferField = 'id' | 'pending_id' | 'amount' | 'currency' | 'expires_at';

/**
 * The event that announces the transfer a command creates, written by the statement that creates it,
 * and only then (a retry that created nothing announces nothing). `data` holds what is known before
 * the command runs; `fill` names the data fields copied from the transfer, which the database decides
 * (the amount of a post without one, the expiry of a hold).
 */
export interface EventDraft {
  type: string;
  subject: 'id' | 'pending_id';
  data: Record<string, string>;
  fill: Partial<Record<TransferField, string>>;
}

/** What a command does besides moving money, in the transaction that created its transfer. */
export interface Effects {
  event?: EventDraft;
  /** Rarer work after it, in the same transaction (a batch with one runs as BEGIN … COMMIT). */
  after?(transfer: TransferView): Promise<void>;
}

export interface Item {
  cmd: Command;
  effects?: Effects;
  /** The caller's trace, for its event (a batch carries many callers' commands). */
  traceparent?: string;
}

/** A command as `payments.ledger_run` reads it: with its shard and its event draft. */
export type WireCommand = Command & { ev?: EventDraft & { id: string; tp: string | null } };

/** Attempts of one batch: deadlock or serialization failure (retried as is), then isolated commands. */
const BATCH_ATTEMPTS = 4;
const RETRYABLE = new Set(['40P01', '40001']);
/** The ledger's events are the payments module's: the outbox they go to is `payments.outbox`. */
const EVENT_TYPE = /^payments\.[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.v[1-9][0-9]{0,3}$/;

function wire(item: Item, shard: number): WireCommand {
  const cmd: WireCommand = withShard(item.cmd, shard);
  const draft = item.effects?.event;
  if (!draft) return cmd;
  if (!EVENT_TYPE.test(draft.type)) throw new Error(`ledger: event type "${draft.type}" must look like "payments.<event-name>.v<N>"`);
  return { ...cmd, ev: { ...draft, id: uuidv7(), tp: item.traceparent ?? requestContext.traceparent() ?? null } };
}

export function createCommandRunner(opts: LedgerOptions, repository: LedgerRepository) {
  const { db } = opts;
  const shardOffset = randomInt(opts.houseShards);
  const clock = async () => (opts.now ? opts.now() : undefined);

  /** The `after` effects of the commands that created a transfer, in the transaction that created it. */
  async function runAfter(items: readonly Item[], results: readonly ApplyResult[]): Promise<void> {
    for (const [i, r] of results.entries()) if (r.ok && r.created) await items[i]!.effects?.after?.(r.transfer);
  }

  /** One batch: the fast path first, then each command isolated if something failed. */
  async function runItems(items: readonly Item[], shard: number): Promise<Settled<TransferView>[]> {
    const commands = items.map((item) => wire(item, shard));
    // Without `after` effects the statement is the whole transaction: no BEGIN, no COMMIT round trip.
    const inTx = items.some((i) => i.effects?.after);
    let isolate = false;
    for (let attempt = 1; ; attempt++) {
      const once = async (): Promise<Settled<TransferView>[]> => {
        const results = await repository.apply(commands, isolate, await clock());
        await runAfter(items, results);
        return results.map((r) => (r.ok ? { value: r.transfer } : { error: fromResultCode(r.code, r.extra) }));
      };
      try {
        return inTx ? await db.tx(once) : await once();
      } catch (err) {
        if (attempt >= BATCH_ATTEMPTS) throw err;
        if (RETRYABLE.has(pgCode(err) ?? '')) continue;
        if (isolate || pgCode(err) === undefined) throw err;
        opts.log.warn({ err, commands: commands.length }, 'ledger batch failed; running its commands isolated');
        isolate = true;
      }
    }
  }

  const batcher = createBatcher<Item, TransferView>({
    ...opts.batching,
    flush: (items, slot) => runItems(items, (shardOffset + slot) % opts.houseShards),
    overloaded: LedgerErrors.busy,
  });

  /** In the caller's transaction: isolated, so a refusal leaves the caller's transaction usable. */
  async function inCallerTx(item: Item): Promise<TransferView> {
    const [r] = await repository.apply([wire(item, randomInt(opts.houseShards))], true, await clock());
    if (!r!.ok) throw fromResultCode(r!.code, r!.extra);
    await runAfter([item], [r!]);
    return r!.transfer;
  }

  const execute = (cmd: Command, effects?: Effects): Promise<TransferView> => {
    const item: Item = { cmd };
    if (effects) item.effects = effects;
    if (db.inTransaction()) return inCallerTx(item);
    const traceparent = requestContext.traceparent();
    if (traceparent) item.traceparent = traceparent;
    return batcher.submit(item);
  };

  return { execute, runItems, batcher, clock };
}
