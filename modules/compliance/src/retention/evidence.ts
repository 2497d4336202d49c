/**
 * Evidence packages for a regulator's file request: one tar archive for a player or a case with the
 * records, their full history, the audit records (copies, each verifiable against the platform's
 * evidence log by its leaf hash; older ones against the closed hash chain), the attached evidence files, and `manifest.json` listing
 * every file's SHA-256, signed with compliance's Ed25519 key (`manifest.sig`). The archive goes to
 * the object store (encrypted under the player's key, so erasure covers it too) and is downloadable.
 */
import { pack } from 'tar-stream';
import { Problems, isDomainError, uuidv7 } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import type { CasesPart } from '../cases/setup.ts';
import { caseView } from '../cases/routes.ts';
import type { EligibilityPart } from '../eligibility/setup.ts';
import {
  MANIFEST_PATH, PUBLIC_KEY_PATH, SIGNATURE_PATH, buildManifest, jsonFile, manifestBytes, parseSubject, safePath, sha256Hex, type PackageFile,
} from './domain.ts';
import type { PackageRow, RetentionRepository } from './repository.ts';
import type { SigningKeys } from './signing.ts';

const CASES_PER_PLAYER_MAX = 500;
const RECORDS_MAX = 10_000;

export interface CoreParts {
  cases: CasesPart['internals'];
  eligibility: EligibilityPart['internals'];
}

