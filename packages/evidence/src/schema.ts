/**
 * Strict structural validation of an evidence bundle read from JSON. Every member is known and typed,
 * every encoding canonical (lowercase hex, fixed lengths, UTC timestamps): a bundle that differs from
 * a valid one in any byte either fails here or changes a value that a later check recomputes.
 */
import { hasControlChar } from './bytes.ts';
import { BUNDLE_FORMAT, type DrawBundle } from './bundle-types.ts';
import { MAX_WINNERS, RECORD_TYPES } from './draw.ts';

type Validator = (value: unknown, path: string, errors: string[]) => void;

const MAX_ERRORS = 20;
const MAX_ENTRIES = 50_000_000;
const MAX_PROOF = 64;

const push = (errors: string[], msg: string) => {
  if (errors.length < MAX_ERRORS) errors.push(msg);
};

function str(opts: { re?: RegExp; max?: number; what?: string } = {}): Validator {
  const max = opts.max ?? 256;
  return (v, path, errors) => {
    if (typeof v !== 'string') return push(errors, `${path} must be a string`);
    if (v.length === 0 || v.length > max) return push(errors, `${path} must have 1–${max} characters`);
    if (!v.isWellFormed()) return push(errors, `${path} is not valid Unicode`);
    if (opts.re ? !opts.re.test(v) : hasControlChar(v)) push(errors, `${path} must be ${opts.what ?? 'a line of text'}`);
  };
}

/** Free text that may span lines (signed notes). */
function text(max: number): Validator {
  return (v, path, errors) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max) return push(errors, `${path} must be a string of 1–${max} characters`);
    if (!v.isWellFormed()) push(errors, `${path} is not valid Unicode`);
  };
}

function int(min = 0, max = Number.MAX_SAFE_INTEGER): Validator {
  return (v, path, errors) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) push(errors, `${path} must be an integer in [${min}, ${max}]`);
  };
}

const bool: Validator = (v, path, errors) => {
  if (typeof v !== 'boolean') push(errors, `${path} must be true or false`);
};

function literal(value: string | number): Validator {
  return (v, path, errors) => {
    if (v !== value) push(errors, `${path} must be ${JSON.stringify(value)}`);
  };
}

function oneOf(values: readonly string[]): Validator {
  return (v, path, errors) => {
    if (typeof v !== 'string' || !values.includes(v)) push(errors, `${path} must be one of ${values.join(', ')}`);
  };
}

function arr(item: Validator, min: number, max: number): Validator {
  return (v, path, errors) => {
    if (!Array.isArray(v)) return push(errors, `${path} must be an array`);
    if (v.length < min || v.length > max) return push(errors, `${path} must have ${min}–${max} items`);
    for (let i = 0; i < v.length && errors.length < MAX_ERRORS; i++) item(v[i], `${path}[${i}]`, errors);
  };
}

function obj(required: Record<string, Validator>, optional: Record<string, Validator> = {}): Validator {
  return (v, path, errors) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return push(errors, `${path} must be an object`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!Object.hasOwn(required, k) && !Object.hasOwn(optional, k)) push(errors, `${path} has an unknown member ${JSON.stringify(k)}`);
    }
    for (const [k, check] of Object.entries(required)) {
      if (!Object.hasOwn(o, k)) push(errors, `${path}.${k} is missing`);
      else check(o[k], `${path}.${k}`, errors);
    }
    for (const [k, check] of Object.entries(optional)) if (Object.hasOwn(o, k)) check(o[k], `${path}.${k}`, errors);
  };
}

const hex = (bytes: number) => str({ re: new RegExp(`^[0-9a-f]{${bytes * 2}}$`), max: bytes * 2, what: `${bytes} bytes of lowercase hex` });
const hash = hex(32);
const uuid = str({ re: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, what: 'a lowercase UUID' });
const id = str({ re: /^[A-Za-z0-9._:/-]{1,128}$/, max: 128, what: 'an identifier ([A-Za-z0-9._:/-], 1–128 characters)' });

