/**
 * The offline verifier of a draw evidence bundle. Each check re-derives what it can from the bundle
 * alone (optionally pinned to trusted log keys, witnesses and beacon chains) and reports; verifyBundle
 * never throws on bad input. The checks and their order are docs/draw-protocol.md §9.
 */
import { bytesEqual, fromHex, sha256, toHex } from './bytes.ts';
import { BUNDLE_FORMAT, type DrawBundle, type VerificationCheck, type VerificationReport, type VerifyOptions } from './bundle-types.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { cosignatureVerifier, verifyCosignature } from './cosignature.ts';
import { QUICKNET, QUICKNET_SCHEME, roundTime, verifyDrandBeacon, type DrandChainInfo } from './drand.ts';
import { closeRecordBytes, drawWinners, entriesRoot, manifestBytes, resultRecordBytes, winnersToDraw, type DrawManifest } from './draw.ts';
import { canonicalJson } from './jcs.ts';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.ts';
import { openNote, parseVkey, verifierFromVkey, type NoteVerifier } from './note.ts';
import { bundleShapeErrors, timeMs } from './schema.ts';

class CheckFailed extends Error {}
const fail = (detail: string): never => {
  throw new CheckFailed(detail);
};
const ensure = (cond: boolean, detail: string): void => {
  if (!cond) fail(detail);
};

type CheckpointName = 'manifest' | 'close' | 'result';

interface Derived {
  manifestLeaf: Uint8Array;
  closeLeaf: Uint8Array;
  resultLeaf: Uint8Array;
  logVerifiers: NoteVerifier[];
  allVerifiers: NoteVerifier[];
  checkpoints: Partial<Record<CheckpointName, Checkpoint>>;
}

class Checker {
  readonly checks: VerificationCheck[] = [];

  run(name: string, fn: () => string): boolean {
    try {
      this.checks.push({ name, ok: true, detail: fn() });
      return true;
    } catch (err) {
      const detail = err instanceof CheckFailed ? err.message : `error: ${(err as Error)?.message ?? String(err)}`;
      this.checks.push({ name, ok: false, detail });
      return false;
    }
  }
}

const proofBytes = (hexes: readonly string[]) => hexes.map((h) => fromHex(h, 32));
const iso = (s: number) => new Date(s * 1000).toISOString();

/** Parses the bundle from JSON bytes or text (fatal UTF-8) and verifies it. */
export function verifyBundleJson(input: string | Uint8Array, options: VerifyOptions = {}): VerificationReport {
  let value: unknown;
  try {
    const textValue = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    value = JSON.parse(textValue);
  } catch (err) {
    return { ok: false, checks: [{ name: 'bundle is JSON', ok: false, detail: (err as Error).message }], winners: [], nonProduction: false };
  }
  return verifyBundle(value, options);
}

export function verifyBundle(bundle: unknown, options: VerifyOptions = {}): VerificationReport {
  const c = new Checker();
  const shapeOk = c.run('bundle format', () => {
    const errors = bundleShapeErrors(bundle);
    ensure(errors.length === 0, errors.join('; '));
    return `${BUNDLE_FORMAT}, all members known and canonically encoded`;
  });
  if (!shapeOk) return { ok: false, checks: c.checks, winners: [], nonProduction: false };
  const b = bundle as DrawBundle;
  const d = derive(c, b, options);
  if (d) {
    checkLog(c, b, d);
    checkDraw(c, b, d, options);
  }
  return {
    ok: c.checks.every((x) => x.ok),
    checks: c.checks,
    winners: b.result.winners.map((w) => ({ tier: w.tier, entryId: w.entryId, number: w.number })),
    nonProduction: b.manifest.beacon.nonProduction,
    drawId: b.manifest.drawId,
  };
}