export function createEvidencePackages(ctx: PartContext, deps: { repo: RetentionRepository; core: CoreParts; keys: SigningKeys; retentionYears: number }) {
  const { repo, core, keys } = deps;

  /** One case: its record, decrypted history, audit copies and evidence files under `prefix`. */
  async function caseFiles(caseId: string, prefix: string, now: Date): Promise<{ files: PackageFile[]; playerId: string | null; erased: string[] }> {
    const raw = await core.cases.repo.withHistory(caseId);
    if (!raw) throw Problems.notFound('case');
    const view = await core.cases.service.get(caseId);
    const files = [
      jsonFile(`${prefix}/case.json`, caseView(raw.record, now)),
      jsonFile(`${prefix}/history.json`, view.history),
      jsonFile(`${prefix}/audit.json`, raw.history.map((h) => h.audit).filter((a) => a !== null)),
    ];
    const erased: string[] = [];
    for (const [i, e] of raw.evidence.entries()) {
      const name = view.evidence[i]?.filename ?? `${e.sha256}.bin`;
      try {
        const got = await ctx.objects.get(e.objectKey);
        if (got.sha256 !== e.sha256) throw new Error(`evidence ${e.id} does not match its recorded SHA-256`);
        files.push({ path: safePath(`${prefix}/evidence/${e.id}-${name}`), bytes: got.bytes });
      } catch (err) {
        if (!isDomainError(err) || err.code !== 'personal-data-erased') throw err;
        erased.push(`${prefix}/evidence/${e.id} (sha256 ${e.sha256})`);
      }
    }
    return { files, playerId: raw.record.playerId, erased };
  }

  async function playerFiles(playerId: string, now: Date): Promise<PackageFile[]> {
    const player = await core.eligibility.repo.player(playerId);
    if (!player) throw Problems.notFound('player');
    const records = await repo.playerRecords(playerId, RECORDS_MAX);
    const files = [
      jsonFile('player/player.json', player),
      jsonFile('player/self-exclusions.json', records.exclusions),
      jsonFile('player/time-outs.json', records.timeOuts),
      jsonFile('player/spend-limit-changes.json', records.limits),
      jsonFile('player/holds.json', records.holds),
      jsonFile('player/legal-holds.json', await repo.legalHoldsOf(playerId, RECORDS_MAX)),
      jsonFile('player/audit.json', await core.cases.repo.auditCopiesOf(`player:${playerId}`, RECORDS_MAX)),
    ];
    const erased: string[] = [];
    const cases = await core.cases.repo.casesOfPlayer(playerId, CASES_PER_PLAYER_MAX);
    for (const c of cases) {
      const one = await caseFiles(c.id, `cases/${c.id}`, now);
      files.push(...one.files);
      erased.push(...one.erased);
    }
    if (erased.length) files.push(jsonFile('erased.json', erased));
    return files;
  }

  async function archive(files: readonly PackageFile[], mtime: Date): Promise<Buffer> {
    const p = pack();
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      p.on('data', (c: unknown) => chunks.push(c as Buffer));
      p.on('end', () => resolve());
      p.on('error', reject);
    });
    for (const f of files) p.entry({ name: f.path, size: f.bytes.length, mode: 0o644, mtime }, f.bytes);
    p.finalize();
    await done;
    return Buffer.concat(chunks);
  }

  async function exportPackage(subject: string, actor: string): Promise<PackageRow> {
    const target = parseSubject(subject);
    const now = await ctx.clock.now();
    const signer = await keys.signer();
    let files: PackageFile[];
    let playerId: string | null;
    if (target.kind === 'case') {
      const one = await caseFiles(target.id, `case/${target.id}`, now);
      files = one.erased.length ? [...one.files, jsonFile('erased.json', one.erased)] : one.files;
      playerId = one.playerId;
    } else {
      files = await playerFiles(target.id, now);
      playerId = target.id;
    }
    const packageId = uuidv7();
    const manifest = buildManifest({ packageId, subject, createdAt: now.toISOString(), createdBy: actor, keyId: signer.keyId }, files);
    const mBytes = manifestBytes(manifest);
    const signature = signer.sign(mBytes);
    const tarBytes = await archive([
      { path: MANIFEST_PATH, bytes: mBytes },
      { path: SIGNATURE_PATH, bytes: Buffer.from(`${signature.toString('base64')}\n`) },
      { path: PUBLIC_KEY_PATH, bytes: Buffer.from(signer.publicKeyPem) },
      ...files,
    ], now);
    const retainUntil = new Date(now.getTime());
    retainUntil.setUTCFullYear(retainUntil.getUTCFullYear() + deps.retentionYears);
    const stored = await ctx.objects.put(tarBytes, { contentType: 'application/x-tar', retainUntil, ...(playerId ? { encryptFor: playerId } : {}) });
    const row: PackageRow = {
      id: packageId, subject, requestedBy: actor, objectKey: stored.key, encrypted: stored.encrypted, sha256: stored.sha256, sizeBytes: BigInt(stored.size),
      manifestSha256: sha256Hex(mBytes), keyId: signer.keyId, signature: signature.toString('base64'), files: files.length, createdAt: now,
    };
    await ctx.db.tx(async () => {
      await repo.insertPackage(row);
      await ctx.audit.record({ actor, action: 'compliance.evidence-package-exported', subject, data: { packageId, sha256: row.sha256, manifestSha256: row.manifestSha256, keyId: row.keyId, files: row.files } });
      await ctx.events.publish({ type: 'compliance.evidence-package-exported.v1', subject: packageId, data: { packageId, subject, sha256: row.sha256, createdAt: now.toISOString() } });
    });
    return row;
  }

  async function download(packageId: string, actor: string): Promise<{ row: PackageRow; bytes: Buffer }> {
    const row = await repo.package(packageId);
    if (!row) throw Problems.notFound('evidence package');
    const got = await ctx.objects.get(row.objectKey);
    if (got.sha256 !== row.sha256) throw new Error(`evidence package ${packageId} does not match its recorded SHA-256`);
    await ctx.audit.record({ actor, action: 'compliance.evidence-package-downloaded', subject: row.subject, data: { packageId, sha256: row.sha256 } });
    return { row, bytes: got.bytes };
  }

  return { exportPackage, download };
}

export type EvidencePackages = ReturnType<typeof createEvidencePackages>;
