/** Wire contracts of retention, legal holds and evidence packages. */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_RETENTION = 'Retention and evidence';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const Time = Type.String({ format: 'date-time' });
const Reason = Type.String({ minLength: 3, maxLength: 500 });
const PlayerId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]{1,64}$' });

export const PlayerParams = Strict({ playerId: PlayerId });
export const HoldParams = Strict({ legalHoldId: Type.String({ format: 'uuid', maxLength: 36 }) });
export const PackageParams = Strict({ packageId: Type.String({ format: 'uuid', maxLength: 36 }) });
export const ReasonBody = Strict({ reason: Reason });
export const LegalHoldBody = Strict({ playerId: PlayerId, reason: Reason });
export const LegalHoldsQuery = Strict({ playerId: PlayerId });

export const LegalHoldDto = Strict({
  legalHoldId: Type.String({ maxLength: 36 }),
  playerId: Type.String({ maxLength: 64 }),
  reason: Type.String({ maxLength: 500 }),
  placedBy: Type.String({ maxLength: 200 }),
  placedAt: Time,
  releasedBy: Type.Optional(Type.String({ maxLength: 200 })),
  releasedAt: Type.Optional(Time),
  releaseReason: Type.Optional(Type.String({ maxLength: 500 })),
});
export const LegalHoldList = Strict({ items: Type.Array(LegalHoldDto, { maxItems: 200 }) });

export const ClosureReply = Strict({ playerId: Type.String({ maxLength: 64 }), closedAt: Time, retainUntil: Time });

export const RetentionStatus = Strict({
  playerId: Type.String({ maxLength: 64 }),
  closedAt: Type.Optional(Time),
  retainUntil: Type.Optional(Time),
  erasedAt: Type.Optional(Time),
  legalHolds: Type.Array(LegalHoldDto, { maxItems: 200 }),
});

export const RetentionRunReply = Strict({ erased: Type.Integer(), playerIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100_000 }) });

export const ExportBody = Strict({
  subject: Type.String({ minLength: 8, maxLength: 100, pattern: '^(player|case):[A-Za-z0-9-]{1,64}$', description: '`player:<id>` or `case:<id>`' }),
});

export const PackageDto = Strict({
  packageId: Type.String({ maxLength: 36 }),
  subject: Type.String({ maxLength: 100 }),
  sha256: Type.String({ maxLength: 64, description: 'SHA-256 of the archive' }),
  sizeBytes: Type.String({ maxLength: 20 }),
  manifestSha256: Type.String({ maxLength: 64 }),
  keyId: Type.String({ maxLength: 64 }),
  signature: Type.String({ maxLength: 200, description: 'Ed25519 signature of manifest.json, base64' }),
  files: Type.Integer({ description: 'Files listed in the manifest' }),
  createdAt: Time,
  downloadUrl: Type.String({ maxLength: 200 }),
});

export const PublicKeyReply = Strict({
  keyId: Type.String({ maxLength: 64 }),
  algorithm: Type.Literal('Ed25519'),
  publicKeyPem: Type.String({ maxLength: 1000 }),
});
