// Assignment hashes against GrowthBook itself (@growthbook/growthbook, MIT, a devDependency used
// as the oracle). The package does not ship GrowthBook's published vectors (packages/sdk-js/test/
// cases.json, specVersion 0.5.4, MIT), so the vectors below are generated: inputs of the kind those
// vectors use (short seeds and ids, an empty seed, punctuation), with the expected values computed
// here by the package, never copied: ours must equal its answers.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { GrowthBook } from '@growthbook/growthbook';
import { describe, expect, it } from 'vitest';
import { fnv1a32Utf16, gbHash, isAscii } from '../../agent/core/experiments/hash.js';
import { assignDevice, bucketRanges, chooseVariation, inNamespace } from '../../agent/core/experiments/assign.js';

type Range = [number, number];
interface GrowthBookUtil {
  hash(seed: string, value: string, version: number): number | null;
  getBucketRanges(n: number, coverage: number | undefined, weights?: number[]): Range[];
  chooseVariation(n: number, ranges: Range[]): number;
  inNamespace(id: string, namespace: [string, number, number]): boolean;
}
// the package exports only its client classes; its util module is loaded by path (the exports map hides it)
const pkg = dirname(createRequire(import.meta.url).resolve('@growthbook/growthbook/package.json'));
const gb = (await import(pathToFileURL(join(pkg, 'dist/esm/util.mjs')).href)) as GrowthBookUtil;

/** (seed, id) pairs: half ASCII, half any UTF-16 (GrowthBook hashes code units; ours must too). */
const pairs = (n: number, seed: number): Array<[string, string]> => [
  ...fc.sample(fc.tuple(fc.string({ maxLength: 24 }), fc.string({ maxLength: 40 })), { numRuns: n / 2, seed }),
  ...fc.sample(fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 20 })), {
    numRuns: n / 2,
    seed: seed + 1,
  }),
];

describe('GrowthBook hash (v1 and v2)', () => {
  const generated = pairs(100_000, 16);

  it('equals @growthbook/growthbook on 100,000 generated (seed, id) pairs', () => {
    const differ = generated.filter(
      ([seed, id]) => gbHash(seed, id, 2) !== gb.hash(seed, id, 2) || gbHash(seed, id, 1) !== gb.hash(seed, id, 1),
    );
    expect(generated).toHaveLength(100_000);
    expect(differ).toEqual([]);
    expect(generated.filter(([s, i]) => !isAscii(s + i)).length).toBeGreaterThan(40_000);
  });

  it('equals it on the inputs of the published hash vectors', () => {
    const inputs: Array<[string, string, 1 | 2]> = [
      ['', 'a', 1],
      ['', 'b', 1],
      ['b', 'a', 1],
      ['ef', 'd', 1],
      ['asdf', '8952klfjas09ujkasdf', 1],
      ['asdf', '123', 1],
      ['asdf', '___)((*":&', 1],
      ['', 'a', 2],
      ['', 'b', 2],
      ['b', 'a', 2],
      ['ef', 'd', 2],
      ['asdf', '8952klfjas09ujkasdf', 2],
      ['asdf', '123', 2],
      ['asdf', '___)((*":&', 2],
    ];
    for (const [seed, id, v] of inputs) expect(gbHash(seed, id, v), `${seed}|${id}|${v}`).toBe(gb.hash(seed, id, v));
    // values that pin the arithmetic without the oracle: FNV-1a 32 of "" and of "a"
    expect(fnv1a32Utf16('')).toBe(0x811c9dc5);
    expect(fnv1a32Utf16('a')).toBe(0xe40c292c);
  });

  it('v2 has 10,000 buckets in [0, 1), v1 1,000', () => {
    const v2 = new Set(generated.map(([seed, id]) => gbHash(seed, id, 2)));
    const v1 = new Set(generated.map(([seed, id]) => gbHash(seed, id, 1)));
    expect(v2.size).toBe(10_000);
    expect(v1.size).toBe(1_000);
    expect([...v2].every((n) => n >= 0 && n < 1 && Math.abs(n * 1e4 - Math.round(n * 1e4)) < 1e-6)).toBe(true);
  });
});

describe('ranges, variations and namespaces', () => {
  it("getBucketRanges: equal to GrowthBook's on the published cases' shapes and on generated weights", () => {
    const cases: Array<[number, number, number[]]> = [
      [2, 1, [0.5, 0.5]],
      [2, 0.5, [0.5, 0.5]],
      [2, 0, [0.5, 0.5]],
      [4, 1, [0.25, 0.25, 0.25, 0.25]],
      [3, 1, [1 / 3, 1 / 3, 1 / 3]],
      [2, 1, [0.4, 0.6]],
      [3, 1, [0.2, 0.3, 0.5]],
      [3, 0.2, [0.2, 0.3, 0.5]],
    ];
    for (const [n, coverage, weights] of cases)
      expect(bucketRanges(weights, coverage)).toEqual(gb.getBucketRanges(n, coverage, weights));
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, coverage) => {
          const total = raw.reduce((a, b) => a + b, 0);
          const weights = raw.map((w) => w / total);
          expect(bucketRanges(weights, coverage)).toEqual(gb.getBucketRanges(weights.length, coverage, weights));
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('chooseVariation and inNamespace: equal to GrowthBook on 100,000 ids', () => {
    const ranges = gb.getBucketRanges(3, 0.7, [0.2, 0.3, 0.5]);
    const ids = fc.sample(fc.string({ maxLength: 30 }), { numRuns: 100_000, seed: 3 });
    const differ = ids.filter((id) => {
      const n = gbHash('s', id, 2);
      return (
        chooseVariation(n, ranges) !== gb.chooseVariation(n, ranges) ||
        inNamespace(id, { name: 'motion', range: [0.25, 0.75] }) !== gb.inNamespace(id, ['motion', 0.25, 0.75])
      );
    });
    expect(differ).toEqual([]);
  });

  it('with coverage 1 the whole assignment is what GrowthBook.run gives (namespace, split, bucket)', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `door-${i.toString().padStart(4, '0')}`);
    const weights = [0.2, 0.3, 0.5];
    for (const id of ids) {
      const client = new GrowthBook({ attributes: { id } });
      const r = client.run({
        key: 'x',
        variations: [0, 1, 2],
        weights,
        hashVersion: 2,
        seed: 'motion-sensitivity-1',
        namespace: ['motion', 0, 0.6],
      });
      const ours = assignDevice(
        {
          seed: 'motion-sensitivity-1',
          hashVersion: 2,
          coverage: 1,
          weights,
          namespace: { name: 'motion', range: [0, 0.6] },
          running: true,
        },
        id,
      );
      expect(ours.inExperiment, id).toBe(r.inExperiment);
      if (r.inExperiment) {
        expect(ours.variant, id).toBe(r.variationId);
        expect(ours.bucket, id).toBe(r.bucket);
      }
      client.destroy();
    }
  });
});
