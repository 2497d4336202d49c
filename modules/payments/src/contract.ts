/**
 * The contracts the parts of the payments module build against (ledger, PSP port, compliance gate).
 * Types only: each part implements its side in its own folder.
 */

// ───────────────────────────── Ledger ─────────────────────────────

export type AccountType =
  | 'player_wallet' // owner: playerId — liability to the player; floor 0
  | 'house_sales' // owner: competitionId — ticket revenue (hot during a surge)
  | 'prize_liability' // owner: competitionId — prizes owed
  | 'psp_clearing' // owner: provider name — money in flight at a PSP
  | 'payout_clearing' // owner: provider name — withdrawals on their way out
  | 'refunds' // owner: 'house'
  | 'fees' // owner: 'house'
  | 'house_cash'; // owner: 'house' — operator funds (prize funding, corrections)

export interface AccountRef {
  type: AccountType;
  ownerId: string;
  /** ISO 4217 */
  currency: string;
}

export type TransferState = 'posted' | 'pending' | 'voided' | 'expired';

export interface TransferView {
  transferId: string;
  kind: string;
  state: TransferState;
  debit: AccountRef;
  credit: AccountRef;
  amountMinor: bigint;
  currency: string;
  /** For post/void transfers: the pending transfer they resolve. */
  pendingTransferId?: string;
  /** For refunds and reversals: the posted transfer they give back (in part). */
  reversesTransferId?: string;
  expiresAt?: Date;
  createdAt: Date;
  metadata: Record<string, unknown>;
}

export interface BalanceView {
  account: AccountRef;
  /** credits − debits of posted transfers (for a wallet: what the player owns). */
  postedMinor: bigint;
  /** Held by pending reservations. */
  reservedMinor: bigint;
  /** posted − reserved: what can be spent now. */
  availableMinor: bigint;
  currency: string;
}

export interface TransferInput {
  /** Client-chosen, unique forever. A retry with the same id and same input returns the first result. */
  transferId: string;
  kind: string;
  debit: AccountRef;
  credit: AccountRef;
  amountMinor: bigint;
  metadata?: Record<string, unknown>;
}

/**
 * The ledger. Every method joins the caller's `db.tx` when there is one (so a module can change its
 * own state and move money atomically), or runs in its own transaction. Errors are DomainErrors:
 * `insufficient-funds` (409), `transfer-id-reused` (409, same id with different input),
 * `transfer-not-pending` (409), `currency-mismatch` (400), `amount-invalid` (400).
 */
export interface Ledger {
  /** Single-phase: posted at once. */
  transfer(input: TransferInput): Promise<TransferView>;
  /** Two-phase, phase one: holds the amount on the debit account until post, void or expiry. */
  reserve(input: TransferInput & { timeoutS: number }): Promise<TransferView>;
  /** Posts a pending transfer (optionally a smaller amount). `transferId` is the id of this post. */
  post(input: { transferId: string; pendingTransferId: string; amountMinor?: bigint; metadata?: Record<string, unknown> }): Promise<TransferView>;
  /** Voids a pending transfer: the hold is released. */
  void(input: { transferId: string; pendingTransferId: string; reason: string }): Promise<TransferView>;
  /**
   * Gives back (part of) a posted transfer: a new transfer from its credit account to its debit account.
   * All refunds of one transfer together never exceed it (`refund-exceeds-original`, 409). The original
   * may be named by the pending id of a posted reservation or by its post.
   */
  refund(input: { transferId: string; originalTransferId: string; amountMinor?: bigint; kind?: string; originalKind?: string; metadata?: Record<string, unknown> }): Promise<TransferView>;
  balance(account: AccountRef): Promise<BalanceView>;
  getTransfer(transferId: string): Promise<TransferView | undefined>;
  /** Entries of one account, newest first, cursor-paginated. */
  /** `since` inclusive, `until` exclusive (payouts helper added `until` for the wallet's history filter). */
  history(account: AccountRef, page: { cursor?: string; limit: number; since?: Date; until?: Date }): Promise<{ items: HistoryItem[]; nextCursor?: string }>;
}

export interface HistoryItem {
  transferId: string;
  kind: string;
  state: TransferState;
  /** Signed from the account's point of view: + credit, − debit. */
  amountMinor: bigint;
  currency: string;
  at: Date;
  metadata: Record<string, unknown>;
}

