// The tuner's trial loop with a recording runtime layer (its leases kept as RuntimeLayers keeps
// them) and a governor view the test moves: a trial starts only when the conditions hold, runs as
// tuner-owned leases, is aborted (its leases cleared) in the very tick the governor acts, never
// sets a value outside the resolved space, and a whole run ends at its budget with its best and
// its telemetry series.

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { GovernorView } from '../../agent/core/contracts/api.js';
import type { Lease } from '../../agent/core/tunables/lease.js';
import { makeMethod } from '../../agent/core/tuning/method.js';
import { seededRandom } from '../../agent/core/tuning/random.js';
import type { Space } from '../../agent/core/tuning/space.js';
import type { Tuning } from '../../agent/core/tuning/types.js';
import { applyRequests } from '../helpers/leases.js';
import type { LeaseRequest } from '../../agent/daemon/leases.js';
import { registerTunerMetrics, Tuner } from '../../agent/daemon/tuner.js';

const space: Space = {
  dims: [
    { path: 'detectors.person.input_size', values: [256, 300, 320, 416] },
    { path: 'detectors.person.frame_interval', values: [1, 2, 3, 4] },
  ],
};

const tuning: Tuning = {
  name: 'person-detector',
  file: 'tuning/person-detector.yaml',
  description: '',
  owner: 'test',
  hardware_models: ['edge-p4-c920'],
  status: 'running',
  space: space.dims.map((d) => ({ path: d.path, values: d.values })),
  reference: {},
  objective: {
    metric: 'detector.cpu_ratio',
    direction: 'minimize',
    constraints: [{ metric: 'detector.inference_latency_ms', stat: 'p95', max: 100 }],
  },
  conditions: { governor_at_rest: true, healthy: true, below: { soc_temp_c: 70 } },
  trial: { settle_seconds: 5, duration_seconds: 20, min_samples: 5 },
  budget: { max_trials: 12 },
  method: { type: 'gp-ei', initial: 4 },
};

function rig(overrides: Partial<Tuning> = {}) {
  const t = { ...tuning, ...overrides };
  let ms = 0;
  const calls: Array<{ trigger: string; requests: LeaseRequest[] }> = [];
  let leases: Lease[] = [];
  const view: GovernorView = {
    enabled: true,
    step: 0,
    steps: [],
    signals: [{ name: 'soc_temp', value: 50, state: 'normal', since: null, enter_above: 78, exit_below: 70 }],
    last_transition: null,
    transitions_last_hour: 0,
    max_transitions_per_hour: 10,
  };
  const state = { temp: 50, healthy: true, latency: 40 };
  const runtime = {
    get leases(): readonly Lease[] {
      return leases;
    },
    async change(requests: readonly LeaseRequest[], trigger: string) {
      calls.push({ trigger, requests: [...requests] });
      for (const r of requests) {
        if (r.kind === 'set') expect(space.dims.find((d) => d.path === r.path)!.values).toContain(r.value);
      }
      applyRequests(leases, requests, ms, 'a'.repeat(40));
      return [];
    },
  };
  /** CPU of the candidate in force: lowest at input 300, interval 3. */
  const cpu = (): number => {
    const size = Number(leases.find((l) => l.path === 'detectors.person.input_size')?.value ?? 320);
    const every = Number(leases.find((l) => l.path === 'detectors.person.frame_interval')?.value ?? 1);
    return 0.2 + ((size - 300) / 100) ** 2 + 0.05 * (every - 3) ** 2;
  };
  const tuner = new Tuner({
    tuning: t,
    space,
    method: makeMethod(t.method, space, {
      direction: 'minimize',
      maxTrials: t.budget.max_trials,
      random: seededRandom('dev/person'),
    }),
    model: 'edge-p4-c920',
    sample: async () => ({
      soc_temp_c: state.temp,
      'detector.cpu_ratio': cpu(),
      'detector.inference_latency_ms': state.latency,
    }),
    governor: () => view,
    healthy: () => state.healthy,
    runtime,
    clock: { now: () => new Date(Date.parse('2030-06-01T03:00:00Z') + ms), monotonic: () => ms },
    log: () => undefined,
  });
  const second = async (n = 1): Promise<void> => {
    for (let i = 0; i < n; i++) {
      ms += 1000;
      await tuner.tick();
    }
  };
  const tunerLeases = () => leases.filter((l) => l.owner === 'tuner');
  return { tuner, calls, view, state, second, tunerLeases, setLeases: (l: Lease[]) => (leases = l) };
}

