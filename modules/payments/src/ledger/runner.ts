/**
 * How ledger commands run: in the caller's transaction when there is one, else through the batcher
 * (group commit, ADR 0006). Either way one `payments.ledger_apply` call does the money, and the
 * commands' effects (their events, in one statement) join the same transaction.
 */
import { randomInt } from 'node:crypto';
import { pgCode, requestContext, type NewEvent } from '@verity/kernel';
import type { TransferView } from '../contract.ts';
import { createBatcher, type Settled } from './batcher.ts';
import { withShard, type Command } from './commands.ts';
import { fromResultCode, LedgerErrors } from './errors.ts';
import type { LedgerOptions } from './ledger.ts';
import type { LedgerRepository } from './repository.ts';

/**
 * What a command does besides moving money, in the transaction that created its transfer (never on
 * a retry that created nothing): the event that announces it, and rarer work after it.
 */
export interface Effects {
  event?(transfer: TransferView): NewEvent;
  after?(transfer: TransferView): Promise<void>;
}

export interface Item {
  cmd: Command;
  effects?: Effects;
  /** The caller's trace, for its event (a batch carries many callers' commands). */
  traceparent?: string;
}

/** Attempts of one batch: deadlock or serialization failure (retried as is), then isolated commands. */
const BATCH_ATTEMPTS = 4;
const RETRYABLE = new Set(['40P01', '40001']);

export function createCommandRunner(opts: LedgerOptions, repository: LedgerRepository) {
  const { db } = opts;
  const shardOffset = randomInt(opts.houseShards);
  const clock = async () => (opts.now ? opts.now() : undefined);

  /** The effects of the commands that created a transfer: their events in one statement, then `after`. */
  async function applyEffects(items: readonly Item[], created: (TransferView | undefined)[]): Promise<void> {
    const events: (NewEvent & { traceparent?: string })[] = [];
    created.forEach((t, i) => {
      const e = t && items[i]!.effects?.event?.(t);
      if (e) events.push(items[i]!.traceparent ? { ...e, traceparent: items[i]!.traceparent } : e);
    });
    if (events.length) {
      if (!opts.events) throw new Error('ledger: a command has an event but the ledger has no event publisher');
      await opts.events.publishMany(events);
    }
    for (const [i, t] of created.entries()) if (t) await items[i]!.effects?.after?.(t);
  }

  /** One transaction of commands: the fast path first, then each command isolated if something failed. */
  async function runItems(items: readonly Item[], shard: number): Promise<Settled<TransferView>[]> {
    const commands = items.map((i) => withShard(i.cmd, shard));
    let isolate = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.tx(async () => {
          const results = await repository.apply(commands, isolate, await clock());
          await applyEffects(items, results.map((r) => (r.ok && r.created ? r.transfer : undefined)));
          return results.map((r) => (r.ok ? { value: r.transfer } : { error: fromResultCode(r.code, r.extra) }));
        });
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
    const [r] = await repository.apply([withShard(item.cmd, randomInt(opts.houseShards))], true, await clock());
    if (!r!.ok) throw fromResultCode(r!.code, r!.extra);
    await applyEffects([item], [r!.created ? r!.transfer : undefined]);
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
