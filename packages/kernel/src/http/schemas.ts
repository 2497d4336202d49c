/** Schema helpers shared by every module's contracts. */
import { Type, type TProperties } from 'typebox';

/** A request/response object that rejects unknown fields. */
export const Strict = <T extends TProperties>(properties: T, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

/** Money on the wire: minor units as a decimal string (bigint-safe) plus an ISO 4217 code. */
export const Money = Strict({
  amountMinor: Type.String({ pattern: '^-?[0-9]{1,19}$', description: 'Amount in minor units (pence, cents) as a decimal string' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' }),
});
