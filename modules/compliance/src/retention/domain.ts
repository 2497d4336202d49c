/**
 * Retention and evidence-package rules, pure: when a closed customer's records may be erased, what
 * an evidence package's manifest holds and how it is signed. No I/O.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '@verity/kernel';

/** Records are kept `years` after the relationship ended (LCCP / MLR 2017 reg. 40: five years). */
export function retainUntil(closedAt: Date, years: number): Date {
  const d = new Date(closedAt.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

export const isErasable = (p: { closedAt: Date | null; erasedAt: Date | null; legalHolds: number }, now: Date, years: number): boolean =>
  p.closedAt !== null && p.erasedAt === null && p.legalHolds === 0 && retainUntil(p.closedAt, years).getTime() <= now.getTime();

export type PackageSubject = { kind: 'player'; id: string } | { kind: 'case'; id: string };

const PLAYER = /^player:([A-Za-z0-9-]{1,64})$/;
const CASE = /^case:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function parseSubject(subject: string): PackageSubject {
  const p = PLAYER.exec(subject);
  if (p) return { kind: 'player', id: p[1]! };
  const c = CASE.exec(subject);
  if (c) return { kind: 'case', id: c[1]! };
  throw new DomainError('validation-failed', 400, 'Your request parameters did not validate', 'subject is `player:<id>` or `case:<id>`.', {}, [{ pointer: '/body/subject', detail: 'must be player:<id> or case:<id>' }]);
}

export const MANIFEST_FORMAT = 'verity-evidence-package/1';
export const MANIFEST_PATH = 'manifest.json';
export const SIGNATURE_PATH = 'manifest.sig';
export const PUBLIC_KEY_PATH = 'public-key.pem';

export interface PackageFile {
  path: string;
  bytes: Buffer;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  packageId: string;
  subject: string;
  createdAt: string;
  createdBy: string;
  signature: { algorithm: 'Ed25519'; keyId: string; file: typeof SIGNATURE_PATH; covers: typeof MANIFEST_PATH };
  files: { path: string; sha256: string; size: number }[];
}

export const sha256Hex = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Paths inside the archive: relative, no `..`, printable ASCII. */
export function safePath(path: string): string {
  const clean = path.replace(/[^A-Za-z0-9._/-]/g, '_').replace(/\/{2,}/g, '/').replace(/^\/+/, '');
  if (clean.split('/').some((seg) => seg === '..' || seg === '.' || seg === '') || clean.length > 240) throw new Error(`unsafe archive path "${path}"`);
  return clean;
}

/** The manifest of `files`, with their hashes, in archive order. Its exact bytes are what is signed. */
export function buildManifest(meta: Omit<Manifest, 'format' | 'files' | 'signature'> & { keyId: string }, files: readonly PackageFile[]): Manifest {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new Error(`duplicate archive path "${f.path}"`);
    seen.add(f.path);
  }
  return {
    format: MANIFEST_FORMAT, packageId: meta.packageId, subject: meta.subject, createdAt: meta.createdAt, createdBy: meta.createdBy,
    signature: { algorithm: 'Ed25519', keyId: meta.keyId, file: SIGNATURE_PATH, covers: MANIFEST_PATH },
    files: files.map((f) => ({ path: f.path, sha256: sha256Hex(f.bytes), size: f.bytes.length })),
  };
}

export const manifestBytes = (m: Manifest): Buffer => Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');

export const jsonFile = (path: string, value: unknown): PackageFile => ({
  path: safePath(path),
  bytes: Buffer.from(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`, 'utf8'),
});
