// The experiments of one device in one commit: for each experiment that runs in the device's
// environment, whether the device is in it, its variant and the tunable values that variant sets.
// A pure function of the commit's files and the device id, computed when a release is prepared
// and kept with it (runtime.json), so that what a device runs in an experiment is reproducible
// from `git log` and never depends on the device's own memory. A switchback experiment carries
// its schedule (switchback.ts): core has no clock, so the daemon takes the arm of the block it is
// in (armAt) at each tick.

import type { Repository } from '../repo/repository.js';
import type { TunableValue } from '../tunables/annotation.js';
import { assignDevice } from './assign.js';
import { planOf, readExperiments } from './read.js';
import type { Experiment } from './read.js';
import { switchbackArm } from './switchback.js';
import type { SwitchbackArm, SwitchbackSchedule } from './switchback.js';

export interface DeviceExperiment {
  experiment: string;
  /** The variant-split hash in [0, 1). */
  bucket: number;
  /**
   * The variant's name, or null when the device is not in the experiment. For a switchback
   * experiment, the between split's variant: what runs is the arm of the current block (armAt).
   */
  variant: string | null;
  /** What the variant sets, by dotted tunable path (empty for a control arm and when not in). */
  set: Record<string, TunableValue>;
  /** A switchback experiment the device is in: its schedule (absent for the between design and when not in). */
  switchback?: SwitchbackSchedule;
}

/** The schedule of a switchback experiment for `device`. */
export function switchbackSchedule(e: Experiment, device: string): SwitchbackSchedule | undefined {
  if (e.design.type !== 'switchback') return undefined;
  return {
    device,
    seed: e.hash.seed,
    hash_version: e.hash.version,
    block_hours: e.design.block_hours,
    washout_minutes: e.design.washout_minutes,
    variants: e.variants.map((v) => ({ name: v.name, weight: v.weight, set: { ...v.set } })),
  };
}

/** The experiments of `environment` as they apply to `device`, by experiment name. */
export function deviceExperiments(repo: Repository, environment: string, device: string): DeviceExperiment[] {
  return readExperiments(repo)
    .filter((e) => e.environments.includes(environment))
    .map((e) => {
      const a = assignDevice(planOf(e), device);
      const variant = a.variant === null ? undefined : e.variants[a.variant];
      const schedule = variant ? switchbackSchedule(e, device) : undefined;
      return {
        experiment: e.name,
        bucket: a.bucket,
        variant: variant?.name ?? null,
        set: { ...(variant?.set ?? {}) },
        ...(schedule ? { switchback: schedule } : {}),
      };
    })
    .sort((a, b) => (a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : 0));
}

/** The actor of an experiment's leases: `experiment:<name>/<variant>`. */
export const experimentActor = (e: Pick<DeviceExperiment, 'experiment' | 'variant'>): string =>
  `experiment:${e.experiment}/${e.variant ?? '-'}`;

/** What a device runs of an experiment at one time: the variant and its values, and for a switchback its block. */
export interface ArmAt {
  variant: string | null;
  set: Record<string, TunableValue>;
  switchback?: SwitchbackArm;
}

/** The arm of `e` at `atMs`: the assigned variant (between), or the current block's (switchback; see switchbackArm). */
export function armAt(e: DeviceExperiment, atMs: number, horizonMs?: number): ArmAt {
  if (!e.switchback) return { variant: e.variant, set: e.set };
  const arm = switchbackArm(e.switchback, atMs, horizonMs);
  const v = e.switchback.variants[arm.variant]!;
  return { variant: v.name, set: v.set, switchback: arm };
}
