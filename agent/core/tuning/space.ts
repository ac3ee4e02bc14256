// The search space of a tuning run as the methods see it: a few dimensions, each a dotted
// tunable path with its values in order, and a candidate as one index per dimension. A method
// only ever returns points of the space, so every candidate it suggests lies within the values
// the device resolved from its own specs (bounds and grid), whatever it computes.

import type { TunableValue } from '../tunables/annotation.js';

export interface Dimension {
  path: string;
  values: TunableValue[];
}

export interface Space {
  dims: Dimension[];
}

/** A candidate: an index into each dimension's values. */
export type Point = readonly number[];

/** One trial's result as the methods read it: `value` is the objective's mean, null when the trial failed (infeasible, aborted). */
export interface Observation {
  point: Point;
  value: number | null;
}

/** What a method says next: a point to try, or that it is done. */
export type Suggestion = { kind: 'trial'; point: Point } | { kind: 'done'; reason: string };

export interface Best {
  point: Point;
  /** The method's estimate of the objective there (the objective's own units and direction). */
  estimate: number;
  /** Trials of the point. */
  trials: number;
}

/** The common interface of the search methods: pure functions of the history (and the random source they were built with). */
export interface Method {
  suggest(history: readonly Observation[]): Suggestion;
  best(history: readonly Observation[]): Best | undefined;
}

/** How many candidates the space holds. */
export const spaceSize = (space: Space): number => space.dims.reduce((n, d) => n * d.values.length, 1);

/** Every point of the space, the last dimension fastest. */
export function allPoints(space: Space): number[][] {
  let out: number[][] = [[]];
  for (const d of space.dims) out = out.flatMap((p) => d.values.map((_, i) => [...p, i]));
  return out;
}

/** The point's values by path. */
export function assignment(space: Space, point: Point): Record<string, TunableValue> {
  return Object.fromEntries(space.dims.map((d, i) => [d.path, d.values[point[i]!]!]));
}

/** A stable name of a candidate, e.g. `detectors.person.input_size=320,motion.sensitivity=0.5` (a telemetry label). */
export function candidateKey(space: Space, point: Point): string {
  return space.dims.map((d, i) => `${d.path}=${String(d.values[point[i]!])}`).join(',');
}

/** The point of a candidate's values, or undefined when one is not in the space. */
export function pointOf(space: Space, values: Readonly<Record<string, TunableValue>>): number[] | undefined {
  const point = space.dims.map((d) => d.values.indexOf(values[d.path] as TunableValue));
  return point.every((i) => i >= 0) ? point : undefined;
}

/** Whether a point is one of the space's (every index an integer within its dimension). */
export const inSpace = (space: Space, point: Point): boolean =>
  point.length === space.dims.length &&
  point.every((i, d) => Number.isInteger(i) && i >= 0 && i < space.dims[d]!.values.length);

export const samePoint = (a: Point, b: Point): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The observations of `point`. */
export const observationsOf = (history: readonly Observation[], point: Point): Observation[] =>
  history.filter((o) => samePoint(o.point, point));

/**
 * The history in "lower is better" terms, with failed trials replaced by a penalty: the worst
 * value seen plus the spread of the values (one unit when there is none). A failed candidate
 * is thus ranked last without being an unknown number.
 */
export function penalised(
  history: readonly Observation[],
  direction: 'minimize' | 'maximize',
): Array<{ point: Point; y: number }> {
  const sign = direction === 'maximize' ? -1 : 1;
  const ys = history.filter((o) => o.value !== null).map((o) => sign * o.value!);
  const worst = ys.length > 0 ? Math.max(...ys) : 0;
  const spread = ys.length > 1 ? Math.max(...ys) - Math.min(...ys) : 0;
  const penalty = worst + (spread > 0 ? spread : Math.abs(worst) > 0 ? Math.abs(worst) : 1);
  return history.map((o) => ({ point: o.point, y: o.value === null ? penalty : sign * o.value }));
}

/** Mean of numbers (NaN for none). */
export const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
