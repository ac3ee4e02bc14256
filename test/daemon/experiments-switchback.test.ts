// A switchback experiment on the device (agent/daemon/experiments.ts with the real daemon built in
// process, its clock the test's, ticked as the agent's ticker does): the device runs the arm of the current epoch-aligned block, so
// at a block boundary whose arm differs the reconciliation switches the experiment-owned lease; a
// lease of one arm never outlives it (it expires where the next switch begins); status and the
// exposure metric say the block and the washout after a switch, then measure.

import { beforeAll, describe, expect, it } from 'vitest';
import { getAt } from '../../agent/core/json/value.js';
import { blockOf, blockVariant, HOUR_MS } from '../../agent/core/experiments/switchback.js';
import type { SwitchbackSchedule } from '../../agent/core/experiments/switchback.js';
import { Experiments } from '../../agent/daemon/experiments.js';
import { AgentMetrics } from '../../agent/daemon/metrics.js';
import { Ticker } from '../../agent/daemon/ticker.js';
import type { Clock } from '../../agent/io/clock.js';
import { commandRepository, devDaemons, runnerOf, START, testSource } from '../helpers/in-process.js';

const DEVICE = 'dev-bench-01';
const MIN = 60_000;
const schedule = (seed: string): SwitchbackSchedule => ({
  device: DEVICE,
  seed,
  hash_version: 2,
  block_hours: 1,
  washout_minutes: 15,
  variants: [
    { name: 'control', weight: 0.5, set: {} },
    { name: 'low', weight: 0.5, set: { 'motion.sensitivity': 0.45 } },
  ],
});

/** A seed whose blocks k0, k0 + 1, k0 + 2 (k0 holds START) give the bench control, low, control (found, not assumed). */
function seedForSwitches(): string {
  const k0 = blockOf({ block_hours: 1 }, START);
  for (let i = 0; ; i++) {
    const s = schedule(`bench-switchback-${i}`);
    if ([0, 1, 2].map((j) => blockVariant(s, DEVICE, k0 + j)).join() === '0,1,0') return s.seed;
  }
}

const experiment = (seed: string): string =>
  [
    'version: 2',
    'description: bench switchback on motion sensitivity',
    'owner: video-team',
    'environments: [development]',
    'status: running',
    'start: 2030-06-01T00:00:00Z',
    'unit: device',
    `hash: { version: 2, seed: ${seed} }`,
    'coverage: 1',
    'variants:',
    '  - { name: control, weight: 0.5 }',
    '  - { name: low, weight: 0.5, set: { motion.sensitivity: 0.45 } }',
    'design: { type: switchback, block_hours: 1, washout_minutes: 15 }',
    'metrics:',
    "  primary: { name: cpu, query: 'avg_over_time(doorbell_pipeline_cpu_ratio[$window])', direction: lower }",
    'stop: { max_days: 28, min_devices_per_arm: 30, no_data: hold }',
    '',
  ].join('\n');

/** Wall time the test sets. */
function settableClock(at: number): Clock & { at: number } {
  const c = {
    at,
    now: () => new Date(c.at),
    monotonic: () => c.at - START,
    sleep: async (ms: number) => {
      c.at += ms;
      await new Promise((r) => setImmediate(r));
    },
    random: () => 0.5,
  };
  return c;
}

