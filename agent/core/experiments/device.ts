// The experiments of one device in one commit: for each experiment that runs in the device's
// environment, whether the device is in it, its variant and the tunable values that variant sets.
// A pure function of the commit's files and the device id, computed when a release is prepared
// and kept with it (runtime.json), so that what a device runs in an experiment is reproducible
// from `git log` and never depends on the device's own memory.

import type { Repository } from '../repo/repository.js';
import type { TunableValue } from '../tunables/annotation.js';
import { assignDevice } from './assign.js';
import { planOf, readExperiments } from './read.js';

export interface DeviceExperiment {
  experiment: string;
  /** The variant-split hash in [0, 1). */
  bucket: number;
  /** The variant's name, or null when the device is not in the experiment. */
  variant: string | null;
  /** What the variant sets, by dotted tunable path (empty for a control arm and when not in). */
  set: Record<string, TunableValue>;
}

/** The experiments of `environment` as they apply to `device`, by experiment name. */
export function deviceExperiments(repo: Repository, environment: string, device: string): DeviceExperiment[] {
  return readExperiments(repo)
    .filter((e) => e.environments.includes(environment))
    .map((e) => {
      const a = assignDevice(planOf(e), device);
      const variant = a.variant === null ? undefined : e.variants[a.variant];
      return { experiment: e.name, bucket: a.bucket, variant: variant?.name ?? null, set: { ...(variant?.set ?? {}) } };
    })
    .sort((a, b) => (a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : 0));
}

/** The actor of an experiment's leases: `experiment:<name>/<variant>`. */
export const experimentActor = (e: Pick<DeviceExperiment, 'experiment' | 'variant'>): string =>
  `experiment:${e.experiment}/${e.variant ?? '-'}`;
