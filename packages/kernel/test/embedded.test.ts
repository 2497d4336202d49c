/**
 * The embedded PostgreSQL (the default when DATABASE_URL is unset): the platform's own connections go
 * over a Unix-domain socket in the server's directory (ADR 0019), other tools still reach it on
 * 127.0.0.1 with the same credentials, and a directory too deep for a socket address keeps to TCP.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createDb, startEmbeddedPostgres } from '@verity/kernel';

/** Where the connection of `url` arrived: `null` over a Unix-domain socket, else the server's address. */
async function arrivedAt(url: string): Promise<string | null> {
  const db = createDb({ connectionString: url, max: 1 });
  try {
    const row = await db.one<{ addr: string | null }>('select host(inet_server_addr()) as addr');
    return row.addr;
  } finally {
    await db.close();
  }
}

/** The same server and credentials over TCP: the URL without its socket directory. */
const overTcp = (url: string) => {
  const u = new URL(url);
  u.searchParams.delete('host');
  return u.toString();
};

describe('embedded PostgreSQL', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('when started, then its URL connects over a Unix socket in its own directory, and 127.0.0.1 still answers with the same credentials', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'verity-embedded-'));
    dirs.push(dir);
    const server = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const url = server.urlFor('postgres');
      assert.equal(new URL(url).searchParams.get('host'), path.join(dir, 'pg'));
      assert.equal(await arrivedAt(url), null);
      assert.equal(await arrivedAt(overTcp(url)), '127.0.0.1');
      // Without the password, neither way in is open.
      const anonymous = new URL(url);
      anonymous.password = '';
      await assert.rejects(arrivedAt(anonymous.toString()));
    } finally {
      await server.stop();
    }
    // A restart on the same directory (a new port, a new socket) connects the same way.
    const again = await startEmbeddedPostgres({ dataDir: dir });
    try {
      assert.equal(await arrivedAt(again.urlFor('postgres')), null);
    } finally {
      await again.stop();
    }
  });

  it('when its directory is too deep for a socket address, then it listens on 127.0.0.1 only and its URL says so', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'verity-embedded-'));
    dirs.push(base);
    // As root the server runs as `postgres`, which must be able to pass through the parents.
    await chmod(base, 0o755);
    const dir = path.join(base, 'a-directory-name-long-enough-that-the-socket-path-passes-the-limit', 'x'.repeat(40));
    const server = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const url = server.urlFor('postgres');
      assert.equal(new URL(url).searchParams.get('host'), null);
      assert.equal(await arrivedAt(url), '127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});
