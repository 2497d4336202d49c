import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode, parse, stringify } from '../src/codec.ts';

describe('service-call codec', () => {
  it('when money and timestamps travel, then bigint and Date come back as bigint and Date', () => {
    const value = {
      amountMinor: 9_007_199_254_740_993n,
      refund: -5n,
      at: new Date('2025-03-01T12:00:00.123Z'),
      nested: [{ n: 1n }, null, 'x', 2.5, true],
    };
    const back = parse(stringify(value));
    assert.deepEqual(back, value);
  });

  it('when an optional argument is omitted in the middle of a list, then it stays undefined, not null', () => {
    const back = parse(stringify({ args: ['a', undefined, 3n] })) as { args: unknown[] };
    assert.equal(back.args.length, 3);
    assert.equal(back.args[1], undefined);
    assert.equal(back.args[2], 3n);
  });

  it('when a plain object happens to look like a tag, then it is not misread as one', () => {
    const tricky = { $bigint: 'not a number' };
    assert.deepEqual(parse(stringify(tricky)), tricky);
    assert.deepEqual(parse(stringify({ wrap: { $date: 'whatever' } })), { wrap: { $date: 'whatever' } });
  });

  it('when bytes travel, then they come back byte for byte', () => {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    assert.deepEqual(parse(stringify(bytes)), bytes);
  });

  it('when a value cannot cross a process boundary, then encoding fails loudly instead of losing data', () => {
    assert.throws(() => encode({ f: () => 1 }), TypeError);
    assert.throws(() => encode(new Map()), TypeError);
    assert.throws(() => encode(Number.NaN), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => encode(cyclic), /deeper than/);
  });

  it('when the wire carries a malformed tag or a __proto__ key, then decoding refuses or ignores it safely', () => {
    assert.throws(() => decode({ $bigint: '12abc' }), /malformed \$bigint/);
    assert.throws(() => decode({ $date: 'yesterday' }), /malformed \$date/);
    const decoded = decode(JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.equal((decoded as { polluted?: boolean }).polluted, undefined);
    assert.equal(decoded.ok, 1);
  });
});
