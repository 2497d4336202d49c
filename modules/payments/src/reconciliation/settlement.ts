/**
 * Comparing a PSP's settlement report with our ledger (pure: no I/O, so every case is testable).
 *
 * Both sides are summed per (kind, reference, currency): a payment, each refund of it, a payout.
 * Our side is every posted movement through the PSP's clearing account; its reference is the id we
 * gave the PSP (deposit or withdrawal id, in the transfer's metadata), else the PSP's object id.
 * Times differ by a few seconds across midnight, so the report of day D is compared with the
 * reports of D−1 and D+1 and our movements of D−1..D+1 as well, and a discrepancy is reported for
 * day D only when it involves a line of D's report or a movement of ours on day D.
 */
import type { SettlementLine } from '../contract.ts';
import type { ClearingMovement } from './repository.ts';

export type SettlementKind = SettlementLine['kind'];
export type SettlementDiscrepancyKind = 'settlement-missing' | 'settlement-extra' | 'settlement-amount-mismatch';

export interface SettlementDiscrepancy {
  kind: SettlementDiscrepancyKind;
  /** `<kind>:<reference>:<currency>` */
  key: string;
  settlementKind: SettlementKind;
  reference: string;
  currency: string;
  pspAmountMinor: bigint;
  ourAmountMinor: bigint;
  pspObjectIds: string[];
  transferIds: string[];
}

export interface SettlementComparison {
  lines: number;
  movements: number;
  matched: number;
  discrepancies: SettlementDiscrepancy[];
}

/** Movements that never appear in a settlement report (a returned payout is credited back by us). */
const NOT_SETTLED_KINDS: ReadonlySet<string> = new Set(['payout-reversal', 'payout-late-debit']);
const REFERENCE_KEYS = ['reference', 'depositId', 'withdrawalId', 'paymentReference'] as const;
const OBJECT_KEYS = ['pspObjectId', 'pspPaymentId', 'pspPayoutId', 'pspRefundId'] as const;
const IDS_PER_SIDE_MAX = 20;

interface Side {
  settlementKind: SettlementKind;
  reference: string;
  currency: string;
  amountMinor: bigint;
  ids: string[];
  /** Touches day D (a line of D's report, or a movement of ours on D). */
  onDay: boolean;
}

function firstString(metadata: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = metadata[k];
    if (typeof v === 'string' && v.length > 0 && v.length <= 200) return v;
  }
  return undefined;
}

/** What a movement of ours is, in the report's terms; undefined when the report never lists it. */
export function settlementKindOf(m: Pick<ClearingMovement, 'kind' | 'inbound'>): SettlementKind | undefined {
  if (NOT_SETTLED_KINDS.has(m.kind)) return undefined;
  if (m.inbound) return 'payment';
  return m.kind === 'payout-settlement' || m.kind.startsWith('payout') ? 'payout' : 'refund';
}

const keyOf = (kind: SettlementKind, reference: string, currency: string) => JSON.stringify([kind, reference, currency]);

function add(map: Map<string, Side>, key: string, amountMinor: bigint, id: string, onDay: boolean): void {
  const [settlementKind, reference, currency] = JSON.parse(key) as [SettlementKind, string, string];
  const side = map.get(key) ?? { settlementKind, reference, currency, amountMinor: 0n, ids: [], onDay: false };
  side.amountMinor += amountMinor;
  if (side.ids.length < IDS_PER_SIDE_MAX) side.ids.push(id);
  side.onDay ||= onDay;
  map.set(key, side);
}

function ourSide(movements: readonly ClearingMovement[], dayStart: Date, dayEnd: Date): Map<string, Side> {
  const ours = new Map<string, Side>();
  for (const m of movements) {
    const kind = settlementKindOf(m);
    if (!kind) continue;
    const reference = firstString(m.metadata, REFERENCE_KEYS) ?? (firstString(m.metadata, OBJECT_KEYS) ? `obj:${firstString(m.metadata, OBJECT_KEYS)}` : `transfer:${m.transferId}`);
    add(ours, keyOf(kind, reference, m.currency), m.amountMinor, m.transferId, m.at >= dayStart && m.at < dayEnd);
  }
  return ours;
}

/**
 * `reports`: lines of D−1, D and D+1, each tagged with whether it is from D's report.
 * `movements`: ours in [D−1, D+2). `day`: D as YYYY-MM-DD (UTC).
 */
export function compareSettlement(reports: readonly { line: SettlementLine; ofDay: boolean }[], movements: readonly ClearingMovement[], day: string): SettlementComparison {
  const dayStart = new Date(`${day}T00:00:00.000Z`);
  const dayEnd = new Date(dayStart.getTime() + 86_400_000);
  const ours = ourSide(movements, dayStart, dayEnd);
  const theirs = new Map<string, Side>();
  for (const { line, ofDay } of reports) {
    const byReference = keyOf(line.kind, line.reference, line.currency);
    const byObject = keyOf(line.kind, `obj:${line.pspObjectId}`, line.currency);
    const key = !ours.has(byReference) && ours.has(byObject) ? byObject : byReference;
    add(theirs, key, line.amountMinor, line.pspObjectId, ofDay);
  }
  const discrepancies: SettlementDiscrepancy[] = [];
  let matched = 0;
  for (const key of new Set([...theirs.keys(), ...ours.keys()])) {
    const psp = theirs.get(key);
    const our = ours.get(key);
    if (!(psp?.onDay || our?.onDay)) continue;
    if (psp && our && psp.amountMinor === our.amountMinor) {
      matched++;
      continue;
    }
    const { settlementKind, reference, currency } = (psp ?? our)!;
    discrepancies.push({
      kind: !our ? 'settlement-missing' : !psp ? 'settlement-extra' : 'settlement-amount-mismatch',
      key: `${settlementKind}:${reference}:${currency}`, settlementKind, reference, currency,
      pspAmountMinor: psp?.amountMinor ?? 0n, ourAmountMinor: our?.amountMinor ?? 0n,
      pspObjectIds: psp?.ids ?? [], transferIds: our?.ids ?? [],
    });
  }
  return { lines: reports.filter((r) => r.ofDay).length, movements: movements.length, matched, discrepancies };
}

/** YYYY-MM-DD ± n days. */
export function shiftDay(day: string, n: number): string {
  return new Date(new Date(`${day}T00:00:00.000Z`).getTime() + n * 86_400_000).toISOString().slice(0, 10);
}
