// A small Gaussian-process search with expected improvement (CherryPick, OtterTune) for one or
// two numeric knobs: the candidates are the points of the space, scaled to [0, 1] per knob by
// their values. After `initial` candidates spread as a Latin hypercube, each trial goes where the
// expected improvement over the best posterior mean seen is largest (a tried point may be tried
// again: trials are noisy); the last `exploit` trials of the budget replicate the candidate of the
// best posterior mean, so that the one proposed has the most trials behind it.
//
// The model: a quadratic response surface (the second-order expansion of a cost about its optimum,
// as in response surface methodology) fitted by generalised least squares, with a GP of the
// residuals (squared exponential kernel). The kernel's length scale and noise share are not fixed
// but averaged over a small grid, each weighted by its marginal likelihood (Bayesian model
// averaging, as Spearmint integrates its hyperparameters out): with twenty noisy trials the single
// most likely pair is itself noisy. The quadratic enters only once there are more distinct points
// than its terms. n is at most a few dozen, so the O(n^3) Cholesky of ml-matrix costs microseconds.
// The search ends at the budget (or, when asked, once no candidate is expected to improve).

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
  /** The trial budget: its last `exploit` trials replicate the best candidate (none without a budget). */
  budget?: number;
  /** Trials at the end of the budget that replicate the candidate of the best posterior mean (default 2). */
  exploit?: number;
}

const LENGTH_SCALES = [0.3, 0.5, 0.8];
const NOISE_SHARES = [0.02, 0.1, 0.3];
/**
 * Exploration margin of the expected improvement, in standard deviations of the values seen: with
 * trials this noisy (σ a tenth of the range) a wide margin spreads the trials and the final
 * posterior is better everywhere (0.01 found the optimum in 86-88 % of seeds on the synthetic
 * objectives of test/core/tuning-methods.test.ts, 1 in 90-92 %, before the model had its quadratic
 * trend and averaged hyperparameters).
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

/** The terms of the quadratic trend at a point: 1, each coordinate, its square and (two knobs) their product. */
const quadratic = (p: readonly number[]): number[] => [
  1,
  ...p,
  ...p.map((v) => v * v),
  ...(p.length === 2 ? [p[0]! * p[1]!] : []),
];

/** A symmetric positive definite system's solution (the normal equations of the trend), with a small ridge for a near-singular design. */
function solveSymmetric(a: Matrix, b: Matrix): Matrix {
  const n = a.rows;
  const sym = new Matrix(n, n);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) sym.set(r, c, (a.get(r, c) + a.get(c, r)) / 2 + (r === c ? 1e-3 : 0));
  return new CholeskyDecomposition(sym).solve(b);
}

/** The posterior at `at` of one pair of hyperparameters, and its log marginal likelihood (constants dropped). */
function fitOne(
  x: readonly number[][],
  y: readonly number[],
  at: readonly number[][],
  ell: number,
  noise: number,
  trend: boolean,
) {
  const k = new Matrix(x.map((a, i) => x.map((b, j) => kernel(a, b, ell) + (i === j ? noise : 0))));
  const chol = new CholeskyDecomposition(k);
  if (!chol.isPositiveDefinite()) return undefined;
  let beta: number[] = [];
  let residual = [...y];
  if (trend) {
    // generalised least squares: beta = (H' K^-1 H)^-1 H' K^-1 y
    const h = new Matrix(x.map(quadratic));
    const ht = h.transpose();
    beta = solveSymmetric(ht.mmul(chol.solve(h)), ht.mmul(chol.solve(Matrix.columnVector([...y])))).to1DArray();
    const fitted = h.mmul(Matrix.columnVector(beta)).to1DArray();
    residual = y.map((v, i) => v - fitted[i]!);
  }
  const alpha = chol.solve(Matrix.columnVector(residual)).to1DArray();
  const l = chol.lowerTriangularMatrix.to2DArray();
  let logDet = 0;
  for (let i = 0; i < y.length; i++) logDet += Math.log(l[i]![i]!);
  const lml = -0.5 * residual.reduce((s, v, i) => s + v * alpha[i]!, 0) - logDet;
  const mu: number[] = [];
  const sd: number[] = [];
  for (const p of at) {
    const ks = x.map((a) => kernel(a, p, ell));
    const t = trend ? quadratic(p).reduce((s, v, i) => s + v * beta[i]!, 0) : 0;
    mu.push(t + ks.reduce((s, v, i) => s + v * alpha[i]!, 0));
    const v = forward(l, ks);
    sd.push(Math.sqrt(Math.max(1 - v.reduce((s, q) => s + q * q, 0), 1e-12)));
  }
  return { mu, sd, lml };
}

