/** What the PSP adapters offer the resilience wrapper beyond the port: cancellation of a call. */
import type { PaymentSession, PaymentStatus, PayoutResult, PspAdapter, PspEvent, SettlementLine } from '../contract.ts';

export interface CallOptions {
  /** Aborted when the call's deadline passes: the adapter stops waiting for the answer. */
  signal?: AbortSignal;
}

/** A PSP adapter (sandbox, Stripe): the port's methods, each taking an optional abort signal. */
export interface PspDriver {
  readonly name: string;
  readonly paymentEventsLackHolderName?: boolean;
  createPayment(input: Parameters<PspAdapter['createPayment']>[0], call?: CallOptions): Promise<PaymentSession>;
  getPayment(pspPaymentId: string, call?: CallOptions): Promise<PaymentStatus>;
  findPaymentByReference(reference: string, call?: CallOptions): Promise<PaymentStatus | undefined>;
  createPayout(input: Parameters<PspAdapter['createPayout']>[0], call?: CallOptions): Promise<PayoutResult>;
  findPayoutByReference(reference: string, call?: CallOptions): Promise<PayoutResult | undefined>;
  refundPayment(input: Parameters<PspAdapter['refundPayment']>[0], call?: CallOptions): Promise<Awaited<ReturnType<PspAdapter['refundPayment']>>>;
  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PspEvent | undefined;
  settlementReport(day: string, call?: CallOptions): Promise<SettlementLine[]>;
}
