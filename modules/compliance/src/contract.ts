/**
 * Contracts the parts of the compliance module build against. Types only.
 */
import type { HttpApp, JobDefinition, ModuleContext, SubscriberDefinition } from '@verity/kernel';

/** Stable refusal reasons, shown to players and operators in problem+json. */
export type EligibilityReason =
  | 'not-verified'
  | 'under-age'
  | 'self-excluded'
  | 'time-out'
  | 'limit-reached'
  | 'sanctions-hold'
  | 'open-investigation'
  | 'account-closed';

export interface GateDecision {
  allowed: boolean;
  reasons: EligibilityReason[];
  /** For limit-reached: what is left in the tightest window (minor units). */
  remainingMinor?: bigint;
}

export type CaseType = 'kyc-review' | 'aml-alert' | 'sanctions-hit' | 'payout-exception' | 'operator-override' | 'complaint';

export interface OpenCaseInput {
  type: CaseType;
  /** `player:<id>`, `withdrawal:<id>`… */
  subject: string;
  summary: string;
  data: Record<string, unknown>;
  /** Deduplicates: an open case of the same type and dedupeKey is returned instead of a new one. */
  dedupeKey?: string;
}

/** Holds placed on a player by compliance decisions (sanctions hit, investigation). */
export type HoldKind = 'sanctions' | 'investigation' | 'payout';

/** The case engine as the other parts use it. */
export interface Cases {
  open(input: OpenCaseInput): Promise<{ caseId: string; created: boolean }>;
}

/** Holds as the other parts use them (sanctions hits place holds; case decisions lift them). */
export interface Holds {
  place(input: { playerId: string; kind: HoldKind; caseId?: string; reason: string }): Promise<void>;
  lift(input: { playerId: string; kind: HoldKind; caseId?: string; reason: string }): Promise<void>;
  active(playerId: string): Promise<HoldKind[]>;
}

/** Why a player was screened (stored with the decision). */
export type ScreeningTrigger = 'registration' | 'payout' | 'list-change' | 'operator';

/** One sanctions screening decision of a player (aml-sanctions helper, ADR 0011). */
export interface ScreeningResult {
  screeningId: string;
  playerId: string;
  /** hit: score ≥ SANCTIONS_HIT_THRESHOLD (a sanctions hold is in place and a case open); candidates: ≥ the cutoff. */
  outcome: 'clear' | 'candidates' | 'hit';
  bestScore: number | null;
  algorithmVersion: string;
  /** The list versions screened against; empty when no list was ever imported. */
  listIds: string[];
  caseId?: string;
  screenedAt: Date;
}

/**
 * Sanctions screening as the other parts use it: eligibility screens before every payout
 * (canWithdraw → screenPlayer(playerId, 'payout'); a hit has placed the sanctions hold by the time
 * it returns). Throws `screening-identity-unavailable` (503) when identity cannot be read.
 */
export interface Screening {
  screenPlayer(playerId: string, trigger: ScreeningTrigger): Promise<ScreeningResult>;
  /** The latest recorded decision, without screening again. */
  latest(playerId: string): Promise<ScreeningResult | undefined>;
}

/** What each part contributes to the module. */
export interface ModulePart {
  routes?(app: HttpApp): void | Promise<void>;
  jobs?: JobDefinition<any>[];
  subscribers?: SubscriberDefinition[];
  /** After every module is set up (sandbox servers, keys); `stop` in reverse order. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type PartContext = ModuleContext;
