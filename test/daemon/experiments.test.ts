// The device's experiment reconciliation (agent/daemon/experiments.ts) against a recording
// runtime: a variant's values become experiment-owned lease sets, a lease no experiment of the
// release holds is cleared, a lease is renewed only past half its time to live, and a variant the
// runtime refuses (a veto, a rollback) is not tried again for that release but is for the next.

import { describe, expect, it } from 'vitest';
import { GitopsError } from '../../agent/core/errors.js';
import type { DeviceExperiment } from '../../agent/core/experiments/device.js';
import type { Lease } from '../../agent/core/tunables/lease.js';
import { Experiments } from '../../agent/daemon/experiments.js';
import type { ExperimentDeps } from '../../agent/daemon/experiments.js';
import type { LeaseRequest } from '../../agent/daemon/leases.js';
import { applyRequests } from '../helpers/leases.js';

const SPEC = { path: 'motion.sensitivity', max_ttl_seconds: 3600 };

function fixture(experiments: DeviceExperiment[], fail?: GitopsError) {
  let now = Date.parse('2026-12-01T00:00:00Z');
  let release = 'c1';
  const leases: Lease[] = [];
  const calls: LeaseRequest[][] = [];
  const runtime: ExperimentDeps['runtime'] = {
    get leases() {
      return leases;
    },
    runtime: () =>
      ({ runtime: { context: { specs: [SPEC], experiments }, schemas: {} }, schemas: () => undefined }) as never,
    change: async (requests) => {
      calls.push([...(requests as LeaseRequest[])]);
      if (fail) throw fail;
      applyRequests(leases, requests as LeaseRequest[], now, release);
      return [];
    },
  };
  const logged: string[] = [];
  const x = new Experiments({
    releases: { current: () => release },
    runtime,
    runner: { exclusive: (work) => work() },
    clock: { now: () => new Date(now) },
    log: (l) => logged.push(l),
  });
  return {
    x,
    calls,
    leases,
    logged,
    advance: (ms: number) => (now += ms),
    release: (id: string) => (release = id),
  };
}

const low: DeviceExperiment = { experiment: 'e', bucket: 0.7, variant: 'low', set: { 'motion.sensitivity': 0.45 } };

describe('experiment leases on the device', () => {
  it('sets the variant once, renews it past half its time to live, and clears it when the experiment is gone', async () => {
    const experiments = [low];
    const f = fixture(experiments);
    await f.x.tick();
    expect(f.calls).toEqual([
      [
        {
          kind: 'set',
          path: 'motion.sensitivity',
          value: 0.45,
          owner: 'experiment',
          actor: 'experiment:e/low',
          reason: 'experiment e, variant low',
          ttlSeconds: 3600,
        },
      ],
    ]);
    expect(f.x.view()).toEqual([{ ...low, state: 'applied' }]);
    await f.x.tick();
    f.advance(1000 * 1700);
    await f.x.tick();
    expect(f.calls).toHaveLength(1); // fresh: nothing to do
    f.advance(1000 * 200); // past half of 3600 s
    await f.x.tick();
    expect(f.calls).toHaveLength(2);
    experiments.splice(0, 1); // the next release has no experiment
    await f.x.tick();
    expect(f.calls.at(-1)).toEqual([
      { kind: 'clear', path: 'motion.sensitivity', owner: 'experiment', actor: 'experiment:e/low' },
    ]);
    expect(f.leases).toEqual([]);
  });

  it('a variant the runtime refuses is not retried for that release, and is for the next', async () => {
    const f = fixture([low], new GitopsError('lease-rolled-back', 'the detector turned unhealthy', 'see the journal'));
    await f.x.tick();
    await f.x.tick();
    expect(f.calls).toHaveLength(1);
    expect(f.x.view()).toEqual([
      { ...low, state: 'refused', code: 'lease-rolled-back', reason: 'the detector turned unhealthy' },
    ]);
    expect(f.logged.join('\n')).toMatch(/experiment e\/low: lease-rolled-back/);
    f.release('c2');
    await f.x.tick();
    expect(f.calls).toHaveLength(2);
  });

  it('a device outside the experiment holds no lease and says so', async () => {
    const out: DeviceExperiment = { experiment: 'e', bucket: 0.2, variant: null, set: {} };
    const f = fixture([out]);
    await f.x.tick();
    expect(f.calls).toEqual([]);
    expect(f.x.view()).toEqual([{ ...out, state: 'not-in' }]);
  });
});
