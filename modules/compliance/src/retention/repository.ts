/** SQL of retention (closures, erasure, legal holds), evidence packages and the signing key. */
import type { Db } from '@verity/kernel';

export interface LegalHoldRow {
  id: string;
  playerId: string;
  reason: string;
  placedBy: string;
  placedAt: Date;
  releasedBy: string | null;
  releasedAt: Date | null;
  releaseReason: string | null;
}

export interface PackageRow {
  id: string;
  subject: string;
  requestedBy: string;
  objectKey: string;
  encrypted: boolean;
  sha256: string;
  sizeBytes: bigint;
  manifestSha256: string;
  keyId: string;
  signature: string;
  files: number;
  createdAt: Date;
}

export interface SigningKeyRow {
  keyId: string;
  publicKeyPem: string;
  privateKeyEnc: string;
  createdAt: Date;
}

type Row = Record<string, any>;

const toHold = (r: Row): LegalHoldRow => ({
  id: r.id, playerId: r.player_id, reason: r.reason, placedBy: r.placed_by, placedAt: r.placed_at, releasedBy: r.released_by,
  releasedAt: r.released_at, releaseReason: r.release_reason,
});

const toPackage = (r: Row): PackageRow => ({
  id: r.id, subject: r.subject, requestedBy: r.requested_by, objectKey: r.object_key, encrypted: r.encrypted, sha256: r.sha256, sizeBytes: r.size_bytes,
  manifestSha256: r.manifest_sha256, keyId: r.key_id, signature: r.signature, files: r.files, createdAt: r.created_at,
});

export function createRetentionRepository(db: Db) {
  return {
    async recordClosure(playerId: string, at: Date, reason: string): Promise<boolean> {
      await db.query<Row>('insert into compliance.players (player_id) values ($1) on conflict (player_id) do nothing', [playerId]);
      const rows = await db.query<Row>(
        `update compliance.players set closed_at = $2, closed_reason = $3, updated_at = clock_timestamp()
          where player_id = $1 and closed_at is null returning player_id`,
        [playerId, at, reason],
      );
      return rows.length === 1;
    },

    /** Closed players whose retention ended by `now`, not erased, on no active legal hold. */
    async erasable(now: Date, years: number, limit: number): Promise<string[]> {
      const rows = await db.query<{ player_id: string }>(
        `select p.player_id from compliance.players p
          where p.closed_at is not null and p.erased_at is null and p.closed_at + make_interval(years => $2) <= $1
            and not exists (select 1 from compliance.legal_holds h where h.player_id = p.player_id and h.released_at is null)
          order by p.closed_at limit $3`,
        [now, years, limit],
      );
      return rows.map((r) => r.player_id);
    },

    /** Locks the player and says whether it is still erasable (a legal hold may have come in between). */
    async lockErasable(playerId: string, now: Date, years: number): Promise<{ closedAt: Date } | undefined> {
      const r = await db.maybeOne<{ closed_at: Date }>(
        `select p.closed_at from compliance.players p
          where p.player_id = $1 and p.closed_at is not null and p.erased_at is null and p.closed_at + make_interval(years => $3) <= $2
            and not exists (select 1 from compliance.legal_holds h where h.player_id = p.player_id and h.released_at is null)
          for update of p`,
        [playerId, now, years],
      );
      return r ? { closedAt: r.closed_at } : undefined;
    },

    async markErased(playerId: string, at: Date): Promise<void> {
      await db.query<Row>('update compliance.players set erased_at = $2, updated_at = clock_timestamp() where player_id = $1', [playerId, at]);
    },

    async insertLegalHold(h: { id: string; playerId: string; reason: string; placedBy: string; at: Date }): Promise<LegalHoldRow> {
      return toHold(await db.one<Row>(
        'insert into compliance.legal_holds (id, player_id, reason, placed_by, placed_at) values ($1, $2, $3, $4, $5) returning *',
        [h.id, h.playerId, h.reason, h.placedBy, h.at],
      ));
    },

    async releaseLegalHold(id: string, by: string, reason: string, at: Date): Promise<LegalHoldRow | undefined> {
      const r = await db.maybeOne<Row>(
        'update compliance.legal_holds set released_by = $2, release_reason = $3, released_at = $4 where id = $1 and released_at is null returning *',
        [id, by, reason, at],
      );
      return r ? toHold(r) : undefined;
    },

    async legalHold(id: string): Promise<LegalHoldRow | undefined> {
      const r = await db.maybeOne<Row>('select * from compliance.legal_holds where id = $1', [id]);
      return r ? toHold(r) : undefined;
    },

    async legalHoldsOf(playerId: string, limit: number): Promise<LegalHoldRow[]> {
      return (await db.query<Row>('select * from compliance.legal_holds where player_id = $1 order by placed_at desc limit $2', [playerId, limit])).map(toHold);
    },

    // ── what a player's evidence package holds besides cases ──

    async playerRecords(playerId: string, limit: number) {
      const [exclusions, timeOuts, limits, holds] = await Promise.all([
        db.query<Row>('select id, source, months, starts_at, ends_at, extends_id, created_at from compliance.self_exclusions where player_id = $1 order by created_at limit $2', [playerId, limit]),
        db.query<Row>('select id, hours, starts_at, ends_at, created_at from compliance.time_outs where player_id = $1 order by created_at limit $2', [playerId, limit]),
        db.query<Row>('select id, currency, period, amount_minor, requested_at, effective_at, cancelled_at from compliance.spend_limit_changes where player_id = $1 order by requested_at limit $2', [playerId, limit]),
        db.query<Row>('select id, kind, case_id, reason, placed_by, placed_at, lifted_by, lifted_at, lift_reason from compliance.holds where player_id = $1 order by placed_at limit $2', [playerId, limit]),
      ]);
      return { exclusions, timeOuts, limits, holds };
    },

    // ── evidence packages and the signing key ──

    async insertPackage(p: PackageRow): Promise<void> {
      await db.query<Row>(
        `insert into compliance.evidence_packages (id, subject, requested_by, object_key, encrypted, sha256, size_bytes, manifest_sha256, key_id, signature, files, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [p.id, p.subject, p.requestedBy, p.objectKey, p.encrypted, p.sha256, p.sizeBytes, p.manifestSha256, p.keyId, p.signature, p.files, p.createdAt],
      );
    },

    async package(id: string): Promise<PackageRow | undefined> {
      const r = await db.maybeOne<Row>('select * from compliance.evidence_packages where id = $1', [id]);
      return r ? toPackage(r) : undefined;
    },

    async activeSigningKey(): Promise<SigningKeyRow | undefined> {
      const r = await db.maybeOne<Row>('select key_id, public_key_pem, private_key_enc, created_at from compliance.signing_keys where active');
      return r ? { keyId: r.key_id, publicKeyPem: r.public_key_pem, privateKeyEnc: r.private_key_enc, createdAt: r.created_at } : undefined;
    },

    /** Inserts the key unless another process just did (one active key); the caller reads the winner. */
    async insertSigningKey(k: { keyId: string; publicKeyPem: string; privateKeyEnc: string }): Promise<void> {
      await db.query<Row>(
        'insert into compliance.signing_keys (key_id, public_key_pem, private_key_enc) values ($1, $2, $3) on conflict do nothing',
        [k.keyId, k.publicKeyPem, k.privateKeyEnc],
      );
    },
  };
}

export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
