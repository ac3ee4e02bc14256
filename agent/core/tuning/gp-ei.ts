// A small Gaussian-process search with expected improvement (CherryPick, OtterTune) for one or
// two numeric knobs: the candidates are the points of the space, scaled to [0, 1] per knob by
// their values. After `initial` random candidates, each trial goes where the expected improvement
// over the best posterior mean seen is largest (a tried point may be tried again: trials are
// noisy). The kernel is squared exponential; its length scale and the noise share are chosen by
// the marginal likelihood over a small grid, refitted each time (n is at most a few dozen, so
// the O(n^3) Cholesky of ml-matrix costs microseconds). The first candidates are a Latin hypercube;
// the search ends at the budget (or, when asked, once no candidate is expected to improve).

import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { errorFunction } from 'simple-statistics';
import { allPoints, mean, observationsOf, penalised, samePoint } from './space.js';
import type { Best, Method, Observation, Point, Space } from './space.js';
import type { Random } from './random.js';
import type { Direction } from './types.js';

export interface GpOptions {
  direction: Direction;
  /** Random candidates before the model chooses. */
  initial: number;
  random: Random;
  /** Stop when the largest expected improvement (in standard deviations of the values seen) is below this (default 0: run the budget). */
  minImprovement?: number;
}

const LENGTH_SCALES = [0.3, 0.5, 0.8];
const NOISE_SHARES = [0.02, 0.1, 0.3];
/**
 * Exploration margin of the expected improvement, in standard deviations of the values seen: with
 * trials this noisy (σ a tenth of the range) a wide margin spreads the trials and the final
 * posterior is better everywhere (0.01 found the optimum in 86-88 % of seeds on the synthetic
 * objectives of test/core/tuning-methods.test.ts, 1 in 90-92 %).
 */
const XI = 1;

const normalCdf = (z: number): number => 0.5 * (1 + errorFunction(z / Math.SQRT2));
const normalPdf = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

interface Fit {
  /** Posterior mean and latent standard deviation at every candidate. */
  mu: number[];
  sd: number[];
}

/** The coordinates of every candidate: each knob's value scaled to [0, 1] over its values. */
function coordinates(space: Space, points: readonly Point[]): number[][] {
  const scale = space.dims.map((d) => {
    const vs = d.values.map(Number);
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    return (i: number): number => (hi > lo ? (vs[i]! - lo) / (hi - lo) : 0);
  });
  return points.map((p) => p.map((i, d) => scale[d]!(i)));
}

const kernel = (a: readonly number[], b: readonly number[], ell: number): number => {
  let d2 = 0;
  for (let i = 0; i < a.length; i++) d2 += (a[i]! - b[i]!) ** 2;
  return Math.exp(-d2 / (2 * ell * ell));
};

