/** Wire contracts of the draws routes (TypeBox; the OpenAPI document is generated from them). */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';
import { DRAW_STATES } from '../domain/state.ts';

export const TAG_DRAWS = 'Draws';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Hex32 = Type.String({ pattern: '^[0-9a-f]{64}$', description: '32 bytes, lowercase hex' });
const Time = Type.String({ format: 'date-time' });
const State = Type.Union(DRAW_STATES.map((s) => Type.Literal(s)));
const CompetitionId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });

export const CompetitionParams = Strict({ competitionId: CompetitionId });
export const ProofParams = Strict({ drawId: Uuid, ticketId: Uuid });
export const DrawParams = Strict({ drawId: Uuid });

const Checkpoint = Strict({
  size: Type.Integer({ minimum: 0 }),
  rootHash: Hex32,
  note: Type.String({ maxLength: 65_536, description: 'The C2SP signed note (verify it with the log key from GET /v1/log/checkpoint)' }),
});
const LogPosition = Strict({ leafIndex: Type.Integer({ minimum: 0 }), leafHash: Hex32, checkpoint: Checkpoint }, { description: 'Where the record sits in the evidence log, and the signed checkpoint taken after it' });

const Tier = Strict({
  tier: Type.Integer({ minimum: 1 }),
  description: Type.String({ maxLength: 500 }),
  winners: Type.Integer({ minimum: 1 }),
  cashMinor: Type.Optional(Type.String({ pattern: '^[0-9]{1,31}$' })),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
});

export const Manifest = Strict({
  version: Type.Literal(1),
  drawId: Type.String({ maxLength: 128 }),
  competitionId: Type.String({ maxLength: 128 }),
  origin: Type.Optional(Type.String({ maxLength: 256 })),
  prizeTiers: Type.Array(Tier, { maxItems: 100 }),
  winnerCount: Type.Integer({ minimum: 1 }),
  closesAt: Time,
  beacon: Strict({
    network: Type.String({ maxLength: 128, description: '`drand:quicknet`, or `local:…` for the non-production sandbox' }),
    chainHash: Hex32,
    publicKey: Type.String({ pattern: '^[0-9a-f]{192}$' }),
    period: Type.Integer({ minimum: 1 }),
    genesisTime: Type.Integer({ minimum: 0 }),
    schemeID: Type.String({ maxLength: 64 }),
    round: Type.Integer({ minimum: 1, description: 'R: the first round after closesAt, plus a margin' }),
    fallbackRounds: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 8 }),
    nonProduction: Type.Boolean({ description: 'True when the beacon is the local sandbox: not public randomness' }),
  }),
  operatorCommitment: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the 32-byte operator secret revealed with the result' }),
  rulesHash: Type.Optional(Hex32),
  createdAt: Time,
});

export const ManifestReply = Strict({
  drawId: Uuid,
  competitionId: CompetitionId,
  state: State,
  manifestHash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the logged manifest bytes (RFC 8785 JSON with "type")' }),
  manifest: Manifest,
  log: LogPosition,
});

export const DrawView = Strict({
  drawId: Uuid,
  competitionId: CompetitionId,
  state: State,
  beaconRound: Type.Optional(Type.Integer({ minimum: 1 })),
  roundAvailableAt: Type.Optional(Time),
  nonProduction: Type.Optional(Type.Boolean()),
  manifestHash: Type.Optional(Hex32),
  entriesCount: Type.Optional(Type.Integer({ minimum: 0 })),
  entriesRoot: Type.Optional(Hex32),
  resultHash: Type.Optional(Hex32),
  blockedReason: Type.Optional(Type.String({ maxLength: 1000 })),
  caseId: Type.Optional(Type.String({ maxLength: 64 })),
  failureReason: Type.Optional(Type.String({ maxLength: 1000 })),
  committedAt: Type.Optional(Time),
  snapshottedAt: Type.Optional(Time),
  drawnAt: Type.Optional(Time),
  settledAt: Type.Optional(Time),
});

const Winner = Strict({
  position: Type.Integer({ minimum: 0, description: 'Draw order (the DRBG output order)' }),
  tier: Type.Integer({ minimum: 1 }),
  ticketId: Uuid,
  number: Type.Integer({ minimum: 0 }),
  entryIndex: Type.Integer({ minimum: 0, description: 'Index in the canonical snapshot' }),
  prize: Type.Union([Type.Literal('cash'), Type.Literal('fulfilment')]),
  prizeState: Type.Union([Type.Literal('pending'), Type.Literal('credited'), Type.Literal('handed-over')]),
});

export const ResultReply = Strict({
  drawId: Uuid,
  competitionId: CompetitionId,
  state: State,
  nonProduction: Type.Boolean(),
  entriesCount: Type.Integer({ minimum: 0 }),
  entriesRoot: Hex32,
  beacon: Strict({ chainHash: Hex32, round: Type.Integer({ minimum: 1 }), signature: Type.String({ pattern: '^[0-9a-f]{96}$' }), randomness: Hex32, fetchedFrom: Type.String({ maxLength: 512 }) }),
  operatorSecret: Hex32,
  operatorCommitment: Hex32,
  winners: Type.Array(Winner, { maxItems: 100_000 }),
  resultHash: Hex32,
  bundleSha256: Hex32,
  drawnAt: Time,
  log: LogPosition,
});

export const EvidenceReply = Type.Object({}, {
  additionalProperties: true,
  description: 'The draw evidence bundle (format verity-draw-bundle/v1, docs/draw-protocol.md), byte for byte as stored; check it offline with `verity verify <file>`',
});

export const EntryProofReply = Strict({
  drawId: Uuid,
  competitionId: CompetitionId,
  ticketId: Uuid,
  index: Type.Integer({ minimum: 0, description: 'The entry\'s index in the canonical snapshot' }),
  count: Type.Integer({ minimum: 1 }),
  root: Hex32,
  proof: Type.Array(Hex32, { maxItems: 64, description: 'RFC 9162 inclusion path, leaf to root' }),
  leaf: Strict({ entryId: Uuid, number: Type.Integer({ minimum: 0 }), kind: Type.Union([Type.Literal('paid'), Type.Literal('postal')]), holder: Hex32 }, { description: 'The canonical entry as hashed into the snapshot' }),
  holderSalt: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Your ticket\'s salt: holder = SHA-256("verity/holder/v1" ‖ 0x00 ‖ salt ‖ your player id)' }),
  salt: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'The same salt under the name the offline verifier reads (`verity verify entry`)' }),
  playerId: Type.String({ maxLength: 64, description: 'Your player id (this proof is only ever given to you): with the salt, the verifier recomputes the holder commitment' }),
  drawState: State,
});
