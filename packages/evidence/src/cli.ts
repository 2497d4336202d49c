#!/usr/bin/env node
/**
 * verity-verify — the offline verifier's command line.
 *
 *   verity-verify <bundle.json> [--trusted-log-key <vkey>]... [--json]
 *   verity-verify entry <entry-proof.json> [--bundle <bundle.json>] [--trusted-log-key <vkey>]... [--json]
 *
 * Exit code 0 when everything verifies, 1 when a check fails, 2 on a usage error or unreadable file.
 * runVerifyCli takes its I/O as a parameter (the platform's `verity verify` passes its own); only
 * running this file directly touches the file system.
 */
import { formatReport, verifyBundleJson } from './bundle.ts';
import type { VerificationReport } from './bundle-types.ts';
import { verifyEntryInclusion } from './draw.ts';

export interface VerifyCliIo {
  readFile(path: string): Promise<Uint8Array>;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const VERIFY_USAGE = `usage: verity-verify <bundle.json> [--trusted-log-key <vkey>]... [--json]
       verity-verify entry <entry-proof.json> [--bundle <bundle.json>] [--trusted-log-key <vkey>]... [--json]
Exit status: 0 verified, 1 a check failed, 2 usage error.
`;

/** A bundle is one JSON document; this bounds what the verifier will read into memory. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

interface Args {
  command: 'bundle' | 'entry';
  file: string;
  bundle?: string;
  trustedLogKeys: string[];
  json: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const rest = [...argv];
  const command = rest[0] === 'entry' ? 'entry' : 'bundle';
  if (command === 'entry') rest.shift();
  const trustedLogKeys: string[] = [];
  let json = false;
  let bundle: string | undefined;
  const files: string[] = [];
  while (rest.length > 0) {
    const a = rest.shift()!;
    if (a === '--json') json = true;
    else if (a === '--trusted-log-key') trustedLogKeys.push(rest.shift() ?? fail('--trusted-log-key needs a vkey'));
    else if (a === '--bundle' && command === 'entry') bundle = rest.shift() ?? fail('--bundle needs a file');
    else if (a === '-h' || a === '--help') throw new UsageError('');
    else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 1) fail(files.length === 0 ? 'missing file' : 'one file at a time');
  return { command, file: files[0]!, bundle, trustedLogKeys, json };
}

function fail(message: string): never {
  throw new UsageError(message);
}

async function read(io: VerifyCliIo, path: string): Promise<Uint8Array> {
  try {
    const bytes = await io.readFile(path);
    if (bytes.length > MAX_FILE_BYTES) fail(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
    return bytes;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function output(io: VerifyCliIo, args: Args, report: VerificationReport): number {
  io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

async function entryReport(io: VerifyCliIo, args: Args): Promise<VerificationReport> {
  const checks: VerificationReport['checks'] = [];
  let proof: any;
  try {
    proof = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await read(io, args.file)));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    checks.push({ name: 'entry proof is JSON', ok: false, detail: (err as Error).message });
    return { ok: false, checks, winners: [], nonProduction: false };
  }
  const ok = typeof proof === 'object' && proof !== null && verifyEntryInclusion(proof);
  checks.push({ name: 'entry inclusion', ok, detail: ok ? `entry ${proof.leaf?.entryId} (ticket #${proof.leaf?.number}) is leaf ${proof.index} of ${proof.count} under root ${proof.root}` : 'the proof does not lead to the root' });
  let winners: VerificationReport['winners'] = [];
  let nonProduction = false;
  if (args.bundle) {
    const b = verifyBundleJson(await read(io, args.bundle), { trustedLogKeys: args.trustedLogKeys.length ? args.trustedLogKeys : undefined });
    checks.push(...b.checks.map((c) => ({ ...c, name: `bundle: ${c.name}` })));
    const close = bundleClose(await read(io, args.bundle));
    const same = close !== undefined && close.entriesRoot === proof?.root && close.count === proof?.count;
    checks.push({ name: 'entry root is the draw snapshot', ok: same, detail: same ? 'the proof root and count are the close snapshot of this draw' : 'the proof is against another root or count' });
    winners = b.winners;
    nonProduction = b.nonProduction;
  }
  return { ok: checks.every((c) => c.ok), checks, winners, nonProduction };
}

function bundleClose(bytes: Uint8Array): { entriesRoot: unknown; count: unknown } | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(bytes))?.close?.record;
  } catch {
    return undefined;
  }
}

/** Runs the verifier command line; resolves to the exit code. */
export async function runVerifyCli(argv: readonly string[], io: VerifyCliIo): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.command === 'entry') return output(io, args, await entryReport(io, args));
    const report = verifyBundleJson(await read(io, args.file), { trustedLogKeys: args.trustedLogKeys.length ? args.trustedLogKeys : undefined });
    return output(io, args, report);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`${err.message ? `verity-verify: ${err.message}\n` : ''}${VERIFY_USAGE}`);
    return 2;
  }
}

if (import.meta.main) {
  const { readFile } = await import('node:fs/promises');
  const io: VerifyCliIo = {
    readFile: async (path) => new Uint8Array(await readFile(path)),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  };
  process.exitCode = await runVerifyCli(process.argv.slice(2), io);
}