function derive(c: Checker, b: DrawBundle, options: VerifyOptions): Derived | undefined {
  let d: Derived | undefined;
  c.run('record encodings', () => {
    d = {
      manifestLeaf: leafHash(manifestBytes(b.manifest)),
      closeLeaf: leafHash(closeRecordBytes(b.close.record)),
      resultLeaf: leafHash(resultRecordBytes(b.result)),
      logVerifiers: [],
      allVerifiers: [],
      checkpoints: {},
    };
    return `manifest leaf ${toHex(d.manifestLeaf)}, close leaf ${toHex(d.closeLeaf)}, result leaf ${toHex(d.resultLeaf)}`;
  });
  if (!d) return undefined;
  const derived = d;
  c.run('log keys', () => {
    const bundleKeys = b.log.vkeys.map((k) => verifierFromVkey(k));
    const witnessKeys = b.log.witnessVkeys.map((k) => cosignatureVerifier(k));
    const trusted = options.trustedLogKeys?.map((k) => verifierFromVkey(k));
    const trustedWitnesses = options.trustedWitnessKeys?.map((k) => cosignatureVerifier(k));
    derived.logVerifiers = trusted ?? bundleKeys;
    derived.allVerifiers = [...bundleKeys, ...(trusted ?? []), ...witnessKeys, ...(trustedWitnesses ?? [])];
    if (!trusted) return `${bundleKeys.map((k) => k.name).join(', ')} taken from the bundle (not pinned: pass a trusted log key to pin it)`;
    return `pinned to ${trusted.length} trusted log key(s): ${trusted.map((k) => k.name).join(', ')}`;
  });
  return derived;
}

function openCheckpoint(note: string, d: Derived, b: DrawBundle): Checkpoint {
  ensure(d.logVerifiers.length > 0, 'no usable log key');
  const all = openNote(note, d.allVerifiers);
  ensure(all.unknownSignatures === 0, `${all.unknownSignatures} signature line(s) from keys the bundle does not list`);
  openNote(note, d.logVerifiers);
  const cp = parseCheckpoint(all.text);
  ensure(cp.origin === b.log.origin, `origin ${JSON.stringify(cp.origin)} is not the log origin ${JSON.stringify(b.log.origin)}`);
  ensure(b.manifest.origin === undefined || cp.origin === b.manifest.origin, `origin ${JSON.stringify(cp.origin)} is not the manifest's log origin`);
  return cp;
}

const checkpointOf = (d: Derived, name: CheckpointName): Checkpoint => d.checkpoints[name] ?? fail(`the ${name} checkpoint did not verify`);

function checkLog(c: Checker, b: DrawBundle, d: Derived): void {
  const L = b.log;
  for (const name of ['manifest', 'close', 'result'] as const) {
    c.run(`${name} checkpoint signature`, () => {
      const cp = openCheckpoint(L.checkpoints[name], d, b);
      d.checkpoints[name] = cp;
      return `${cp.origin} size ${cp.size}, signed by the log`;
    });
  }
  c.run('witness cosignatures', () => witnessDetail(b));
  c.run('log consistency', () => {
    const [m, cl, r] = [checkpointOf(d, 'manifest'), checkpointOf(d, 'close'), checkpointOf(d, 'result')];
    ensure(verifyConsistency(m.size, cl.size, m.rootHash, cl.rootHash, proofBytes(L.consistency.manifestToClose)), `no valid consistency proof from size ${m.size} to ${cl.size}`);
    ensure(verifyConsistency(cl.size, r.size, cl.rootHash, r.rootHash, proofBytes(L.consistency.closeToResult)), `no valid consistency proof from size ${cl.size} to ${r.size}`);
    return `sizes ${m.size} → ${cl.size} → ${r.size} are append-only`;
  });
  const inclusion = (name: string, leaf: Uint8Array, at: { leafIndex: number; proof: string[] }, cp: CheckpointName) =>
    c.run(name, () => {
      const target = checkpointOf(d, cp);
      ensure(verifyInclusion(leaf, at.leafIndex, target.size, proofBytes(at.proof), target.rootHash), `leaf ${at.leafIndex} is not proven in the ${cp} checkpoint (size ${target.size})`);
      return `leaf ${at.leafIndex} of the ${cp} checkpoint (size ${target.size})`;
    });
  inclusion('manifest in log', d.manifestLeaf, L.manifestInclusion, 'manifest');
  inclusion('close snapshot in log', d.closeLeaf, L.closeInclusion, 'close');
  inclusion('result in log', d.resultLeaf, L.resultInclusion, 'result');
}

