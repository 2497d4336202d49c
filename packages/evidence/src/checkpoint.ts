/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text
 *   <origin>\n<decimal size>\n<base64 root hash>\n[<extension line>\n]*
 * Sizes are plain safe integers; no leading zeros; extension lines are non-empty.
 */
import { fromBase64, hasControlChar, isSafeIndex, toBase64 } from './bytes.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: string[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const DECIMAL_RE = /^(?:0|[1-9][0-9]*)$/;

function assertLine(line: string, what: string): void {
  if (typeof line !== 'string' || line.length === 0 || hasControlChar(line)) throw new CheckpointError(`${what} must be a non-empty line without control characters`);
}

export function formatCheckpoint(c: Checkpoint): string {
  assertLine(c.origin, 'origin');
  if (!isSafeIndex(c.size)) throw new CheckpointError(`size must be a safe non-negative integer, got ${c.size}`);
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== 32) throw new CheckpointError('root hash must be 32 bytes');
  const ext = c.extensions ?? [];
  ext.forEach((e) => assertLine(e, 'extension line'));
  return [c.origin, String(c.size), toBase64(c.rootHash), ...ext].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new CheckpointError('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('checkpoint needs origin, size and root hash lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  assertLine(origin, 'origin');
  if (!DECIMAL_RE.test(sizeText)) throw new CheckpointError('size must be a decimal without leading zeros');
  const size = Number(sizeText);
  if (!isSafeIndex(size)) throw new CheckpointError('size is beyond 2^53');
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText);
  } catch {
    throw new CheckpointError('root hash is not canonical base64');
  }
  if (rootHash.length !== 32) throw new CheckpointError('root hash must be 32 bytes');
  extensions.forEach((e) => assertLine(e, 'extension line'));
  return extensions.length ? { origin, size, rootHash, extensions } : { origin, size, rootHash };
}