// ───────────────────────────── PSP port ─────────────────────────────

export type FundingType = 'debit' | 'credit' | 'prepaid' | 'bank_transfer' | 'unknown';

export interface PaymentSession {
  /** The PSP's id of the payment. */
  pspPaymentId: string;
  status: 'requires_action' | 'processing' | 'succeeded' | 'failed';
  /** 3-D-Secure-like challenge for the player to complete. */
  actionUrl?: string;
  fundingType?: FundingType;
  /** Why a failed payment failed (the PSP's decline code). */
  failureReason?: string;
  /**
   * Succeeded payments: the payment method's holder name as the PSP has it (card or billing name),
   * when it has one. Personal data: never into events or logs.
   */
  holderName?: string;
  /** Succeeded payments: a stable id of the payment method (card fingerprint), never a card number. */
  methodRef?: string;
}

/** A payment as the PSP reports it on a status query. */
export type PaymentStatus = PaymentSession & { amountMinor: bigint; currency: string; reference: string };

export interface PayoutResult {
  pspPayoutId: string;
  status: 'pending' | 'paid' | 'failed';
  failureReason?: string;
}

export interface PspEvent {
  /** The PSP's event id: webhooks are deduplicated by it. */
  eventId: string;
  type: 'payment.succeeded' | 'payment.failed' | 'payment.requires_action' | 'payout.paid' | 'payout.failed' | 'refund.succeeded' | 'refund.failed';
  /** Our id (deposit id / withdrawal id) the PSP echoes back (metadata / client reference). */
  reference: string;
  pspObjectId: string;
  amountMinor: bigint;
  currency: string;
  fundingType?: FundingType;
  /** When the PSP created the event: out-of-order deliveries are ordered by it. */
  occurredAt: Date;
  failureReason?: string;
  /** payment.succeeded: as on PaymentSession (holder name, stable method id), when the event carries them. */
  holderName?: string;
  methodRef?: string;
}

/**
 * One payment service provider. Every call carries our idempotency key (the PSP dedupes on it);
 * the resilience wrapper (timeout, retry with backoff, breaker, bulkhead) sits around the adapter.
 *
 * Failures of the wrapped adapter (`psp` given to the parts) are DomainErrors with these codes:
 * - `psp-unavailable` (503, `retryAfterSeconds`): the call was NOT made (breaker open, bulkhead full);
 *   nothing happened at the PSP, so the command may be retried later with the same key.
 * - `psp-outcome-unknown` (504): the call timed out or kept failing after it may have reached the
 *   PSP. Do not re-send under a new key: settle it by a status query (getPayment /
 *   findPaymentByReference / findPayoutByReference) or the webhook.
 * - `psp-rejected` (502): the PSP refused the request for good (invalid request, unknown object).
 * A card decline is not an error: createPayment answers a session with status `failed`.
 */
export interface PspAdapter {
  readonly name: string;
  /**
   * True when payment webhooks may lack the holder name and method id that a status query
   * (getPayment) gives: Stripe sends the PaymentMethod of a PaymentIntent unexpanded.
   */
  readonly paymentEventsLackHolderName?: boolean;
  /**
   * `paymentMethod`: a PSP payment method id (Stripe `pm_…`) or a sandbox test card number.
   * `cardholderName`: the name on the card, where the PSP takes it with the payment (the sandbox's
   * `billing_details.name`); a Stripe PaymentMethod already carries its billing details.
   */
  createPayment(input: { idempotencyKey: string; reference: string; amountMinor: bigint; currency: string; playerId: string; returnUrl?: string; paymentMethod?: string; cardholderName?: string }): Promise<PaymentSession>;
  getPayment(pspPaymentId: string): Promise<PaymentStatus>;
  /** Status by our reference: settles a payment whose creation timed out (its PSP id is not known). */
  findPaymentByReference(reference: string): Promise<PaymentStatus | undefined>;
  createPayout(input: { idempotencyKey: string; reference: string; amountMinor: bigint; currency: string; playerId: string; destination: string }): Promise<PayoutResult>;
  /** Status by our reference: settles an outcome that was unknown after a timeout. */
  findPayoutByReference(reference: string): Promise<PayoutResult | undefined>;
  /** `reference`: our id the refund belongs to (echoed in its webhooks); default the payment's. */
  refundPayment(input: { idempotencyKey: string; pspPaymentId: string; amountMinor: bigint; reason: string; reference?: string }): Promise<{ pspRefundId: string; status: 'pending' | 'succeeded' | 'failed' }>;
  /**
   * Verifies a webhook on its raw body; throws DomainError `webhook-signature-invalid` (400) or
   * `webhook-timestamp-stale` (400). Undefined: authentic, but an event type we do not act on.
   */
  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PspEvent | undefined;
  /** The PSP's settlement report for a day (UTC), for reconciliation. */
  settlementReport(day: string): Promise<SettlementLine[]>;
}

