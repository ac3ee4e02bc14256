// The search method of a tuning file, built for one device's resolved space: every method
// answers the same two questions of the history (what next, what is best so far), and the trial
// budget ends every one of them.

import { gpEi } from './gp-ei.js';
import { pointOf } from './space.js';
import type { Method, Point, Space } from './space.js';
import type { Random } from './random.js';
import { successiveHalving } from './successive-halving.js';
import { thompson } from './thompson.js';
import type { Direction, MethodSpec } from './types.js';

export interface MethodContext {
  direction: Direction;
  maxTrials: number;
  /** The seeded random source (seededRandom): the same seed and history give the same suggestions. */
  random: Random;
  /** The device's incumbent, where a coordinate-wise search starts. */
  start?: Point;
}

export function makeMethod(spec: MethodSpec, space: Space, c: MethodContext): Method {
  const inner = ((): Method => {
    switch (spec.type) {
      case 'successive-halving': {
        const candidates = spec.candidates?.map((v) => pointOf(space, v)).filter((p): p is number[] => p !== undefined);
        return successiveHalving(space, {
          eta: spec.eta,
          budget: c.maxTrials,
          direction: c.direction,
          ...(candidates && candidates.length > 0 ? { candidates } : {}),
          ...(c.start ? { start: c.start } : {}),
        });
      }
      case 'thompson':
        return thompson(space, { direction: c.direction, minTrials: spec.min_trials, random: c.random });
      case 'gp-ei':
        return gpEi(space, { direction: c.direction, initial: spec.initial, random: c.random, budget: c.maxTrials });
    }
  })();
  return {
    suggest: (history) =>
      history.length >= c.maxTrials
        ? { kind: 'done', reason: `the budget of ${c.maxTrials} trials is spent` }
        : inner.suggest(history),
    best: (history) => inner.best(history),
  };
}
