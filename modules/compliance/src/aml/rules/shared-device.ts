/**
 * One device or IP address behind several accounts: multi-accounting, mule networks, bonus abuse.
 * Sign-ins carry keyed hashes only (identity.signed-in.v1). IPs are shared legitimately (homes,
 * offices, mobile carriers' NAT) far more than devices, so their threshold is higher.
 */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { hoursBefore, type RuleDefinition } from './types.ts';

type Params = { windowDays: number; minAccountsPerDevice: number; minAccountsPerIp: number };

/** Accounts named in one alert at most. */
const ACCOUNTS_LISTED_MAX = 50;

export const sharedDevice: RuleDefinition<Params> = {
  id: 'shared-device',
  logicVersion: 1,
  title: 'One device or IP across several accounts',
  description: 'A device id signed in to by at least minAccountsPerDevice accounts, or an IP address by at least minAccountsPerIp, within the window.',
  triggers: ['sign-in'],
  parameters: Strict({
    windowDays: Type.Integer({ minimum: 1, maximum: 365 }),
    minAccountsPerDevice: Type.Integer({ minimum: 2, maximum: 1000 }),
    minAccountsPerIp: Type.Integer({ minimum: 2, maximum: 10_000 }),
  }),
  defaults: { windowDays: 30, minAccountsPerDevice: 3, minAccountsPerIp: 5 },
  suppressHours: (p) => p.windowDays * 24,
  async evaluate(trigger, p, q) {
    const from = hoursBefore(trigger.occurredAt, p.windowDays * 24);
    const checks = [
      { kind: 'device' as const, hash: trigger.deviceHash, min: p.minAccountsPerDevice },
      { kind: 'ip' as const, hash: trigger.ipHash, min: p.minAccountsPerIp },
    ];
    for (const c of checks) {
      if (!c.hash) continue;
      const accounts = await q.accountsOn(c.kind, c.hash, from, trigger.occurredAt, ACCOUNTS_LISTED_MAX);
      if (accounts.length < c.min) continue;
      return {
        dedupeKey: `${c.kind}:${c.hash}`,
        summary: `${accounts.length} accounts signed in from one ${c.kind === 'device' ? 'device' : 'IP address'} within ${p.windowDays} days`,
        facts: { via: c.kind, accountCount: accounts.length, accounts, windowDays: p.windowDays, threshold: c.min },
      };
    }
    return undefined;
  },
};
