/**
 * Ledger commands: input checks (bad input is a 400 before anything touches the database) and the
 * JSON a command travels in to `payments.ledger_apply`. The input hash is what makes a retry safe:
 * the same id with the same input replays the first result, the same id with another input is refused.
 */
import { createHash } from 'node:crypto';
import type { AccountRef, AccountType, TransferInput } from '../contract.ts';
import { LedgerErrors } from './errors.ts';

/** Largest amount one transfer may move: 10^15 minor units (ten trillion pounds), far below 2^63. */
export const AMOUNT_MINOR_MAX = 1_000_000_000_000_000n;
export const METADATA_BYTES_MAX = 4096;
/** Reservations live at most a week: a hold nobody resolves must not lock a wallet for longer. */
export const TIMEOUT_S_MAX = 7 * 86_400;
const KIND = /^[a-z][a-z0-9_.-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CURRENCY = /^[A-Z]{3}$/;
const OWNER_MAX_CHARS = 128;
const ACCOUNT_TYPES: ReadonlySet<AccountType> = new Set<AccountType>([
  'player_wallet', 'house_sales', 'prize_liability', 'psp_clearing', 'payout_clearing', 'refunds', 'fees', 'house_cash',
]);
/** Accounts every purchase credits: spread over shard rows so a surge does not queue on one row (ADR 0006). */
export const SHARDED_TYPES: ReadonlySet<AccountType> = new Set<AccountType>(['house_sales']);

export type Op = 'transfer' | 'reserve' | 'post' | 'void' | 'refund' | 'expire';

/** An account as the database names it; `shard` is chosen when the command runs (undefined until then). */
export interface AccountKey {
  type: AccountType;
  owner: string;
  currency: string;
  shard?: number;
}

export interface Command {
  op: Op;
  id?: string;
  hash?: string;
  kind?: string;
  amount?: string;
  currency?: string;
  debit?: AccountKey;
  credit?: AccountKey;
  timeout_s?: number;
  pending_id?: string;
  reverses_id?: string;
  original_kind?: string;
  metadata?: Record<string, unknown>;
}

export const normalizeId = (id: unknown, field: string): string => {
  if (typeof id !== 'string' || !UUID.test(id.toLowerCase())) throw LedgerErrors.invalid(field, 'must be a UUID');
  return id.toLowerCase();
};

function amount(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint') throw LedgerErrors.invalid(field, 'must be a bigint amount in minor units');
  if (value <= 0n || value > AMOUNT_MINOR_MAX) throw LedgerErrors.amountInvalid(`${field} must be between 1 and ${AMOUNT_MINOR_MAX}`);
  return value;
}

function accountKey(ref: AccountRef | undefined, field: string): AccountKey {
  if (!ref || !ACCOUNT_TYPES.has(ref.type)) throw LedgerErrors.invalid(`${field}.type`, 'is not an account type');
  if (typeof ref.ownerId !== 'string' || ref.ownerId.length === 0 || ref.ownerId.length > OWNER_MAX_CHARS) {
    throw LedgerErrors.invalid(`${field}.ownerId`, `must be 1..${OWNER_MAX_CHARS} characters`);
  }
  if (typeof ref.currency !== 'string' || !CURRENCY.test(ref.currency)) throw LedgerErrors.invalid(`${field}.currency`, 'must be an ISO 4217 code');
  const key: AccountKey = { type: ref.type, owner: ref.ownerId, currency: ref.currency };
  if (!SHARDED_TYPES.has(ref.type)) key.shard = 0;
  return key;
}

/** Checks an account reference given to a read (balance, history). */
export function checkAccountRef<T extends AccountRef>(ref: T, field: string): T {
  accountKey(ref, field);
  return ref;
}

function kind(value: unknown): string {
  if (typeof value !== 'string' || !KIND.test(value)) throw LedgerErrors.invalid('kind', 'must be a lower-case word of at most 64 characters');
  return value;
}

function metadata(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw LedgerErrors.invalid('metadata', 'must be an object');
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (Buffer.byteLength(text) > METADATA_BYTES_MAX) throw LedgerErrors.invalid('metadata', `must be at most ${METADATA_BYTES_MAX} bytes of JSON`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Canonical JSON (sorted keys) so that equal inputs hash equal whatever order their keys came in. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).filter((k) => obj[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

/** The hash covers what the caller asked for; the shard is ours to choose, so it is left out. */
function sealed(cmd: Command): Command {
  const { debit, credit, ...rest } = cmd;
  const strip = (k: AccountKey | undefined) => (k ? { type: k.type, owner: k.owner, currency: k.currency } : undefined);
  cmd.hash = createHash('sha256').update(canonical({ ...rest, debit: strip(debit), credit: strip(credit) })).digest('hex');
  return cmd;
}

export function openCommand(op: 'transfer' | 'reserve', input: TransferInput & { timeoutS?: number }): Command {
  const debit = accountKey(input.debit, 'debit');
  const credit = accountKey(input.credit, 'credit');
  if (debit.currency !== credit.currency) throw LedgerErrors.currencyMismatch(debit.currency, credit.currency);
  if (debit.type === credit.type && debit.owner === credit.owner) throw LedgerErrors.invalid('credit', 'must be another account than debit');
  const cmd: Command = {
    op,
    id: normalizeId(input.transferId, 'transferId'),
    kind: kind(input.kind),
    amount: amount(input.amountMinor, 'amountMinor').toString(),
    currency: debit.currency,
    debit,
    credit,
    metadata: metadata(input.metadata),
  };
  if (op === 'reserve') {
    const t = input.timeoutS;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > TIMEOUT_S_MAX) throw LedgerErrors.invalid('timeoutS', `must be 1..${TIMEOUT_S_MAX} seconds`);
    cmd.timeout_s = t;
  }
  return sealed(cmd);
}

export function resolveCommand(
  op: 'post' | 'void',
  input: { transferId: string; pendingTransferId: string; amountMinor?: bigint; metadata?: Record<string, unknown> },
): Command {
  const cmd: Command = {
    op,
    id: normalizeId(input.transferId, 'transferId'),
    pending_id: normalizeId(input.pendingTransferId, 'pendingTransferId'),
    metadata: metadata(input.metadata),
  };
  if (input.amountMinor !== undefined) cmd.amount = amount(input.amountMinor, 'amountMinor').toString();
  return sealed(cmd);
}

export interface RefundInput {
  transferId: string;
  originalTransferId: string;
  /** Default: all that is left to refund. */
  amountMinor?: bigint;
  /** Default `refund`. */
  kind?: string;
  /** Refuse unless the original transfer has this kind (e.g. `purchase`). */
  originalKind?: string;
  metadata?: Record<string, unknown>;
}

export function refundCommand(input: RefundInput): Command {
  const cmd: Command = {
    op: 'refund',
    id: normalizeId(input.transferId, 'transferId'),
    reverses_id: normalizeId(input.originalTransferId, 'originalTransferId'),
    kind: kind(input.kind ?? 'refund'),
    metadata: metadata(input.metadata),
  };
  if (input.amountMinor !== undefined) cmd.amount = amount(input.amountMinor, 'amountMinor').toString();
  if (input.originalKind !== undefined) cmd.original_kind = kind(input.originalKind);
  return sealed(cmd);
}

export const expireCommand = (pendingId: string): Command => ({ op: 'expire', pending_id: pendingId });

/** Fills in the shard of sharded accounts: one shard for a whole batch keeps its lock set small. */
export function withShard(cmd: Command, shard: number): Command {
  const pick = (k: AccountKey | undefined) => (k && k.shard === undefined ? { ...k, shard } : k);
  if (!cmd.debit && !cmd.credit) return cmd;
  return { ...cmd, debit: pick(cmd.debit), credit: pick(cmd.credit) } as Command;
}
