// Thompson sampling over discrete arms (the candidates of the space, or a list): every arm is
// tried `minTrials` times, in an order drawn once from the random source; after that the next
// trial goes to the arm whose posterior draw is best. Posteriors are Normal with empirical Bayes
// shrinkage: the noise variance pooled within arms, the spread of the arms' means estimated
// between them, so that an arm tried once with a lucky result is not taken at face value.

import { allPoints, mean, penalised, samePoint } from './space.js';
import type { Best, Method, Observation, Point, Space } from './space.js';
import { normalDraw } from './random.js';
import type { Random } from './random.js';
import type { Direction } from './types.js';

export interface ThompsonOptions {
  direction: Direction;
  minTrials: number;
  random: Random;
  /** The arms; absent: every point of the space. */
  arms?: readonly Point[];
}

interface Posterior {
  point: Point;
  n: number;
  mean: number;
  variance: number;
}

/** Normal-Normal posteriors of every arm ("lower is better"), shrunk towards the mean of all trials. */
function posteriors(arms: readonly Point[], history: readonly Observation[], direction: Direction): Posterior[] {
  const scored = penalised(history, direction);
  const per = arms.map((point) => ({ point, ys: scored.filter((s) => samePoint(s.point, point)).map((s) => s.y) }));
  const tried = per.filter((a) => a.ys.length > 0);
  const all = tried.flatMap((a) => a.ys);
  const grand = all.length > 0 ? mean(all) : 0;
  const within = tried.reduce((s, a) => s + a.ys.reduce((t, y) => t + (y - mean(a.ys)) ** 2, 0), 0);
  const dof = all.length - tried.length;
  const totalVar = all.length > 1 ? all.reduce((s, y) => s + (y - grand) ** 2, 0) / (all.length - 1) : 1;
  // with no repeated arm yet the noise is unknown: half the total spread is assumed to be noise
  const noise = Math.max(dof > 0 ? within / dof : totalVar / 2, 1e-12);
  const means = tried.map((a) => mean(a.ys));
  const spread =
    means.length > 1 ? means.reduce((s, m) => s + (m - mean(means)) ** 2, 0) / (means.length - 1) : totalVar;
  const between = Math.max(spread - noise * mean(tried.map((a) => 1 / a.ys.length)), noise / 10, 1e-12);
  return per.map(({ point, ys }) => {
    const precision = 1 / between + ys.length / noise;
    const m = (grand / between + ys.reduce((s, y) => s + y, 0) / noise) / precision;
    return { point, n: ys.length, mean: m, variance: 1 / precision };
  });
}

export function thompson(space: Space, o: ThompsonOptions): Method {
  const arms = [...(o.arms ?? allPoints(space))];
  // the order of the first trials, drawn once (Fisher-Yates)
  for (let i = arms.length - 1; i > 0; i--) {
    const j = Math.floor(o.random() * (i + 1));
    [arms[i], arms[j]] = [arms[j]!, arms[i]!];
  }
  const sign = o.direction === 'maximize' ? -1 : 1;
  return {
    suggest(history) {
      const post = posteriors(arms, history, o.direction);
      const fresh = post.find((p) => p.n < o.minTrials);
      if (fresh) return { kind: 'trial', point: fresh.point };
      let pick = post[0]!;
      let low = Infinity;
      for (const p of post) {
        const draw = p.mean + Math.sqrt(p.variance) * normalDraw(o.random);
        if (draw < low) [low, pick] = [draw, p];
      }
      return { kind: 'trial', point: pick.point };
    },
    best(history): Best | undefined {
      const tried = posteriors(arms, history, o.direction).filter((p) => p.n > 0);
      if (tried.length === 0) return undefined;
      const top = tried.reduce((a, b) => (b.mean < a.mean ? b : a));
      return { point: top.point, estimate: sign * top.mean, trials: top.n };
    },
  };
}