/** UTC RFC 3339 with 0–3 fractional digits, and a real calendar date. */
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const time: Validator = (v, path, errors) => {
  if (typeof v !== 'string' || !TIME_RE.test(v)) return push(errors, `${path} must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.sss]Z`);
  const ms = Date.parse(v);
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 19) !== v.slice(0, 19)) push(errors, `${path} is not a real date and time`);
};

export function timeMs(s: string): number {
  return Date.parse(s);
}

const entry = obj({ entryId: uuid, number: int(), kind: oneOf(['paid', 'postal']), holder: hash });

const prizeTier = obj(
  { tier: int(1, 1000), description: str({ max: 500 }), winners: int(1, MAX_WINNERS) },
  { cashMinor: str({ re: /^(?:0|[1-9][0-9]{0,30})$/, max: 31, what: 'a decimal amount in minor units' }), currency: str({ re: /^[A-Z]{3}$/, max: 3, what: 'an ISO 4217 code' }) },
);

const manifestBeacon = obj({
  network: id,
  chainHash: hash,
  publicKey: hex(96),
  period: int(1, 86_400),
  genesisTime: int(),
  schemeID: str({ max: 64 }),
  round: int(1),
  fallbackRounds: arr(int(1), 0, 8),
  nonProduction: bool,
});

export const manifestValidator = obj(
  {
    version: literal(1),
    drawId: id,
    competitionId: id,
    prizeTiers: arr(prizeTier, 1, 100),
    winnerCount: int(1, MAX_WINNERS),
    closesAt: time,
    beacon: manifestBeacon,
    operatorCommitment: hash,
    createdAt: time,
  },
  { origin: str({ max: 256 }), rulesHash: hash },
);

const reconciliation = obj({ sold: int(), voided: int(), postal: int() });

const closeRecord = obj({
  type: literal(RECORD_TYPES.close),
  drawId: id,
  competitionId: id,
  manifestLeafIndex: int(),
  manifestLeafHash: hash,
  entriesRoot: hash,
  count: int(),
  reconciliation,
  closedAt: time,
});

const winner = obj({ tier: int(1, 1000), position: int(0, MAX_WINNERS), index: int(), entryId: uuid, number: int() });

const resultRecord = obj({
  type: literal(RECORD_TYPES.result),
  drawId: id,
  manifestLeafHash: hash,
  snapshotLeafIndex: int(),
  snapshotLeafHash: hash,
  beacon: obj({ chainHash: hash, round: int(1), signature: hex(48), randomness: hash, fetchedFrom: str({ max: 512 }) }),
  operatorSecret: hash,
  winners: arr(winner, 0, MAX_WINNERS),
  drawnAt: time,
});

const inclusion = obj({ leafIndex: int(), proof: arr(hash, 0, MAX_PROOF) });

const log = obj({
  origin: str({ max: 256 }),
  vkeys: arr(str({ max: 512 }), 1, 8),
  witnessVkeys: arr(str({ max: 512 }), 0, 32),
  checkpoints: obj({ manifest: text(64 * 1024), close: text(64 * 1024), result: text(64 * 1024) }),
  consistency: obj({ manifestToClose: arr(hash, 0, MAX_PROOF), closeToResult: arr(hash, 0, MAX_PROOF) }),
  manifestInclusion: inclusion,
  closeInclusion: inclusion,
  resultInclusion: inclusion,
});

const bundle = obj({
  format: literal(BUNDLE_FORMAT),
  manifest: manifestValidator,
  close: obj({ record: closeRecord, entries: arr(entry, 0, MAX_ENTRIES) }),
  result: resultRecord,
  log,
});

/** Structural errors of a would-be bundle (empty when it is well-formed). */
export function bundleShapeErrors(value: unknown): string[] {
  const errors: string[] = [];
  bundle(value, 'bundle', errors);
  return errors;
}

export function isWellFormedBundle(value: unknown): value is DrawBundle {
  return bundleShapeErrors(value).length === 0;
}
