// The runtime heartbeat's two paces: every beat while something needs it, the quiet beat
// (15 s) when nothing does, and an event (poke) that brings a quiet beat forward at once.

import { describe, expect, it } from 'vitest';
import { QUIET_TICK_MS, Ticker } from '../../agent/daemon/ticker.js';
import { until } from '../helpers/fleet.js';

function ticker(quiet: () => boolean, during?: () => Promise<void>): { t: Ticker; ticks: () => number } {
  let n = 0;
  const t = new Ticker({
    runtime: { due: () => false, change: async () => [] },
    runner: { exclusive: (work) => work() },
    log: () => undefined,
    governor: async () => {
      n++;
      await during?.();
    },
    quiet,
  });
  return { t, ticks: () => n };
}

describe('Ticker', () => {
  it('beats at its period while something needs it', async () => {
    const { t, ticks } = ticker(() => false);
    t.start(10);
    await until('five beats', ticks, (n) => n >= 5, 20_000);
    t.stop();
  });

  it('when quiet, a poke brings the next beat forward (well before the quiet period)', async () => {
    const { t, ticks } = ticker(() => true);
    t.start(10);
    await until('the first beat', ticks, (n) => n >= 1, 20_000);
    t.poke();
    // the quiet beat would come after 15 s: this one comes at the 10 ms period
    await until('the poked beat', ticks, (n) => n >= 2, QUIET_TICK_MS - 1000);
    // stopped, a poke schedules nothing
    t.stop();
    t.poke();
    expect(ticks()).toBe(2);
  });

  it('an event during a tick is not lost: the next beat is the fast one', async () => {
    let release: (() => void) | undefined;
    const { t, ticks } = ticker(
      () => true,
      () => new Promise<void>((r) => (release = r)),
    );
    t.start(10);
    await until(
      'a tick in progress',
      () => release,
      (r) => r !== undefined,
      20_000,
    );
    t.poke();
    const first = release!;
    release = undefined;
    first();
    await until('the beat after it', ticks, (n) => n >= 2, QUIET_TICK_MS - 1000);
    (release as (() => void) | undefined)?.();
    t.stop();
  });
});
