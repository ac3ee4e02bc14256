// The tuner on the device (issue 16, item 5): the heap a 20-trial gp-ei run holds (the method and
// its history) after each suggestion and once finished, and the time of one suggestion at 20 trials.

import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { makeMethod } from '../agent/core/tuning/method.js';
import { normalDraw, seededRandom } from '../agent/core/tuning/random.js';
import type { Observation, Space } from '../agent/core/tuning/space.js';
import { median } from './measure.js';
import type { Row } from './measure.js';

const space: Space = {
  dims: [
    { path: 'detectors.person.input_size', values: [160, 192, 224, 256, 288, 320] },
    { path: 'motion.sensitivity', values: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] },
  ],
};

export function benchTuning(): Row[] {
  const group = 'tuning';
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const noise = seededRandom('bench-noise');
  const f = (p: readonly number[]): number => 0.3 + 0.02 * ((p[0]! - 2.4) ** 2 + (p[1]! - 3.1) ** 2);
  // `live`: called after each suggestion (the device makes one per trial, minutes apart)
  const run = (seed: number, live = (): void => undefined) => {
    const method = makeMethod({ type: 'gp-ei', initial: 6 }, space, {
      direction: 'minimize',
      maxTrials: 20,
      random: seededRandom(seed),
    });
    const history: Observation[] = [];
    const ms: number[] = [];
    for (;;) {
      const t0 = performance.now();
      const s = method.suggest(history);
      ms.push(performance.now() - t0);
      live();
      if (s.kind === 'done') break;
      history.push({ point: s.point, value: f(s.point) + 0.05 * normalDraw(noise) });
    }
    return { method, history, ms };
  };
  run(0); // warm up the JIT
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = 0;
  const kept = [];
  // the live heap of one run after each of its suggestions (garbage collected), the largest over 5 runs:
  // what the tuner holds between trials; a suggestion's own temporaries (some MB of small matrices,
  // collected by the next scavenge) are the young generation's, not held
  for (let i = 1; i <= 5; i++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    const r = run(i, () => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    });
    kept.push(r);
  }
  gc();
  const retained = (process.memoryUsage().heapUsed - heap0) / kept.length / 2 ** 20;
  const last = median(kept.map((k) => k.ms.at(-2) ?? 0));
  return [
    {
      group,
      name: 'live heap of a 20-trial gp-ei run after each suggestion (largest of 5)',
      value: peak / 2 ** 20,
      unit: 'MB',
      target: '< 5 MB',
      pass: peak / 2 ** 20 < 5,
    },
    {
      group,
      name: 'heap a finished 20-trial gp-ei run retains',
      value: retained,
      unit: 'MB',
      target: '< 5 MB',
      pass: retained < 5,
    },
    { group, name: 'gp-ei suggestion at 19 trials (36 candidates, median of 5)', value: last, unit: 'ms' },
  ];
}
