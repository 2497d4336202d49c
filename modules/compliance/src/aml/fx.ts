/**
 * The static FX table AML thresholds use (they are set in EUR, as the regulations that inspire them):
 * AML_FX_RATES_TO_EUR gives the value of one unit of a currency in EUR (`GBP=1.17`). Amounts stay
 * bigint minor units; each currency's own number of minor digits (ISO 4217, from ICU) is respected.
 * A currency without a rate converts to null: it is stored, logged, and counts towards no threshold.
 */
const RATE_SCALE = 1_000_000n;

function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export type FxTable = Readonly<Record<string, number>>;

/** EUR minor units (cents), rounded half up; null when the table has no rate for the currency. */
export function toEurMinor(amountMinor: bigint, currency: string, rates: FxTable): bigint | null {
  const rate = currency === 'EUR' ? 1 : rates[currency];
  if (rate === undefined || !(rate > 0)) return null;
  const ratePpm = BigInt(Math.round(rate * Number(RATE_SCALE)));
  // Bring the amount to 2 minor digits (EUR's) before applying the rate: JPY has 0, BHD 3.
  const shift = 2 - minorDigits(currency);
  const numerator = amountMinor * ratePpm * (shift > 0 ? 10n ** BigInt(shift) : 1n);
  const denominator = RATE_SCALE * (shift < 0 ? 10n ** BigInt(-shift) : 1n);
  return (numerator + denominator / 2n) / denominator;
}
