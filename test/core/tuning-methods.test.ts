// The tuner's search methods on synthetic noisy objectives (issue 16's evidence): a 6 x 6 grid of
// two numeric knobs, a CPU-like bowl whose optimum, curvatures and interaction are drawn from the
// seed, each trial's result the true value plus Normal noise of a tenth of the objective's range
// over the grid. A run ends within 5 % of the optimum when the true value of what the method
// names best is within 5 % of that range of the grid's minimum. Every suggestion lies in the space.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeMethod } from '../../agent/core/tuning/method.js';
import { normalDraw, seededRandom } from '../../agent/core/tuning/random.js';
import { allPoints, inSpace } from '../../agent/core/tuning/space.js';
import type { Observation, Space } from '../../agent/core/tuning/space.js';
import type { Direction, MethodSpec } from '../../agent/core/tuning/types.js';

const space: Space = {
  dims: [
    { path: 'detectors.person.frame_interval', values: [1, 2, 3, 4, 5, 6] },
    { path: 'detectors.person.input_size', values: [160, 192, 224, 256, 288, 320] },
  ],
};

function objective(seed: number) {
  const r = seededRandom(`objective-${seed}`);
  const [x0, y0, cx, cy, rho] = [r() * 5, r() * 5, 0.5 + r(), 0.5 + r(), (r() - 0.5) * 0.6];
  const f = (p: readonly number[]): number =>
    0.3 + 0.02 * (cx * (p[0]! - x0) ** 2 + cy * (p[1]! - y0) ** 2 + rho * (p[0]! - x0) * (p[1]! - y0));
  const values = allPoints(space).map(f);
  return { f, min: Math.min(...values), max: Math.max(...values) };
}

/** One run: trials until the method is done; whether its best is within 5 % of the range of the optimum. */
function run(spec: MethodSpec, seed: number, direction: Direction = 'minimize') {
  const o = objective(seed);
  const sign = direction === 'maximize' ? -1 : 1;
  const noise = seededRandom(`noise-${seed}`);
  const m = makeMethod(spec, space, { direction, maxTrials: 20, random: seededRandom(seed) });
  const history: Observation[] = [];
  for (let s = m.suggest(history); s.kind === 'trial'; s = m.suggest(history))
    history.push({ point: s.point, value: sign * (o.f(s.point) + 0.1 * (o.max - o.min) * normalDraw(noise)) });
  const best = m.best(history)!;
  return { ok: o.f(best.point) - o.min <= 0.05 * (o.max - o.min), trials: history.length };
}

const SEEDS = Array.from({ length: 200 }, (_, i) => i);

describe('the search methods on noisy 36-point objectives', () => {
  it('gp-ei ends within 5 % of the optimum in at most 20 trials for at least 90 % of 200 seeds', () => {
    const runs = SEEDS.map((s) => run({ type: 'gp-ei', initial: 6 }, s));
    expect(Math.max(...runs.map((r) => r.trials))).toBeLessThanOrEqual(20);
    // measured 0.925 on these seeds (seeds 0-199, the first set; 0.945 to 0.98 on nine other sets of 200,
    // 0.959 over the 2,000): the quadratic trend suits this bowl, so on a non-quadratic cost (|d|^1.2
    // with a ripple) the same method reaches 0.78 where the plain GP reached 0.75
    expect(runs.filter((r) => r.ok).length / runs.length).toBeGreaterThanOrEqual(0.9);
  });

  it('gp-ei maximises as well as it minimises (the same runs, the objective negated)', () => {
    const runs = SEEDS.slice(0, 50).map((s) => run({ type: 'gp-ei', initial: 6 }, s, 'maximize'));
    const same = SEEDS.slice(0, 50).map((s) => run({ type: 'gp-ei', initial: 6 }, s));
    expect(runs.map((r) => r.ok)).toEqual(same.map((r) => r.ok));
  });

  it('successive halving over a small candidate list from git (6 candidates, the optimum among them) ends within 5 % for at least 90 % of seeds', () => {
    const ok = SEEDS.filter((seed) => {
      const o = objective(seed);
      const points = allPoints(space);
      const opt = points.find((p) => o.f(p) === o.min)!;
      const pick = seededRandom(`list-${seed}`);
      const others = points
        .filter((p) => p !== opt)
        .sort(() => pick() - 0.5)
        .slice(0, 5);
      const candidates = [opt, ...others].map((p) =>
        Object.fromEntries(space.dims.map((d, i) => [d.path, d.values[p[i]!]!])),
      );
      return run({ type: 'successive-halving', eta: 2, candidates }, seed).ok;
    }).length;
    expect(ok / SEEDS.length).toBeGreaterThanOrEqual(0.9);
  });

  it('successive halving (coordinate-wise) and Thompson sampling over all 36 candidates: reported, not held to the target', () => {
    // 20 trials cannot try 36 arms; these figures are what the README quotes
    const sh = SEEDS.filter((s) => run({ type: 'successive-halving', eta: 2 }, s).ok).length / SEEDS.length;
    const ts = SEEDS.filter((s) => run({ type: 'thompson', min_trials: 1 }, s).ok).length / SEEDS.length;
    // measured: coordinate-wise successive halving 0.70, Thompson sampling 0.64
    expect(sh).toBeGreaterThan(0.6);
    expect(ts).toBeGreaterThan(0.55);
  });

  it('never suggests a point outside the space, whatever the history says (property)', () => {
    const specs: MethodSpec[] = [
      { type: 'gp-ei', initial: 3 },
      { type: 'thompson', min_trials: 1 },
      { type: 'successive-halving', eta: 2 },
      {
        type: 'successive-halving',
        eta: 3,
        candidates: [
          { 'detectors.person.frame_interval': 2, 'detectors.person.input_size': 192 },
          { 'detectors.person.frame_interval': 6, 'detectors.person.input_size': 320 },
        ],
      },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...specs),
        fc.integer(),
        fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(null)), { maxLength: 25 }),
        (spec, seed, values) => {
          const m = makeMethod(spec, space, { direction: 'minimize', maxTrials: 30, random: seededRandom(seed) });
          const history: Observation[] = [];
          for (const value of values) {
            const s = m.suggest(history);
            if (s.kind === 'done') break;
            expect(inSpace(space, s.point)).toBe(true);
            history.push({ point: s.point, value });
          }
          const best = m.best(history);
          if (best) expect(inSpace(space, best.point)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the same seed and history give the same suggestions', () => {
    const a = makeMethod({ type: 'gp-ei', initial: 6 }, space, {
      direction: 'minimize',
      maxTrials: 20,
      random: seededRandom(7),
    });
    const b = makeMethod({ type: 'gp-ei', initial: 6 }, space, {
      direction: 'minimize',
      maxTrials: 20,
      random: seededRandom(7),
    });
    const h: Observation[] = [];
    for (let i = 0; i < 10; i++) {
      const s = a.suggest(h);
      expect(b.suggest(h)).toEqual(s);
      if (s.kind === 'trial') h.push({ point: s.point, value: i % 3 });
    }
  });
});