describe('the tuner trial loop', () => {
  it('starts a trial only when the governor rests, the components are healthy and the machine is cool', async () => {
    const { tuner, calls, view, state, second, tunerLeases } = rig();
    state.temp = 75;
    await second(3);
    expect(calls).toEqual([]);
    expect(tuner.waiting).toMatch(/soc_temp_c is 75/);
    state.temp = 50;
    view.signals[0]!.state = 'entering';
    await second();
    expect(tuner.waiting).toMatch(/governor is not at rest/);
    view.signals[0]!.state = 'normal';
    state.healthy = false;
    await second();
    expect(tuner.waiting).toMatch(/unhealthy/);
    state.healthy = true;
    await second();
    expect(tunerLeases().map((l) => [l.path, l.owner, l.actor])).toEqual([
      ['detectors.person.input_size', 'tuner', 'tuner:person-detector'],
      ['detectors.person.frame_interval', 'tuner', 'tuner:person-detector'],
    ]);
    expect(calls[0]!.trigger).toBe('tuner');
  });

  it('aborts the trial and clears its leases within the tick in which the governor acts', async () => {
    const { tuner, calls, view, second, tunerLeases } = rig();
    await second();
    expect(tunerLeases()).toHaveLength(2);
    await second(8);
    view.step = 1;
    await second();
    expect(tunerLeases()).toEqual([]);
    expect(calls.at(-1)!.requests.every((r) => r.kind === 'clear' && r.owner === 'tuner')).toBe(true);
    expect(tuner.trials).toHaveLength(1);
    expect(tuner.trials[0]).toMatchObject({ outcome: 'aborted', reason: 'the load governor acted' });
    // no new trial while the governor holds its step
    await second(30);
    expect(tunerLeases()).toEqual([]);
  });

  it('aborts when a component turns unhealthy or an experiment takes a field, and does not start while it holds one', async () => {
    const { tuner, state, second, tunerLeases, setLeases } = rig();
    await second(7);
    state.healthy = false;
    await second();
    expect(tuner.trials.at(-1)).toMatchObject({ outcome: 'aborted', reason: 'a component turned unhealthy' });
    expect(tunerLeases()).toEqual([]);
    state.healthy = true;
    const experiment: Lease = {
      path: 'detectors.person.input_size',
      owner: 'experiment',
      actor: 'experiment:x/low',
      reason: '',
      value: 256,
      start: '2030-06-01T00:00:00.000Z',
      expires: '2030-06-02T00:00:00.000Z',
      commit: 'a'.repeat(40),
    };
    setLeases([experiment]);
    await second(5);
    expect(tuner.waiting).toMatch(/an experiment holds detectors.person.input_size/);
    expect(tunerLeases()).toEqual([]);
  });

  it('runs its budget of trials, each measured after it settles, and ends with the best candidate and its telemetry', async () => {
    const { tuner, second, tunerLeases } = rig();
    for (let i = 0; i < 2000 && !tuner.done; i++) await second();
    expect(tuner.done).toMatch(/budget of 12/);
    expect(tunerLeases()).toEqual([]);
    expect(tuner.trials).toHaveLength(12);
    for (const t of tuner.trials) {
      expect(t.outcome).toBe('feasible');
      // 20 s measured, one sample a tick
      expect(t.samples).toBeGreaterThanOrEqual(19);
      expect(t.samples).toBeLessThanOrEqual(21);
    }
    const best = tuner.best()!;
    expect(space.dims[0]!.values[best.point[0]!]).toBe(300);
    const registry = new Registry();
    registerTunerMetrics(registry, () => [tuner]);
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(
        'doorbell_tuning_trial\\{tuning="person-detector",model="edge-p4-c920",' +
          'candidate="detectors.person.input_size=\\d+,detectors.person.frame_interval=\\d"\\} [\\d.]+',
      ),
    );
    expect(text).toContain('outcome="feasible"');
  });

  it('counts a trial whose constraint fails as infeasible', async () => {
    const { tuner, state, second } = rig();
    state.latency = 150;
    for (let i = 0; i < 40 && tuner.trials.length === 0; i++) await second();
    expect(tuner.trials[0]).toMatchObject({
      outcome: 'infeasible',
      constraints: { 'detector.inference_latency_ms': 150 },
    });
  });
});