/** Solves L x = b for lower triangular L. */
function forward(l: number[][], b: readonly number[]): number[] {
  const x = new Array<number>(b.length);
  for (let i = 0; i < b.length; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** The GP posterior at `at` given standardised `y` at `x`, with the hyperparameters of the largest marginal likelihood. */
function fit(x: readonly number[][], y: readonly number[], at: readonly number[][]): Fit {
  let chosen: { chol: CholeskyDecomposition; alpha: number[]; ell: number; lml: number } | undefined;
  for (const ell of LENGTH_SCALES)
    for (const noise of NOISE_SHARES) {
      const k = new Matrix(x.map((a, i) => x.map((b, j) => kernel(a, b, ell) + (i === j ? noise : 0))));
      const chol = new CholeskyDecomposition(k);
      if (!chol.isPositiveDefinite()) continue;
      const alpha = chol.solve(Matrix.columnVector([...y])).to1DArray();
      const l = chol.lowerTriangularMatrix;
      let logDet = 0;
      for (let i = 0; i < y.length; i++) logDet += Math.log(l.get(i, i));
      const lml = -0.5 * y.reduce((s, v, i) => s + v * alpha[i]!, 0) - logDet;
      if (!chosen || lml > chosen.lml) chosen = { chol, alpha, ell, lml };
    }
  const { chol, alpha, ell } = chosen!;
  const l = chol.lowerTriangularMatrix.to2DArray();
  const mu: number[] = [];
  const sd: number[] = [];
  for (const p of at) {
    const ks = x.map((a) => kernel(a, p, ell));
    mu.push(ks.reduce((s, v, i) => s + v * alpha[i]!, 0));
    const v = forward(l, ks);
    sd.push(Math.sqrt(Math.max(1 - v.reduce((s, q) => s + q * q, 0), 1e-12)));
  }
  return { mu, sd };
}

/** `k` points spread over the space: in each dimension every k-th share of the values once (Latin hypercube), shuffled by `random`. */
function latinHypercube(space: Space, k: number, random: Random): Point[] {
  const perms = space.dims.map(() => {
    const p = Array.from({ length: k }, (_, i) => i);
    for (let i = k - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  });
  return Array.from({ length: k }, (_, i) =>
    space.dims.map((d, j) =>
      Math.min(d.values.length - 1, Math.floor(((perms[j]![i]! + random()) / k) * d.values.length)),
    ),
  );
}

export function gpEi(space: Space, o: GpOptions): Method {
  const points = allPoints(space);
  const coords = coordinates(space, points);
  const design = latinHypercube(space, Math.min(o.initial, points.length), o.random).map((p) =>
    points.findIndex((q) => samePoint(p, q)),
  );
  const minImprovement = o.minImprovement ?? 0;
  const sign = o.direction === 'maximize' ? -1 : 1;
  const indexOf = (p: Point): number => points.findIndex((q) => samePoint(p, q));

  /** The posterior ("lower is better", standardised) and the indices of the tried candidates. */
  const model = (history: readonly Observation[]) => {
    const scored = penalised(history, o.direction).filter((s) => indexOf(s.point) >= 0);
    const ys = scored.map((s) => s.y);
    const m = mean(ys);
    const sdev = Math.sqrt(ys.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(ys.length - 1, 1)) || 1;
    const posterior = fit(
      scored.map((s) => coords[indexOf(s.point)]!),
      ys.map((v) => (v - m) / sdev),
      coords,
    );
    const tried = [...new Set(scored.map((s) => indexOf(s.point)))];
    return { posterior, tried, m, sdev };
  };

  return {
    suggest(history) {
      const distinct = new Set(history.map((h) => indexOf(h.point)).filter((i) => i >= 0));
      if (distinct.size < Math.min(o.initial, points.length)) {
        const next = design.find((i) => !distinct.has(i)) ?? points.findIndex((_, i) => !distinct.has(i));
        return { kind: 'trial', point: points[next]! };
      }
      const { posterior, tried } = model(history);
      const incumbent = Math.min(...tried.map((i) => posterior.mu[i]!));
      let best = -1;
      let top = -Infinity;
      posterior.mu.forEach((mu, i) => {
        const s = posterior.sd[i]!;
        const z = (incumbent - mu - XI) / s;
        const ei = (incumbent - mu - XI) * normalCdf(z) + s * normalPdf(z);
        if (ei > top) [top, best] = [ei, i];
      });
      if (top < minImprovement) return { kind: 'done', reason: 'no candidate is expected to improve' };
      return { kind: 'trial', point: points[best]! };
    },
    best(history): Best | undefined {
      if (!history.some((h) => indexOf(h.point) >= 0)) return undefined;
      // the best tried candidate by the posterior mean: a proposal rests on trials, never on the model alone
      const { posterior, tried, m, sdev } = model(history);
      const i = tried.reduce((a, b) => (posterior.mu[b]! < posterior.mu[a]! ? b : a));
      const point = points[i]!;
      return { point, estimate: sign * (m + sdev * posterior.mu[i]!), trials: observationsOf(history, point).length };
    },
  };
}
