/**
 * AML thresholds are in EUR: amounts in other currencies convert with each currency's own minor
 * digits (ISO 4217), half up, and a currency without a rate counts towards no threshold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toEurMinor } from '../src/aml/fx.ts';

const RATES = { GBP: 1.17, JPY: 0.0062, BHD: 2.44 };

describe('AML FX to EUR', () => {
  it('when amounts are in currencies with 2, 0 and 3 minor digits, then each converts to EUR cents by its own digits, half up, the same on every call', () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(toEurMinor(10_000n, 'GBP', RATES), 11_700n); // £100.00 → €117.00
      assert.equal(toEurMinor(10_000n, 'JPY', RATES), 6_200n); // ¥10,000 → €62.00
      assert.equal(toEurMinor(1_000n, 'BHD', RATES), 244n); // BD 1.000 → €2.44
      assert.equal(toEurMinor(1n, 'GBP', RATES), 1n); // 1p → €0.0117, rounds to 1 cent
      assert.equal(toEurMinor(999n, 'EUR', RATES), 999n);
    }
  });

  it('when a currency has no rate, then it converts to null (stored, counted towards no threshold)', () => {
    assert.equal(toEurMinor(10_000n, 'USD', RATES), null);
    assert.equal(toEurMinor(10_000n, 'ZZZ', RATES), null);
  });
});
