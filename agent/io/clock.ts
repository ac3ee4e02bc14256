// The clock port: wall time (records, signature validity), and randomness (poll jitter). Read
// here only and passed down from the composition root, so tests can hand the daemon another.

export interface Clock {
  now(): Date;
  random(): number;
}

export const systemClock: Clock = { now: () => new Date(), random: () => Math.random() };
