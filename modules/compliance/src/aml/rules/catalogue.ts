/** The AML rules this build knows, by id. A rule's parameters are versioned in the database. */
import { cddThreshold } from './cdd-threshold.ts';
import { depositVelocity } from './deposit-velocity.ts';
import { paymentMethodName } from './payment-method-name.ts';
import { rapidInOut } from './rapid-in-out.ts';
import { sharedDevice } from './shared-device.ts';
import { structuring } from './structuring.ts';
import type { RuleDefinition } from './types.ts';

export const RULES: readonly RuleDefinition<any>[] = [cddThreshold, structuring, rapidInOut, depositVelocity, sharedDevice, paymentMethodName];

export const ruleById = (id: string): RuleDefinition<any> | undefined => RULES.find((r) => r.id === id);
