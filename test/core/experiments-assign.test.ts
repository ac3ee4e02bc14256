// Assignment properties: raising coverage never moves a device between variants, the coverage
// gate and the variant split are independent (their own seeds), paused and namespaced experiments.

import fc from 'fast-check';
import { chiSquaredDistributionTable } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { assignDevice, coverageSeed } from '../../agent/core/experiments/assign.js';
import type { AssignmentPlan } from '../../agent/core/experiments/assign.js';
import { gbHash } from '../../agent/core/experiments/hash.js';

const plan = (over: Partial<AssignmentPlan> = {}): AssignmentPlan => ({
  seed: 'exp-1',
  hashVersion: 2,
  coverage: 1,
  weights: [0.5, 0.5],
  running: true,
  ...over,
});

const weightsArb = fc
  .array(fc.integer({ min: 1, max: 50 }), { minLength: 2, maxLength: 6 })
  .map((raw) => raw.map((w) => w / raw.reduce((a, b) => a + b, 0)));

/**
 * Pearson's chi-square of a 2 x 3 table (df 2) and its p-value: for 2 degrees of freedom the
 * survival function is exactly exp(-x / 2); simple-statistics' table checks that below.
 */
function independence(table: number[][]): { chi2: number; p: number } {
  const total = table.flat().reduce((a, b) => a + b, 0);
  const rows = table.map((r) => r.reduce((a, b) => a + b, 0));
  const cols = table[0]!.map((_, j) => table.reduce((a, r) => a + r[j]!, 0));
  let chi2 = 0;
  table.forEach((r, i) =>
    r.forEach((o, j) => {
      const e = (rows[i]! * cols[j]!) / total;
      chi2 += (o - e) ** 2 / e;
    }),
  );
  return { chi2, p: Math.exp(-chi2 / 2) };
}

describe('assignment', () => {
  it('raising coverage never changes the variant of a device that was in (and never drops one)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.array(fc.string({ minLength: 1, maxLength: 16 }), { minLength: 1, maxLength: 50 }),
        weightsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, ids, weights, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          for (const id of ids) {
            const before = assignDevice(plan({ seed, weights, coverage: low }), id);
            const after = assignDevice(plan({ seed, weights, coverage: high }), id);
            if (before.inExperiment) expect(after).toEqual(before);
            expect(after.bucket).toBe(before.bucket);
          }
        },
      ),
      { numRuns: 500, seed: 11 },
    );
  });

  it('gate and split are independent over 100,000 ids (chi-square, p > 0.001), unlike one hash for both', () => {
    // the formula for df 2 agrees with simple-statistics' critical values
    expect(-2 * Math.log(0.01)).toBeCloseTo(chiSquaredDistributionTable[2]![0.01], 1);
    expect(-2 * Math.log(0.005)).toBeCloseTo(chiSquaredDistributionTable[2]![0.005], 1);
    const weights = [1 / 3, 1 / 3, 1 / 3];
    const p = plan({ seed: 'gate-vs-split', weights, coverage: 0.1 });
    const ours = [new Array(3).fill(0), new Array(3).fill(0)];
    const sameHash = [new Array(3).fill(0), new Array(3).fill(0)];
    for (let i = 0; i < 100_000; i++) {
      const id = `device-${i}`;
      // the split's variant, for every id (in or not), against whether the gate lets it in
      const split = assignDevice({ ...p, coverage: 1 }, id).variant!;
      const gated = gbHash(coverageSeed(p.seed), id, 2) < p.coverage ? 1 : 0;
      ours[gated]![split]++;
      // the bug class: the gate on the split's own hash
      sameHash[assignDevice({ ...p, coverage: 1 }, id).bucket < p.coverage ? 1 : 0]![split]++;
    }
    expect(independence(ours).p).toBeGreaterThan(0.001);
    expect(independence(sameHash).p).toBeLessThan(0.001);
    // and the in-experiment devices split evenly
    const inArms = ours[1]!;
    const n = inArms.reduce((a, b) => a + b, 0);
    expect(n).toBeGreaterThan(9000);
    const chi2 = inArms.reduce((s, o) => s + (o - n / 3) ** 2 / (n / 3), 0);
    expect(Math.exp(-chi2 / 2)).toBeGreaterThan(0.001);
  });

  it('puts nobody in a paused experiment and only namespace-admitted devices in a namespaced one', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `d-${i}`);
    expect(ids.filter((id) => assignDevice(plan({ running: false }), id).inExperiment)).toEqual([]);
    const left = ids.filter((id) => assignDevice(plan({ namespace: { name: 'n', range: [0, 0.5] } }), id).inExperiment);
    const right = ids.filter(
      (id) => assignDevice(plan({ namespace: { name: 'n', range: [0.5, 1] } }), id).inExperiment,
    );
    expect(left.filter((id) => right.includes(id))).toEqual([]);
    expect(left.length + right.length).toBe(ids.length);
    expect(left.length).toBeGreaterThan(800);
  });

  it('is a pure function of the plan and the id', () => {
    const a = assignDevice(plan({ coverage: 0.5 }), 'prod-berlin-001');
    expect(assignDevice(plan({ coverage: 0.5 }), 'prod-berlin-001')).toEqual(a);
    expect(a.bucket).toBe(gbHash('exp-1', 'prod-berlin-001', 2));
  });
});
