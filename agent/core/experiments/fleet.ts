// An experiment's assignment over the devices of a repository: every device of the selected
// environments with its bucket, whether it is in, its variant, and its strata; and the counts per
// arm (and per stratum) that a reviewer reads before merging.

import { isObject } from '../json/value.js';
import { deviceFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { assignDevice } from './assign.js';
import { switchbackSchedule } from './device.js';
import { planOf, readExperiments } from './read.js';
import { blockMs, blockOf, blockVariant, switchedAt } from './switchback.js';
import type { Experiment } from './read.js';

export interface DeviceAssignment {
  environment: string;
  device: string;
  /** The variant-split hash in [0, 1). */
  bucket: number;
  in_experiment: boolean;
  variant: string | null;
  /**
   * A switchback experiment (with a time to start from): the device's arm in each of the next
   * blocks, and whether the block starts with a washout (its arm is not the block before's).
   */
  blocks?: Array<{ block: number; start: string; variant: string; washout: boolean }>;
}

export interface FleetAssignment {
  experiment: string;
  seed: string;
  devices: DeviceAssignment[];
}

/** A device's value of a strata attribute (`hardware_model`, `cohort`, `label.<name>`), or `(none)`. */
export function stratumValue(repo: Repository, env: string, device: string, attribute: string): string {
  const doc = repo.document(deviceFile(env, device))?.value;
  const meta = doc && isObject(doc.device) ? doc.device : {};
  const labels = isObject(meta.labels) ? meta.labels : {};
  const raw =
    attribute === 'hardware_model'
      ? meta.model
      : attribute === 'cohort'
        ? meta.cohort
        : attribute.startsWith('label.')
          ? labels[attribute.slice('label.'.length)]
          : undefined;
  return typeof raw === 'string' ? raw : '(none)';
}

/**
 * The assignment of every device of `environments` (default: the experiment's), or of `devices`
 * among them. A device of an environment the experiment does not run in is listed as not in.
 */
export function assignFleet(
  repo: Repository,
  e: Experiment,
  select: {
    environments?: readonly string[];
    devices?: readonly string[];
    /** For a switchback experiment: list each device's arm in `count` blocks from the one holding `atMs`. */
    blocks?: { atMs: number; count: number };
  } = {},
): FleetAssignment {
  const plan = planOf(e);
  const envs = select.environments?.length ? select.environments : e.environments;
  const devices: DeviceAssignment[] = [];
  for (const environment of envs)
    for (const device of repo.devices(environment)) {
      if (select.devices?.length && !select.devices.includes(device)) continue;
      const a = assignDevice(e.environments.includes(environment) ? plan : { ...plan, running: false }, device);
      devices.push({
        environment,
        device,
        bucket: a.bucket,
        in_experiment: a.inExperiment,
        variant: a.variant === null ? null : e.variants[a.variant]!.name,
        ...(a.inExperiment && select.blocks ? blocksOf(e, device, select.blocks) : {}),
      });
    }
  return { experiment: e.name, seed: e.hash.seed, devices };
}

/** A switchback device's arm in `count` blocks from the one holding `atMs` (nothing for the between design). */
function blocksOf(e: Experiment, device: string, o: { atMs: number; count: number }): Pick<DeviceAssignment, 'blocks'> {
  const schedule = switchbackSchedule(e, device);
  if (!schedule) return {};
  const first = blockOf(schedule, o.atMs);
  return {
    blocks: Array.from({ length: o.count }, (_, i) => {
      const block = first + i;
      return {
        block,
        start: new Date(block * blockMs(schedule)).toISOString(),
        variant: schedule.variants[blockVariant(schedule, device, block)]!.name,
        washout: switchedAt(schedule, device, block),
      };
    }),
  };
}

/** Devices per arm (every variant, in order, then `not in`), overall or per stratum. */
export interface ArmCounts {
  /** The stratum (`attribute=value`, joined by `, `), or undefined for the whole selection. */
  stratum?: string;
  arms: Array<{ variant: string; devices: number }>;
  notIn: number;
}

export function armCounts(
  repo: Repository,
  e: Experiment,
  fleet: FleetAssignment,
): { overall: ArmCounts; strata: ArmCounts[] } {
  const count = (list: readonly DeviceAssignment[], stratum?: string): ArmCounts => ({
    ...(stratum !== undefined ? { stratum } : {}),
    arms: e.variants.map((v) => ({ variant: v.name, devices: list.filter((d) => d.variant === v.name).length })),
    notIn: list.filter((d) => !d.in_experiment).length,
  });
  const groups = new Map<string, DeviceAssignment[]>();
  if (e.strata.length > 0)
    for (const d of fleet.devices) {
      const key = e.strata.map((s) => `${s}=${stratumValue(repo, d.environment, d.device, s)}`).join(', ');
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
  return {
    overall: count(fleet.devices),
    strata: [...groups.keys()].sort().map((k) => count(groups.get(k)!, k)),
  };
}

/** `control 12, low 11, not in 3`. */
export const describeCounts = (c: ArmCounts): string =>
  [...c.arms.map((a) => `${a.variant} ${a.devices}`), `not in ${c.notIn}`].join(', ');

/** For `gitops validate --summary`: the experiments, and per one running in `envs` its devices per arm. */
export function experimentSummaryLines(repo: Repository, envs: readonly string[]): string[] {
  const all = readExperiments(repo);
  if (all.length === 0) return [];
  const lines = [`${all.length} experiment${all.length === 1 ? '' : 's'}:`];
  for (const e of all) {
    const here = e.environments.filter((env) => envs.includes(env));
    if (here.length === 0) continue;
    const counts = armCounts(repo, e, assignFleet(repo, e, { environments: here })).overall;
    lines.push(`  ${e.name} (${e.status} in ${here.join(', ')}): ${describeCounts(counts)} (devices per arm)`);
  }
  return lines;
}
