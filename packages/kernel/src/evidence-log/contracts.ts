/** Wire contracts of the evidence log's HTTP API (public reads, witness registration, cosignatures). */
import { Type } from 'typebox';
import { Strict } from '../http/schemas.ts';

export const TAG_LOG = 'Evidence log';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Tree size (number of leaves)' });
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: '0-based leaf index' });
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', minLength: 64, maxLength: 64, description: 'SHA-256, lowercase hex' });
const Time = Type.String({ format: 'date-time' });
const Note = Type.String({ maxLength: 65_536, description: 'C2SP signed note: the checkpoint text, a blank line, the log signature and any witness cosignatures' });

export const CheckpointQuery = Strict({ size: Type.Optional(Size) });
export const CheckpointDto = Strict({
  origin: Type.String({ maxLength: 200 }),
  size: Size,
  rootHash: Hash,
  note: Note,
  signedAt: Time,
  cosignatures: Type.Array(Strict({ witness: Type.String({ maxLength: 200 }), cosignedAt: Time }), { maxItems: 32 }),
});

export const InclusionQuery = Strict({
  index: Type.Optional(Index),
  leafHash: Type.Optional(Hash),
  size: Type.Optional(Size),
});
export const InclusionDto = Strict({
  index: Index,
  size: Size,
  leafHash: Hash,
  proof: Type.Array(Hash, { maxItems: 128, description: 'RFC 9162 inclusion path, leaf to root' }),
  rootHash: Hash,
  checkpoint: Type.Optional(Note),
});

export const ConsistencyQuery = Strict({ from: Size, to: Type.Optional(Size) });
export const ConsistencyDto = Strict({
  from: Size,
  to: Size,
  proof: Type.Array(Hash, { maxItems: 128, description: 'RFC 9162 consistency proof' }),
  fromRootHash: Hash,
  toRootHash: Hash,
  fromCheckpoint: Type.Optional(Note),
  toCheckpoint: Type.Optional(Note),
});

export const EntryParams = Strict({ index: Index });
export const EntryDto = Strict({
  index: Index,
  leafHash: Hash,
  kind: Type.Union([Type.Literal('audit'), Type.Literal('record')]),
  module: Type.String({ maxLength: 64 }),
  type: Type.String({ maxLength: 200 }),
  visibility: Type.Union([Type.Literal('public'), Type.Literal('restricted')]),
  recordedAt: Time,
  integratedAt: Time,
  data: Type.String({ maxLength: 90_000, description: 'The logged bytes, base64; leafHash = SHA-256(0x00 ‖ bytes)' }),
});

export const KeyDto = Strict({
  origin: Type.String({ maxLength: 200 }),
  vkey: Type.String({ maxLength: 400, description: 'C2SP note verifier key <name>+<key id>+<base64(0x01 ‖ Ed25519 public key)>' }),
  algorithm: Type.Literal('Ed25519'),
});

const Vkey = Type.String({ minLength: 5, maxLength: 400, description: 'C2SP cosignature/v1 verifier key <name>+<key id>+<base64(0x04 ‖ Ed25519 public key)>' });
export const WitnessBody = Strict({ vkey: Vkey });
export const WitnessDto = Strict({ name: Type.String({ maxLength: 200 }), vkey: Vkey, registeredAt: Time });
export const WitnessesQuery = Strict({
  after: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,300}$', maxLength: 300, description: 'Opaque cursor: nextCursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
export const WitnessList = Strict({ items: Type.Array(WitnessDto, { maxItems: 100 }), nextCursor: Type.Optional(Type.String({ maxLength: 300 })) });

export const CosignatureBody = Strict({
  size: Size,
  cosignature: Type.String({ minLength: 10, maxLength: 1000, description: 'The witness\'s signature line: "— <name> <base64(key id ‖ timestamp ‖ signature)>"' }),
});
export const CosignatureDto = Strict({ size: Size, witness: Type.String({ maxLength: 200 }), cosignedAt: Time });
