/**
 * The content-addressed filesystem backend: `<root>/<ab>/<cd>/<sha256>` plus a `<sha256>.json`
 * sidecar (content type, retention). A write goes to a private temp file, is fsynced and made
 * read-only, then linked into place: a reader sees no object or the whole object, and two writers
 * of the same bytes cannot clobber each other (the second link finds the first).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { BlobMeta, ObjectBackend } from './types.ts';

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function writeDurably(file: string, bytes: Uint8Array, mode: number): Promise<void> {
  const handle = await open(file, 'wx', mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename or link in `dir` survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the data file itself is synced.
  } finally {
    await handle.close();
  }
}

export function createFsBackend(root: string): ObjectBackend {
  const tmpDir = path.join(root, '.tmp');
  const objectPath = (key: string) => path.join(root, key.slice(0, 2), key.slice(2, 4), key);
  const tmpName = (key: string) => path.join(tmpDir, `${key}.${process.pid}.${randomBytes(6).toString('hex')}`);

  return {
    kind: 'fs',
    async put(key, bytes, meta: BlobMeta) {
      const target = objectPath(key);
      if (await stat(target).then(() => true, (err) => (isNotFound(err) ? false : Promise.reject(err)))) return;
      const dir = path.dirname(target);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await mkdir(tmpDir, { recursive: true, mode: 0o700 });
      // The sidecar lands first, so an object never exists without its metadata.
      const sidecar = { contentType: meta.contentType, size: bytes.length, ...(meta.retainUntil ? { retainUntil: meta.retainUntil.toISOString() } : {}) };
      const metaTmp = tmpName(`${key}.json`);
      await writeDurably(metaTmp, Buffer.from(JSON.stringify(sidecar)), 0o400);
      await rename(metaTmp, `${target}.json`);
      const tmp = tmpName(key);
      await writeDurably(tmp, bytes, 0o400);
      try {
        await link(tmp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await unlink(tmp).catch(() => {});
      }
      await syncDir(dir);
    },
    async get(key) {
      const target = objectPath(key);
      let bytes: Buffer;
      try {
        bytes = await readFile(target);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      let contentType = 'application/octet-stream';
      try {
        contentType = (JSON.parse(await readFile(`${target}.json`, 'utf8')) as { contentType?: string }).contentType ?? contentType;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return { bytes, contentType };
    },
    async exists(key) {
      return stat(objectPath(key)).then(() => true, (err) => (isNotFound(err) ? false : Promise.reject(err)));
    },
    async close() {},
  };
}
