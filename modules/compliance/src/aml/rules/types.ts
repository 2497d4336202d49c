/**
 * What an AML rule is: TypeScript over compliance's own aggregate tables, evaluated "as of" the
 * moment of the event that triggers it, so the same code runs live and in a back-test over stored
 * history. Its parameters are data (versioned in aml_rule_versions); its code has a logic version.
 */
import type { TObject } from 'typebox';
import type { AmlQueries } from '../repository.ts';

export type TriggerKind = 'deposit' | 'withdrawal' | 'sign-in' | 'payment-method';

/** An event of stored history, as a rule sees it. */
export interface Trigger {
  kind: TriggerKind;
  /** Unique per trigger: `deposit:<id>`, `withdrawal:<id>`, `sign-in:<event id>`, `payment-method:<id>`. */
  ref: string;
  playerId: string;
  occurredAt: Date;
  /** deposit / withdrawal: the amount in EUR minor units (null: no FX rate). */
  eurMinor?: bigint | null;
  ipHash?: string | null;
  deviceHash?: string | null;
  /** payment-method: the stored similarity of the holder's name to the player's legal name. */
  nameScore?: number;
  methodKey?: string;
}

export interface Hit {
  /** What makes two hits "the same alert" (`player:<id>`, `device:<hash>`). */
  dedupeKey: string;
  /** One line for the case, facts only: no personal data. */
  summary: string;
  /** The numbers behind the hit (minor units as strings). */
  facts: Record<string, unknown>;
}

export interface RuleDefinition<P extends Record<string, number> = Record<string, number>> {
  id: string;
  /** Bumped when the code of the rule changes meaning; stored with every version and alert. */
  logicVersion: number;
  title: string;
  description: string;
  triggers: readonly TriggerKind[];
  /** TypeBox schema of the parameters (every field required, bounded). */
  parameters: TObject;
  defaults: P;
  /** A hit with the same dedupe key within this many hours of an earlier alert raises nothing new. */
  suppressHours(params: P): number;
  evaluate(trigger: Trigger, params: P, q: AmlQueries): Promise<Hit | undefined>;
}

export const HOUR_MS = 3_600_000;
export const hoursBefore = (at: Date, hours: number) => new Date(at.getTime() - hours * HOUR_MS);
/** bigint minor units as they go into JSON facts. */
export const minor = (v: bigint) => v.toString();
