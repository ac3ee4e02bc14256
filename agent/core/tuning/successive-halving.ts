// Successive halving (Karnin et al. 2013; Jamieson and Talwalkar 2016; Chameleon's top-k reuse):
// every survivor gets its share of a round's trials and the better 1/eta of them go on, until one
// is left. Without a
// candidate list it runs coordinate-wise (knobs close to independent, as Chameleon assumes): over
// the values of the first path with the others held, then the next path from the winner, so that
// a 6 x 6 space needs 12 trials rather than 36; the budget is shared by the paths. Pure: the state is replayed from the history.

import { mean, observationsOf, penalised, samePoint } from './space.js';
import type { Best, Method, Observation, Point, Space } from './space.js';
import type { Direction } from './types.js';

interface Scored {
  point: Point;
  y: number;
}

interface Round {
  /** The next point to try, while the list is not decided. */
  next?: Point;
  /** The point left, once it is. */
  winner?: Point;
  /** The best mean among the survivors tried so far. */
  leader?: Point;
}

const yOf = (scored: readonly Scored[], p: Point): number[] =>
  scored.filter((s) => samePoint(s.point, p)).map((s) => s.y);

/**
 * Successive halving over `list`, replayed from `scored` ("lower is better"), spending about
 * `budget` trials: the rounds share it equally, and a round gives each survivor its share
 * (Karnin et al. 2013), at least one trial.
 */
function halve(list: readonly Point[], scored: readonly Scored[], eta: number, budget: number): Round {
  let survivors = list.filter((p, i) => list.findIndex((q) => samePoint(p, q)) === i);
  const score = (p: Point): number => mean(yOf(scored, p));
  const rank = (ps: readonly Point[]): Point[] =>
    ps
      .map((p, i) => ({ p, i, m: score(p) }))
      .sort((a, b) => a.m - b.m || a.i - b.i)
      .map((x) => x.p);
  const leaderOf = (ps: readonly Point[]): Point | undefined => rank(ps.filter((p) => yOf(scored, p).length > 0))[0];
  const rounds = Math.max(1, Math.ceil(Math.log(survivors.length) / Math.log(eta)));
  for (let level = 0; ;) {
    level += Math.max(1, Math.floor(budget / rounds / survivors.length));
    const lacking = survivors.find((p) => yOf(scored, p).length < level);
    if (lacking) {
      const leader = leaderOf(survivors);
      return { next: lacking, ...(leader ? { leader } : {}) };
    }
    if (survivors.length <= 1) return { winner: survivors[0]!, leader: survivors[0]! };
    survivors = rank(survivors).slice(0, Math.ceil(survivors.length / eta));
  }
}

export interface HalvingOptions {
  eta: number;
  direction: Direction;
  /** The candidate list; absent: coordinate-wise over the space. */
  candidates?: readonly Point[];
  /** The trials it may spend. */
  budget: number;
  /** Where the coordinate-wise search starts (the device's incumbent); absent: the middle value of each path. */
  start?: Point;
}

export function successiveHalving(space: Space, o: HalvingOptions): Method {
  const start = o.start ?? space.dims.map((d) => Math.floor((d.values.length - 1) / 2));
  /** Replays the search: the round in progress, or the winner. */
  const replay = (history: readonly Observation[]): { round: Round; done: boolean } => {
    const scored = penalised(history, o.direction);
    if (o.candidates) {
      const round = halve(o.candidates, scored, o.eta, o.budget);
      return { round, done: round.winner !== undefined };
    }
    let base: Point = start;
    for (let d = 0; d < space.dims.length; d++) {
      const list = space.dims[d]!.values.map((_, i) => base.map((x, j) => (j === d ? i : x)));
      const round = halve(list, scored, o.eta, o.budget / space.dims.length);
      if (round.next) return { round, done: false };
      base = round.winner!;
    }
    return { round: { winner: base, leader: base }, done: true };
  };
  const sign = o.direction === 'maximize' ? -1 : 1;
  return {
    suggest(history) {
      const { round, done } = replay(history);
      return done || !round.next
        ? { kind: 'done', reason: 'one candidate is left' }
        : { kind: 'trial', point: round.next };
    },
    best(history): Best | undefined {
      const point = replay(history).round.leader;
      if (!point) return undefined;
      const ys = yOf(penalised(history, o.direction), point);
      return ys.length > 0
        ? { point, estimate: sign * mean(ys), trials: observationsOf(history, point).length }
        : undefined;
    },
  };
}