/** Every listed witness must have cosigned at least one checkpoint; their times are reported. */
function witnessDetail(b: DrawBundle): string {
  if (b.log.witnessVkeys.length === 0) return 'none (the log alone vouches for its checkpoints)';
  const parts = b.log.witnessVkeys.map((vkey) => {
    const name = parseVkey(vkey).name;
    const seen = (['manifest', 'close', 'result'] as const).map((cp) => ({ cp, r: verifyCosignature(b.log.checkpoints[cp], vkey) })).filter((x) => x.r.ok);
    ensure(seen.length > 0, `witness ${name} cosigned no checkpoint`);
    return `${name} (${seen.map((x) => `${x.cp} at ${iso(x.r.timeS!)}`).join(', ')})`;
  });
  return parts.join('; ');
}

/**
 * The earliest cosignature time on a checkpoint, from the bundle's witnesses (or, when given, only
 * the trusted ones). Undefined when no such witness cosigned it.
 */
function earliestWitness(note: string, b: DrawBundle, options: VerifyOptions): { name: string; timeS: number } | undefined {
  const keys = options.trustedWitnessKeys ?? b.log.witnessVkeys;
  let best: { name: string; timeS: number } | undefined;
  for (const vkey of keys) {
    const r = verifyCosignature(note, vkey);
    if (r.ok && (best === undefined || r.timeS! < best.timeS)) best = { name: parseVkey(vkey).name, timeS: r.timeS! };
  }
  return best;
}

/** The time anchor of an ordering claim: a witness that saw the checkpoint before `deadlineMs`. */
function timeAnchor(note: string, b: DrawBundle, options: VerifyOptions, deadlineMs: number, what: string): string {
  const w = earliestWitness(note, b, options);
  if (w && w.timeS * 1000 < deadlineMs) return `witnessed by ${w.name} at ${iso(w.timeS)}, before ${what}`;
  ensure(options.trustedWitnessKeys === undefined, `no trusted witness cosigned it before ${what}`);
  return w ? `NOT TIME-ANCHORED: the first witness (${w.name}) saw it at ${iso(w.timeS)}, not before ${what}` : 'NOT TIME-ANCHORED: no witness cosigned this checkpoint; only the log orders it';
}

function checkDraw(c: Checker, b: DrawBundle, d: Derived, options: VerifyOptions): void {
  const m = b.manifest;
  const rec = b.close.record;
  const res = b.result;
  const L = b.log;
  c.run('manifest rules', () => manifestRules(m));
  c.run('manifest committed before close', () => {
    const cp = checkpointOf(d, 'manifest');
    ensure(L.manifestInclusion.leafIndex < cp.size, 'the manifest is not inside the manifest checkpoint');
    ensure(cp.size <= L.closeInclusion.leafIndex, `the close snapshot (leaf ${L.closeInclusion.leafIndex}) is not after the manifest checkpoint (size ${cp.size})`);
    ensure(rec.manifestLeafIndex === L.manifestInclusion.leafIndex && rec.manifestLeafHash === toHex(d.manifestLeaf), 'the close snapshot does not reference this manifest leaf');
    ensure(rec.drawId === m.drawId && rec.competitionId === m.competitionId, 'the close snapshot is for another draw');
    ensure(timeMs(rec.closedAt) >= timeMs(m.closesAt), `snapshot taken at ${rec.closedAt}, before the close time ${m.closesAt}`);
    const anchor = timeAnchor(L.checkpoints.manifest, b, options, timeMs(m.closesAt), `the close at ${m.closesAt}`);
    return `manifest leaf ${L.manifestInclusion.leafIndex} < checkpoint size ${cp.size} ≤ close leaf ${L.closeInclusion.leafIndex}; ${anchor}`;
  });
  c.run('snapshot committed before beacon', () => {
    const cp = checkpointOf(d, 'close');
    ensure(L.closeInclusion.leafIndex < cp.size, 'the close snapshot is not inside the close checkpoint');
    ensure(cp.size <= L.resultInclusion.leafIndex, `the result (leaf ${L.resultInclusion.leafIndex}) is not after the close checkpoint (size ${cp.size})`);
    const t = roundTime(chainOf(m), res.beacon.round);
    const anchor = timeAnchor(L.checkpoints.close, b, options, t * 1000, `beacon round ${res.beacon.round} at ${iso(t)}`);
    return `close leaf ${L.closeInclusion.leafIndex} < checkpoint size ${cp.size} ≤ result leaf ${L.resultInclusion.leafIndex}; ${anchor}`;
  });
  c.run('result references the snapshot', () => {
    ensure(res.drawId === m.drawId, 'the result is for another draw');
    ensure(res.manifestLeafHash === toHex(d.manifestLeaf), 'the result does not reference this manifest');
    ensure(res.snapshotLeafIndex === L.closeInclusion.leafIndex && res.snapshotLeafHash === toHex(d.closeLeaf), 'the result does not reference this close snapshot');
    return `close leaf ${res.snapshotLeafIndex}`;
  });
  c.run('operator commitment', () => {
    ensure(toHex(sha256(fromHex(res.operatorSecret, 32))) === m.operatorCommitment, 'SHA-256(operator secret) is not the manifest commitment');
    return 'SHA-256(revealed secret) = manifest commitment';
  });
  checkBeacon(c, b, options);
  checkEntries(c, b);
}