/** The GP posterior at `at` given standardised `y` at `x`: the fits of the hyperparameter grid averaged, each weighted by its marginal likelihood. */
function fit(x: readonly number[][], y: readonly number[], at: readonly number[][]): Fit {
  const trend = new Set(x.map((p) => p.join(','))).size > quadratic(x[0]!).length;
  const fits = LENGTH_SCALES.flatMap((ell) => NOISE_SHARES.map((noise) => fitOne(x, y, at, ell, noise, trend))).filter(
    (f) => f !== undefined,
  );
  const top = Math.max(...fits.map((f) => f.lml));
  const w = fits.map((f) => Math.exp(f.lml - top));
  const total = w.reduce((a, b) => a + b, 0);
  const mu = at.map((_, j) => fits.reduce((s, f, h) => s + w[h]! * f.mu[j]!, 0) / total);
  // the mixture's variance: the mean of the second moments less the squared mean
  const sd = at.map((_, j) =>
    Math.sqrt(
      Math.max(fits.reduce((s, f, h) => s + w[h]! * (f.sd[j]! ** 2 + f.mu[j]! ** 2), 0) / total - mu[j]! ** 2, 1e-12),
    ),
  );
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

  /**
   * The best tried candidate by the posterior mean: a proposal rests on trials, never on the model
   * alone. Failed trials (infeasible, aborted) carry a penalty in the search, but here the model is
   * fitted to the feasible trials only, among the candidates that succeeded at least as often as
   * they failed: a penalised neighbour would otherwise drag a feasible optimum next to the
   * constraint's edge up with it (the smooth surface cannot follow the cliff).
   */
  const recommend = (history: readonly Observation[]): { index: number; estimate: number } | undefined => {
    const known = history.filter((h) => indexOf(h.point) >= 0);
    if (known.length === 0) return undefined;
    const feasible = known.filter((h) => h.value !== null);
    const standing = (i: number): boolean => {
      const of = known.filter((h) => indexOf(h.point) === i);
      return 2 * of.filter((h) => h.value !== null).length >= of.length;
    };
    const { posterior, tried, m, sdev } = model(feasible.length > 0 ? feasible : known);
    const pool = tried.filter(standing);
    const index = (pool.length > 0 ? pool : tried).reduce((a, b) => (posterior.mu[b]! < posterior.mu[a]! ? b : a));
    return { index, estimate: sign * (m + sdev * posterior.mu[index]!) };
  };

  return {
    suggest(history) {
      const distinct = new Set(history.map((h) => indexOf(h.point)).filter((i) => i >= 0));
      if (distinct.size < Math.min(o.initial, points.length)) {
        const next = design.find((i) => !distinct.has(i)) ?? points.findIndex((_, i) => !distinct.has(i));
        return { kind: 'trial', point: points[next]! };
      }
      const { posterior, tried } = model(history);
      if (o.budget !== undefined && history.length >= o.budget - (o.exploit ?? 2)) {
        // the end of the budget: replicate the candidate the model rates best
        const i = posterior.mu.reduce((a, v, b) => (v < posterior.mu[a]! ? b : a), 0);
        return { kind: 'trial', point: points[i]! };
      }
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
      const r = recommend(history);
      if (!r) return undefined;
      const point = points[r.index]!;
      return { point, estimate: r.estimate, trials: observationsOf(history, point).length };
    },
  };
}
