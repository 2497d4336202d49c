/**
 * RFC 9162 Merkle hashing and proofs: the published RFC 6962 reference tree (8 leaves), the
 * transparency-dev language-neutral proof vectors (good and tampered), corruption probes like the Go
 * reference's, and properties over random sizes (proofs verify against rootOf; storage plans give the
 * same proofs as the in-memory functions; the streaming builder gives the same root).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  consistencyPlan,
  consistencyProof,
  fromBase64,
  fromHex,
  inclusionPlan,
  inclusionProof,
  leafHash,
  MerkleBuilder,
  MerkleTree,
  rootOf,
  rootPlan,
  sha256,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type NodeRef,
} from '../src/index.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const ref = fixture('rfc6962-reference.json');
const td = fixture('transparency-dev-testdata.json');
const leaves: Uint8Array[] = ref.leaves.map((h: string) => leafHash(fromHex(h)));
const hexes = (xs: readonly Uint8Array[]) => xs.map(toHex);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function syntheticLeaves(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
}

describe('RFC 6962 reference tree', () => {
  test('when hashing the empty tree, then the root is SHA-256 of nothing', () => {
    assert.equal(toHex(rootOf([])), ref.emptyRoot);
    assert.equal(toHex(new MerkleBuilder().root()), ref.emptyRoot);
  });

  test('when hashing the first n of the 8 reference leaves, then every root matches', () => {
    for (let n = 1; n <= 8; n++) assert.equal(toHex(rootOf(leaves.slice(0, n))), ref.roots[n - 1], `size ${n}`);
  });

  test('when proving inclusion in the reference tree, then the paths equal the published ones and verify', () => {
    for (const v of ref.inclusion) {
      assert.deepEqual(hexes(inclusionProof(leaves, v.index, v.size)), v.proof, `leaf ${v.index} of ${v.size}`);
      assert.ok(verifyInclusion(leaves[v.index]!, v.index, v.size, v.proof.map((h: string) => fromHex(h)), fromHex(ref.roots[v.size - 1])));
    }
  });

  test('when proving consistency in the reference tree, then the proofs equal the published ones and verify', () => {
    for (const v of ref.consistency) {
      assert.deepEqual(hexes(consistencyProof(leaves, v.size1, v.size2)), v.proof, `${v.size1} → ${v.size2}`);
      assert.ok(verifyConsistency(v.size1, v.size2, fromHex(ref.roots[v.size1 - 1]), fromHex(ref.roots[v.size2 - 1]), v.proof.map((h: string) => fromHex(h))));
    }
  });

  test('when an inclusion proof is corrupted in any of the Go reference ways, then it is refused', () => {
    const someHash = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (const v of ref.inclusion.filter((x: any) => x.size > 1)) {
      const root = fromHex(ref.roots[v.size - 1]);
      const proof: Uint8Array[] = v.proof.map((h: string) => fromHex(h));
      const leaf = leaves[v.index]!;
      const probes: [string, boolean][] = [
        ['index − 1', verifyInclusion(leaf, v.index - 1, v.size, proof, root)],
        ['index + 1', verifyInclusion(leaf, v.index + 1, v.size, proof, root)],
        ['index ^ 2', verifyInclusion(leaf, v.index ^ 2, v.size, proof, root)],
        ['size × 2', verifyInclusion(leaf, v.index, v.size * 2, proof, root)],
        ['size ÷ 2', verifyInclusion(leaf, v.index, Math.floor(v.size / 2), proof, root)],
        ['wrong leaf', verifyInclusion(new TextEncoder().encode('WrongLeaf'), v.index, v.size, proof, root)],
        ['empty root', verifyInclusion(leaf, v.index, v.size, proof, sha256(new Uint8Array(0)))],
        ['random root', verifyInclusion(leaf, v.index, v.size, proof, someHash)],
        ['trailing garbage', verifyInclusion(leaf, v.index, v.size, [...proof, new Uint8Array(0)], root)],
        ['trailing root', verifyInclusion(leaf, v.index, v.size, [...proof, root], root)],
        ['preceding root', verifyInclusion(leaf, v.index, v.size, [root, ...proof], root)],
        ['removed component', verifyInclusion(leaf, v.index, v.size, proof.slice(0, -1), root)],
        ['inserted component', verifyInclusion(leaf, v.index, v.size, [proof[0]!, someHash, ...proof.slice(1)], root)],
        ...proof.map((_, i): [string, boolean] => {
          const bad = proof.map((p) => p.slice());
          bad[i]![0]! ^= 8;
          return [`modified proof[${i}]`, verifyInclusion(leaf, v.index, v.size, bad, root)];
        }),
      ];
      assert.deepEqual(probes.filter(([, ok]) => ok).map(([d]) => d), [], `leaf ${v.index} of ${v.size}`);
    }
  });

  test('when a consistency proof is corrupted in any of the Go reference ways, then it is refused', () => {
    for (const v of ref.consistency.filter((x: any) => x.proof.length > 0)) {
      const r1 = fromHex(ref.roots[v.size1 - 1]);
      const r2 = fromHex(ref.roots[v.size2 - 1]);
      const proof: Uint8Array[] = v.proof.map((h: string) => fromHex(h));
      const probes: [string, boolean][] = [
        ['size1 − 1', verifyConsistency(v.size1 - 1, v.size2, r1, r2, proof)],
        ['size1 + 1', verifyConsistency(v.size1 + 1, v.size2, r1, r2, proof)],
        ['size1 ^ 2', verifyConsistency(v.size1 ^ 2, v.size2, r1, r2, proof)],
        ['size2 × 2', verifyConsistency(v.size1, v.size2 * 2, r1, r2, proof)],
        ['size2 ÷ 2', verifyConsistency(v.size1, Math.floor(v.size2 / 2), r1, r2, proof)],
        ['swapped roots', verifyConsistency(v.size1, v.size2, r2, r1, proof)],
        ['empty proof', verifyConsistency(v.size1, v.size2, r1, r2, [])],
        ['trailing root1', verifyConsistency(v.size1, v.size2, r1, r2, [...proof, r1])],
        ['preceding root2', verifyConsistency(v.size1, v.size2, r1, r2, [r2, ...proof])],
        ['preceding proof[0]', verifyConsistency(v.size1, v.size2, r1, r2, [proof[0]!, ...proof])],
        ['truncated', verifyConsistency(v.size1, v.size2, r1, r2, proof.slice(0, -1))],
        ...proof.map((_, i): [string, boolean] => {
          const bad = proof.map((p) => p.slice());
          bad[i]![0]! ^= 16;
          return [`modified proof[${i}]`, verifyConsistency(v.size1, v.size2, r1, r2, bad)];
        }),
      ];
      assert.deepEqual(probes.filter(([, ok]) => ok).map(([d]) => d), [], `${v.size1} → ${v.size2}`);
    }
  });

  test('when the Go edge cases of consistency are checked, then only the trivially consistent ones pass', () => {
    const a = sha256(new TextEncoder().encode("don't care 1"));
    const b = sha256(new TextEncoder().encode("don't care 2"));
    const e = sha256(new Uint8Array(0));
    assert.equal(verifyConsistency(0, 0, a, b, []), false);
    assert.equal(verifyConsistency(1, 1, a, b, []), false);
    assert.equal(verifyConsistency(0, 0, a, a, []), true);
    assert.equal(verifyConsistency(0, 1, a, b, []), true);
    assert.equal(verifyConsistency(1, 0, a, b, []), false);
    assert.equal(verifyConsistency(2, 1, a, b, []), false);
    assert.equal(verifyConsistency(1, 2, a, b, []), false);
    assert.equal(verifyConsistency(0, 1, e, e, [e]), false);
    assert.equal(verifyConsistency(1, 1, e, e, [e]), false);
  });
});

describe('transparency-dev JSON proof vectors', () => {
  test('when checking the inclusion vectors, then the good ones verify and the tampered ones do not', () => {
    for (const v of td.inclusion) {
      const ok = verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, v.proof.map(b64), b64(v.root));
      assert.equal(ok, !v.wantErr, v.file);
    }
  });

  test('when checking the consistency vectors, then the good ones verify and the tampered ones do not', () => {
    for (const v of td.consistency) {
      const ok = verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), v.proof.map(b64));
      assert.equal(ok, !v.wantErr, v.file);
    }
  });

  test('when the vectors are re-derived from the reference leaves, then they are byte-identical', () => {
    const happy = td.inclusion.find((v: any) => v.file === 'testdata/inclusion/2/happy-path.json');
    assert.deepEqual(inclusionProof(leaves, happy.leafIdx, happy.treeSize).map((p) => Buffer.from(p).toString('base64')), happy.proof);
    assert.equal(Buffer.from(fromBase64(happy.root)).toString('hex'), ref.roots[7]);
  });
});

describe('Merkle properties over random trees', () => {
  const sizes = fc.integer({ min: 1, max: 300 });

  test('when proving any leaf of any size, then the proof verifies against rootOf and not against a neighbour', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))), ([n, i]) => {
        const ls = syntheticLeaves(n);
        const root = rootOf(ls);
        const proof = inclusionProof(ls, i, n);
        assert.ok(verifyInclusion(ls[i]!, i, n, proof, root));
        if (n > 1) assert.equal(verifyInclusion(ls[(i + 1) % n]!, i, n, proof, root), false);
      }),
      { numRuns: 150 },
    );
  });

  test('when proving consistency between any two sizes, then it verifies against both roots', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))), ([m, n]) => {
        const ls = syntheticLeaves(n);
        const proof = consistencyProof(ls, m, n);
        assert.ok(verifyConsistency(m, n, rootOf(ls.slice(0, m)), rootOf(ls), proof));
        if (m > 0 && m < n) {
          const forked = [...ls.slice(0, m - 1), leafHash(new Uint8Array([9])), ...ls.slice(m)];
          assert.equal(verifyConsistency(m, n, rootOf(forked.slice(0, m)), rootOf(ls), proof), false);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('when proofs are planned for storage, then the assembled proofs equal the in-memory ones', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n }), fc.constant(n))), ([i, m, n]) => {
        const ls = syntheticLeaves(n);
        const tree = new MerkleTree(ls);
        const node = (r: NodeRef) => tree.node(r);
        for (const r of [...inclusionPlan(i, n).refs, ...consistencyPlan(m, n).refs, ...rootPlan(n).refs]) {
          assert.ok(r.level >= 0 && Number.isInteger(r.index), 'refs are complete subtrees');
        }
        const inc = inclusionPlan(i, n);
        assert.deepEqual(hexes(inc.assemble(inc.refs.map(node))), hexes(inclusionProof(ls, i, n)));
        const con = consistencyPlan(m, n);
        assert.deepEqual(hexes(con.assemble(con.refs.map(node))), hexes(consistencyProof(ls, m, n)));
        const rp = rootPlan(n);
        assert.equal(toHex(rp.assemble(rp.refs.map(node))[0]!), toHex(rootOf(ls)));
      }),
      { numRuns: 150 },
    );
  });

  test('when leaves stream through the builder, then its root, compact range and completed nodes agree with the full tree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }), (n, extra) => {
        const ls = syntheticLeaves(n + extra);
        const tree = new MerkleTree(ls);
        const b = new MerkleBuilder();
        for (const l of ls.slice(0, n)) {
          for (const c of b.pushWithNodes(l)) assert.equal(toHex(c.hash), toHex(tree.node(c)));
        }
        assert.equal(toHex(b.root()), toHex(rootOf(ls.slice(0, n))));
        assert.deepEqual(hexes(b.compactRange()), hexes(rootPlan(n).refs.map((r) => tree.node(r))));
        const resumed = MerkleBuilder.resume(n, b.compactRange());
        for (const l of ls.slice(n)) resumed.push(l);
        assert.equal(resumed.size, n + extra);
        assert.equal(toHex(resumed.root()), toHex(rootOf(ls)));
      }),
      { numRuns: 100 },
    );
  });

  test('when inputs are out of range, then proofs are refused and verification is false, not an exception', () => {
    assert.throws(() => inclusionPlan(3, 3), RangeError);
    assert.throws(() => consistencyPlan(4, 3), RangeError);
    assert.throws(() => inclusionProof(syntheticLeaves(2), 0, 3), RangeError);
    assert.throws(() => MerkleBuilder.resume(5, []), RangeError);
    const l = syntheticLeaves(1)[0]!;
    assert.equal(verifyInclusion(l, -1, 1, [], l), false);
    assert.equal(verifyInclusion(l, 0, 2 ** 53, [], l), false);
    assert.equal(verifyInclusion(l, 0.5, 1, [], l), false);
    assert.equal(verifyInclusion(l, 0, 1, [], l), true);
    assert.equal(verifyConsistency(1, 2, l, l, [new Uint8Array(31)]), false);
  });
});

describe('storage plans at large indexes', () => {
  test('when planning proofs beyond 2^32 leaves, then the node indexes stay exact (no 32-bit arithmetic)', () => {
    const size = 2 ** 40 + 12345;
    const plan = inclusionPlan(2 ** 35 + 7, size);
    assert.ok(plan.refs.length < 64);
    for (const r of plan.refs) assert.ok(Number.isSafeInteger(r.index) && (r.index + 1) * 2 ** r.level <= size);
    assert.equal(rootPlan(size).refs.length, 1 + 6); // 2^40 plus the set bits of 12345 (binary 11000000111001)
  });
});
