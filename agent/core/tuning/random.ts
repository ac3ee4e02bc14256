// Randomness for the tuner, as a value: a seeded generator (mulberry32, seeded through the
// rollout's FNV-1a + fmix32) that the caller creates and hands in, so that a search is
// reproducible from its seed in CI, in tests and on the device. Core never draws on its own.

import { fmix32, fnv1a32 } from '../rollout/bucket.js';

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32 seeded by `seed` (a string is hashed): the same seed gives the same sequence. */
export function seededRandom(seed: string | number): Random {
  let a = typeof seed === 'number' ? fmix32(seed >>> 0) : fmix32(fnv1a32(seed));
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A standard normal draw (Box-Muller) from `random`. */
export function normalDraw(random: Random): number {
  const u = 1 - random(); // (0, 1]
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
