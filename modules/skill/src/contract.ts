/**
 * Types the parts of the skill module build against, and the public DTOs of its service.
 */
import type { HttpApp, JobDefinition, ModuleContext, SubscriberDefinition } from '@verity/kernel';

export type SkillTestKind = 'multiple-choice' | 'spot-the-ball';

export interface TestForCompetition {
  configured: boolean;
  ready: boolean;
  testId?: string;
  kind?: SkillTestKind;
  /** Why the test is not ready (empty when it is). */
  problems: string[];
  /** One paragraph for the competition terms. */
  summary?: string;
}

export type PassTokenCheck =
  | { valid: true; tokenId: string; expiresAt: Date; placements?: number }
  | { valid: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-player' | 'wrong-competition' };

export interface PostalGrade {
  correct: boolean;
  questionVersionId?: string;
}

/** What each part contributes to the module. */
export interface ModulePart {
  routes?(app: HttpApp): void | Promise<void>;
  jobs?: JobDefinition<any>[];
  subscribers?: SubscriberDefinition[];
}

export type PartContext = ModuleContext;

/** `operator:<id>` of a request's principal. */
export const operatorActor = (operatorId: string) => `operator:${operatorId}`;