function manifestRules(m: DrawManifest): string {
  const tiers = m.prizeTiers;
  tiers.forEach((t, i) => ensure(i === 0 || t.tier > tiers[i - 1]!.tier, 'prize tiers must be in strictly ascending tier order'));
  tiers.forEach((t) => ensure((t.cashMinor === undefined) === (t.currency === undefined), `tier ${t.tier}: cashMinor and currency go together`));
  const sum = tiers.reduce((s, t) => s + t.winners, 0);
  ensure(sum === m.winnerCount, `winnerCount ${m.winnerCount} is not the sum of the tiers' winners (${sum})`);
  ensure(timeMs(m.createdAt) < timeMs(m.closesAt), 'the manifest was created after its close time');
  ensure(m.beacon.schemeID === QUICKNET_SCHEME, `beacon scheme ${m.beacon.schemeID} is not ${QUICKNET_SCHEME}`);
  const rounds = [m.beacon.round, ...m.beacon.fallbackRounds];
  rounds.forEach((r, i) => ensure(i === 0 || r > rounds[i - 1]!, 'fallback rounds must be strictly ascending and after the primary round'));
  return `${tiers.length} tier(s), ${m.winnerCount} winner(s), round ${m.beacon.round}${m.beacon.fallbackRounds.length ? ` (fallbacks ${m.beacon.fallbackRounds.join(', ')})` : ''}`;
}

function chainOf(m: DrawManifest): DrandChainInfo {
  const bc = m.beacon;
  return { publicKey: bc.publicKey, period: bc.period, genesisTime: bc.genesisTime, hash: bc.chainHash, schemeID: bc.schemeID };
}

const sameChain = (a: DrandChainInfo, b: DrandChainInfo) =>
  a.hash === b.hash && a.publicKey === b.publicKey && a.period === b.period && a.genesisTime === b.genesisTime && a.schemeID === b.schemeID;