describe('a switchback experiment on the device', () => {
  const daemons = devDaemons();
  beforeAll(() => daemons.ready());

  it('switches the lease at the block boundary, labels the washout, and never lets a lease outlive its arm', async () => {
    const seed = seedForSwitches();
    const clock = settableClock(START + 20 * MIN); // block k0 (control), past any washout
    const d = daemons.build({ clock });
    const source = testSource();
    source.offer({ id: 'c1', files: commandRepository().set('experiments/bench-switchback.yaml', experiment(seed)) });
    const runner = runnerOf(d, source);
    await d.agent.recover(d.store);
    expect(await runner.trigger('api')).toMatchObject({ outcome: 'applied' });
    const x = new Experiments({ releases: d.releases, runtime: d.runtime, runner, clock, log: () => undefined });
    // the runtime layers' heartbeat as the agent runs it: expiry first, then the experiments
    const ticker = new Ticker({ runtime: d.runtime, runner, log: () => undefined, experiments: () => x.tick() });
    const metrics = new AgentMetrics(
      d,
      { environment: 'development', device: DEVICE },
      () => 0,
      () => null,
      () => x.view(),
    );
    const exposure = async (): Promise<string[]> =>
      (await metrics.text()).split('\n').filter((l) => l.startsWith('doorbell_experiment_exposure{'));
    const sensitivity = (): unknown => getAt(d.runtime.effective('c1'), ['motion', 'sensitivity']);
    const mine = () => x.view().find((e) => e.experiment === 'bench-switchback')!;
    const k0 = blockOf({ block_hours: 1 }, START);
    const iso = (ms: number): string => new Date(ms).toISOString();

    await ticker.tick();
    expect(mine()).toMatchObject({
      variant: 'control',
      set: {},
      state: 'applied',
      switchback: {
        block_hours: 1,
        washout_minutes: 15,
        block: k0,
        phase: 'measure',
        block_end: iso(START + HOUR_MS),
        next_switch: iso(START + HOUR_MS),
      },
    });
    expect(d.runtime.leases.filter((l) => l.owner === 'experiment')).toEqual([]);
    expect(sensitivity()).toBe(0.6);
    expect(await exposure()).toEqual([
      expect.stringMatching(
        /experiment="bench-switchback".*variant="control".*phase="measure"|phase="measure".*variant="control"/,
      ),
    ]);

    // one millisecond before the boundary: still control; at it: low, its lease set and capped at the next switch
    clock.at = START + HOUR_MS - 1;
    await ticker.tick();
    expect(mine().variant).toBe('control');
    clock.at = START + HOUR_MS;
    await ticker.tick();
    expect(mine()).toMatchObject({
      variant: 'low',
      set: { 'motion.sensitivity': 0.45 },
      state: 'applied',
      switchback: {
        block: k0 + 1,
        phase: 'washout',
        washout_end: iso(START + HOUR_MS + 15 * MIN),
        next_switch: iso(START + 2 * HOUR_MS),
      },
    });
    const lease = d.runtime.leases.find((l) => l.owner === 'experiment')!;
    expect(lease).toMatchObject({ path: 'motion.sensitivity', value: 0.45, actor: 'experiment:bench-switchback/low' });
    expect(Date.parse(lease.expires)).toBeLessThanOrEqual(START + 2 * HOUR_MS);
    expect(sensitivity()).toBe(0.45);
    const washout = await exposure();
    expect(washout).toHaveLength(1);
    expect(washout[0]).toMatch(/variant="low"/);
    expect(washout[0]).toMatch(/phase="washout"/);

    // the washout ends: the same arm, measured
    clock.at = START + HOUR_MS + 15 * MIN;
    await ticker.tick();
    expect(mine()).toMatchObject({ variant: 'low', switchback: { phase: 'measure' } });
    expect((await exposure())[0]).toMatch(/phase="measure"/);

    // ticks through the block keep the lease in force, never past the switch
    for (let t = START + HOUR_MS + 20 * MIN; t < START + 2 * HOUR_MS; t += 5 * MIN) {
      clock.at = t;
      await ticker.tick();
      expect(sensitivity(), iso(t)).toBe(0.45);
      for (const l of d.runtime.leases.filter((y) => y.owner === 'experiment'))
        expect(Date.parse(l.expires)).toBeLessThanOrEqual(START + 2 * HOUR_MS);
    }

    // the next block is control again: the low lease has ended there, the signed value is back, washout
    clock.at = START + 2 * HOUR_MS;
    await ticker.tick();
    expect(mine()).toMatchObject({ variant: 'control', switchback: { block: k0 + 2, phase: 'washout' } });
    expect(sensitivity()).toBe(0.6);
    expect(d.runtime.leases.filter((l) => l.owner === 'experiment' && Date.parse(l.expires) > clock.at)).toEqual([]);
  }, 60_000);
});
