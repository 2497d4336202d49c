/**
 * The static FX table AML thresholds use (they are set in EUR, as the regulations that inspire them):
 * AML_FX_RATES_TO_EUR gives the value of one unit of a currency in EUR (`GBP=1.17`). Amounts stay
 * bigint minor units; each currency's own number of minor digits (ISO 4217, from ICU) is respected.
 * A currency without a rate converts to null: it is stored, logged, and counts towards no threshold.
 */
const RATE_SCALE = 1_000_000n;

/** Minor digits per currency code seen: an Intl.NumberFormat costs tens of µs to build, and every purchase event asks. */
const digitsSeen = new Map<string, number>();
/** Currency codes are three letters (the callers check); the bound only keeps a bug from growing the map. */
const DIGITS_SEEN_MAX = 1_024;

function minorDigits(currency: string): number {
  let digits = digitsSeen.get(currency);
  if (digits !== undefined) return digits;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    digits = 2;
  }
  if (digitsSeen.size < DIGITS_SEEN_MAX) digitsSeen.set(currency, digits);
  return digits;
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
