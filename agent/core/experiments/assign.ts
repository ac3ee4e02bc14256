// Assignment of a device to an experiment's variant (issue 16): a pure function of the experiment
// and the device id. Three nested decisions, each with its own seed, so that one never skews the
// next (the Unleash bug: a 10 % rollout gate and the variant split on one hash):
//
//   1. namespace   GrowthBook's inNamespace: hash v1 of the id with seed `__<name>`, in [start, end)
//   2. coverage    hash v2 with seed `<seed>/coverage`, in [0, coverage)
//   3. split       hash v2 with seed `<seed>` (the printed bucket), in the variant's range
//
// The split's ranges are GrowthBook's getBucketRanges with fixed starts (variant i starts where
// the weights before it end), and coverage does not enter them: raising coverage only lets more
// devices through the gate, and a device that was in keeps its variant.
//
// Strata: with a per-device hash nothing depends on which other devices exist, so adding a
// device never moves one. That rules out blocked randomisation (which balances each stratum
// exactly by ranking its devices); "randomised within a stratum" here means each device of a
// stratum is split independently with the experiment's weights, and the analysis (and
// `gitops experiment assign`) counts and compares arms per stratum.

import { gbHash } from './hash.js';
import type { HashVersion } from './hash.js';

export type Range = readonly [number, number];

/** What assignment needs of an experiment. */
export interface AssignmentPlan {
  /** The variant-split seed; the coverage gate's is `<seed>/coverage`. */
  seed: string;
  hashVersion: HashVersion;
  /** Share in [0, 1] of the namespace-admitted devices that are in. */
  coverage: number;
  /** One weight per variant, in order, adding up to 1. */
  weights: readonly number[];
  namespace?: { name: string; range: Range };
  /** false: paused, nobody is in. */
  running: boolean;
}

export interface Assignment {
  /** The variant-split hash in [0, 1). */
  bucket: number;
  inExperiment: boolean;
  /** Index of the variant, or null when not in the experiment. */
  variant: number | null;
}

/** The coverage gate's seed: apart from the split's, so that gate and split are independent. */
export const coverageSeed = (seed: string): string => `${seed}/coverage`;

/** GrowthBook's getBucketRanges: fixed starts, each range `coverage * weight` long. */
export function bucketRanges(weights: readonly number[], coverage = 1): Range[] {
  let cumulative = 0;
  return weights.map((w) => {
    const start = cumulative;
    cumulative += w;
    return [start, start + coverage * w] as const;
  });
}

/** Whether n lies in [start, end). */
export const inRange = (n: number, range: Range): boolean => n >= range[0] && n < range[1];

/** GrowthBook's chooseVariation: the index of the range that holds n, or -1. */
export function chooseVariation(n: number, ranges: readonly Range[]): number {
  return ranges.findIndex((r) => inRange(n, r));
}

/** GrowthBook's inNamespace (hash v1 with seed `__<name>`). */
export const inNamespace = (id: string, namespace: { name: string; range: Range }): boolean =>
  inRange(gbHash(`__${namespace.name}`, id, 1), namespace.range);

/** Where one device falls. */
export function assignDevice(plan: AssignmentPlan, deviceId: string): Assignment {
  const bucket = gbHash(plan.seed, deviceId, plan.hashVersion);
  const admitted =
    plan.running &&
    (plan.namespace === undefined || inNamespace(deviceId, plan.namespace)) &&
    gbHash(coverageSeed(plan.seed), deviceId, plan.hashVersion) < plan.coverage;
  const index = admitted ? chooseVariation(bucket, bucketRanges(plan.weights)) : -1;
  return { bucket, inExperiment: index >= 0, variant: index >= 0 ? index : null };
}
