/**
 * What the parts of the ticketing module build against: the competition as the code sees it, the
 * other modules' services it calls, and what each part contributes. Types only.
 */
import type { HttpApp, JobDefinition, ModuleContext, SubscriberDefinition } from '@verity/kernel';
import type { ComplianceService } from '@verity/compliance';
import type { PaymentsService } from '@verity/payments';
import type { SkillService } from '@verity/skill';
import type { CompetitionState } from './domain/lifecycle.ts';
import type { SkillTestTerms, Terms } from './domain/terms.ts';

export type { SkillService };

export interface DrawManifest {
  drawId: string;
  manifestHash: string;
  logIndex: number;
  recordedAt: Date;
}

/** A competition: the terms a player sees (domain/terms.ts) and what the module keeps beside them. */
export interface Competition extends Terms {
  id: string;
  state: CompetitionState;
  description?: string;
  skillTest?: SkillTestTerms;
  shardCount?: number;
  /** Secret of the lucky-dip permutation: never leaves the module. */
  luckyKey?: Buffer;
  drawManifest?: DrawManifest;
  drawResult?: { drawId: string; resultHash: string };
  cancelReason?: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  publishedAt?: Date;
  openedAt?: Date;
  closedAt?: Date;
  drawnAt?: Date;
  settledAt?: Date;
  cancelledAt?: Date;
}

/** A competition that has been published: every term is there (the database trigger holds it). */
export type PublishedCompetition = Competition & Required<Pick<Competition, 'priceMinor' | 'maxTickets' | 'perPlayerCap' | 'opensAt' | 'closesAt' | 'shardCount' | 'luckyKey'>>;

/** The other modules ticketing commands (in process, or over HTTP when they run elsewhere). */
export interface Ports {
  payments(): PaymentsService;
  compliance(): ComplianceService;
  skill(): SkillService;
}

/**
 * Crash simulation for the recovery tests (`@verity/ticketing/testing`): a failpoint throws after
 * its step, as if the process died there; the purchase is left as a crash would leave it.
 */
export interface Failpoints {
  afterReserve?(purchase: { purchaseId: string; playerId: string }): void;
  afterIssue?(purchase: { purchaseId: string; playerId: string }): void;
}

/** What each part of the module contributes. */
export interface ModulePart {
  routes?(app: HttpApp): void | Promise<void>;
  jobs?: JobDefinition<any>[];
  subscribers?: SubscriberDefinition[];
  stop?(): Promise<void>;
}

export type PartContext = ModuleContext;