function checkBeacon(c: Checker, b: DrawBundle, options: VerifyOptions): void {
  const m = b.manifest;
  const beacon = b.result.beacon;
  const chain = chainOf(m);
  c.run('beacon chain', () => {
    ensure(beacon.chainHash === m.beacon.chainHash, 'the result beacon is from another chain than the manifest names');
    if (options.trustedBeaconChains) {
      ensure(options.trustedBeaconChains.some((t) => sameChain(t, chain)), 'the manifest chain is not among the trusted beacon chains');
      return `${m.beacon.network} (${m.beacon.chainHash.slice(0, 16)}…), trusted`;
    }
    if (m.beacon.nonProduction) return `NON-PRODUCTION local beacon ${m.beacon.network}: not a public randomness source`;
    ensure(sameChain(QUICKNET, chain), 'a production draw must use drand quicknet (or pass trusted beacon chains)');
    return 'drand quicknet (League of Entropy)';
  });
  c.run('beacon round', () => {
    if (beacon.round === m.beacon.round) return `primary round ${beacon.round}`;
    ensure(m.beacon.fallbackRounds.includes(beacon.round), `round ${beacon.round} is neither the manifest round ${m.beacon.round} nor a listed fallback`);
    return `FALLBACK round ${beacon.round} used instead of ${m.beacon.round} (allowed by the manifest; the primary must have been unavailable)`;
  });
  c.run('beacon signature', () => {
    const r = verifyDrandBeacon(chain, { round: beacon.round, signature: beacon.signature, randomness: beacon.randomness });
    ensure(r.ok, r.reason ?? 'beacon does not verify');
    return `BLS signature of round ${beacon.round} verifies; randomness = SHA-256(signature)`;
  });
  c.run('beacon after close', () => {
    const t = roundTime(chain, beacon.round);
    ensure(t * 1000 > timeMs(m.closesAt), `round ${beacon.round} was emitted at ${iso(t)}, not after the close ${m.closesAt}`);
    return `round emitted at ${iso(t)}, after close ${m.closesAt}`;
  });
}

function checkEntries(c: Checker, b: DrawBundle): void {
  const rec = b.close.record;
  const entries = b.close.entries;
  c.run('entries root', () => {
    const ids = new Set<string>();
    for (const e of entries) {
      ensure(!ids.has(e.entryId), `entry ${e.entryId} appears twice`);
      ids.add(e.entryId);
    }
    const { root, count } = entriesRoot(entries);
    ensure(count === rec.count, `the snapshot says ${rec.count} entries, the bundle has ${count}`);
    ensure(bytesEqual(root, fromHex(rec.entriesRoot, 32)), 'the entries do not hash to the snapshot root');
    return `${count} entries, root ${rec.entriesRoot}`;
  });
  c.run('reconciliation', () => {
    const { sold, voided, postal } = rec.reconciliation;
    ensure(voided <= sold, `voided ${voided} exceeds sold ${sold}`);
    ensure(sold - voided + postal === rec.count, `sold ${sold} − voided ${voided} + postal ${postal} ≠ count ${rec.count}`);
    const paid = entries.filter((e) => e.kind === 'paid').length;
    ensure(paid === sold - voided && entries.length - paid === postal, `entries hold ${paid} paid and ${entries.length - paid} postal`);
    return `${sold} − ${voided} + ${postal} = ${rec.count}`;
  });
  c.run('selection re-run', () => {
    const res = b.result;
    const expected = drawWinners({
      manifest: b.manifest,
      entriesRoot: fromHex(rec.entriesRoot, 32),
      count: rec.count,
      beaconRandomness: fromHex(res.beacon.randomness, 32),
      operatorSecret: fromHex(res.operatorSecret, 32),
      entryAt: (i) => entries[i] ?? fail(`no entry at index ${i}`),
    });
    ensure(expected.length === winnersToDraw(b.manifest, rec.count), 'wrong number of winners');
    ensure(canonicalJson(expected) === canonicalJson(res.winners), 'the published winners are not what the selection gives');
    return `${expected.length} winner(s) reproduced exactly`;
  });
}

export function formatReport(r: VerificationReport): string {
  const lines: string[] = [];
  lines.push(`Verity draw verification${r.drawId ? ` — draw ${r.drawId}` : ''}`);
  if (r.nonProduction) lines.push('!! NON-PRODUCTION: the randomness came from a local test beacon, not drand');
  for (const ch of r.checks) lines.push(`  [${ch.ok ? ' ok ' : 'FAIL'}] ${ch.name}: ${ch.detail}`);
  if (r.winners.length) {
    lines.push('Winners:');
    for (const w of r.winners) lines.push(`  tier ${w.tier}: ticket #${w.number} (entry ${w.entryId})`);
  }
  const failed = r.checks.filter((ch) => !ch.ok).length;
  lines.push(r.ok ? `VERIFIED: all ${r.checks.length} checks passed` : `FAILED: ${failed} of ${r.checks.length} checks failed`);
  return `${lines.join('\n')}\n`;
}
