// The clock port: wall time (records, signature validity), monotonic time (durations, deadlines,
// the bake), sleeping, and randomness (poll jitter). Read here only and passed down from the
// composition root (agent/daemon/main.ts), so tests can hand the daemon another.

import { setTimeout as wait } from 'node:timers/promises';

export interface Clock {
  /** Wall time: may jump (NTP arriving late, no RTC); never used to measure a duration. */
  now(): Date;
  /** Milliseconds on a clock that only moves forward at a steady rate. */
  monotonic(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonic: () => performance.now(),
  sleep: (ms) => wait(ms, undefined, { ref: true }),
  random: () => Math.random(),
};