export interface SettlementLine {
  pspObjectId: string;
  reference: string;
  kind: 'payment' | 'payout' | 'refund';
  amountMinor: bigint;
  currency: string;
  settledAt: Date;
}

// ───────────────────────────── Compliance gate ─────────────────────────────

export interface GateDecision {
  allowed: boolean;
  /** Stable reason codes: not-verified, under-age, self-excluded, time-out, limit-reached, sanctions-hold, open-investigation, compliance-unavailable. */
  reasons: string[];
}

/**
 * What payments asks the compliance module before money moves (its service, when it exists).
 * Until the compliance module is deployed the default gate refuses withdrawals (nothing unsafe
 * ships) and allows deposits subject to the player's own deposit limits.
 */
export interface ComplianceGate {
  canDeposit(playerId: string, amountMinor: bigint, currency: string): Promise<GateDecision>;
  canWithdraw(playerId: string, amountMinor: bigint, currency: string): Promise<GateDecision>;
  /** Opens a case (payout exception); returns its id, or undefined when no compliance module runs. */
  openCase?(input: { type: 'payout-exception'; subject: string; summary: string; data: Record<string, unknown> }): Promise<string | undefined>;
}

/**
 * What payments expects of the compliance module's service (`ctx.service('compliance')`) when that
 * module runs in the platform (payouts helper). Arguments are one JSON object each, so the same
 * interface works in process and over the kernel's remote calls. Until the module exists, the gate
 * in compliance-gate.ts stands in for it.
 */
export interface CompliancePaymentsService {
  canDeposit(input: { playerId: string; amountMinor: bigint; currency: string }): Promise<GateDecision>;
  /** Identity verified, sanctions screening clear, no open hold or investigation. */
  canWithdraw(input: { playerId: string; amountMinor: bigint; currency: string }): Promise<GateDecision>;
  openCase(input: { type: 'payout-exception'; subject: string; summary: string; data: Record<string, unknown> }): Promise<{ caseId: string }>;
  /** AML compares the holder name of a payment method with the player's legal name (absent in older compliance modules). */
  recordPaymentMethod?(input: { playerId: string; provider: string; methodRef: string; holderName: string }): Promise<{ recorded: boolean; nameScore: number; alertIds: string[] }>;
}

// ───────────────────────────── Module parts ─────────────────────────────

import type { HttpApp, JobDefinition, ModuleContext, SubscriberDefinition } from '@verity/kernel';

/**
 * Applies verified PSP webhook events of some types (deposits: payment.* and refund.*; payouts:
 * payout.*). `apply` runs inside the webhook's transaction, after the event id was recorded, so its
 * state change (and ledger transfers, outbox events, jobs) commits exactly once with the dedupe row.
 * It must never move an object's state backwards (deliveries come out of order).
 */
export interface PspEventHandler {
  readonly types: readonly PspEvent['type'][];
  /** `unknown-reference`: not one of ours (answered 200 and logged); `ignored`: known, no change. */
  apply(provider: string, event: PspEvent): Promise<'applied' | 'ignored' | 'unknown-reference'>;
}

/** What each part of the module (ledger, deposits, payouts, wallet, reconciliation) contributes. */
export interface ModulePart {
  routes?(app: HttpApp): void | Promise<void>;
  jobs?: JobDefinition<any>[];
  subscribers?: SubscriberDefinition[];
  /** Verified PSP webhooks of these types go to this part (see psp/webhooks.ts). */
  pspEvents?: PspEventHandler;
}

export type PartContext = ModuleContext;
