// Waves of a staged rollout (DESIGN.md section 10, issue 15): which wave each device of an
// environment is in, and the ref each wave follows. Pure: the same answer in CI and on the device.
//
// The waves take consecutive ranges of the bucket (bucket.ts) in their order, each as wide as its
// share: wave i holds [S(i-1), S(i)) where S(i) is the sum of the shares up to i, over 100; the
// last wave takes the rest, up to 1. A wave's range starts where the shares before it end, so
// growing a wave moves no device of it or of an earlier wave (a device never moves to an earlier
// wave because a later one grew); devices of the later waves only move up, never to a later
// wave, whose ref is behind (test/core/rollout-properties.test.ts).
// A device's explicit cohort, when it names a wave, puts it there whatever its bucket.

import { bucketOf } from './bucket.js';

/** The name of the one wave of an environment without a rollout (it follows the environment's branch). */
export const IMPLICIT_WAVE = 'all';

export interface Wave {
  name: string;
  /** Percent of the devices without a cohort; for the last wave, the rest. */
  share: number;
  bakeSeconds: number;
}

export interface GateLimits {
  maxRolledBack: number;
  maxRefusing: number;
}

export interface Rollout {
  seed: string;
  waves: Wave[];
  /** The limits of each wave, by name (the environment's, or the wave's own). No data always holds. */
  gates: Record<string, GateLimits>;
}

export interface WaveRange {
  name: string;
  /** The bucket range [from, to) of the wave. */
  from: number;
  to: number;
}

export interface Assignment {
  wave: string;
  bucket: number;
  /** Whether the wave comes from the device's cohort or from its bucket. */
  by: 'cohort' | 'bucket';
}

/** The ref a wave follows: refs/heads/rollout/<env>/<wave>. */
export function waveRef(environment: string, wave: string): string {
  return `refs/heads/rollout/${environment}/${wave}`;
}

/** Consecutive ranges by cumulative share; the last wave ends at 1. */
export function waveRanges(waves: readonly Pick<Wave, 'name' | 'share'>[]): WaveRange[] {
  let sum = 0;
  return waves.map((w, i) => {
    const from = Math.min(1, sum / 100);
    sum += w.share;
    return { name: w.name, from, to: i === waves.length - 1 ? 1 : Math.min(1, sum / 100) };
  });
}

/** The wave of a bucket: the first whose range ends above it (the last when none does). */
export function waveOfBucket(ranges: readonly WaveRange[], bucket: number): string {
  return (ranges.find((r) => bucket < r.to) ?? ranges[ranges.length - 1]!).name;
}

/** The wave of one device: its cohort when that names a wave, else its bucket's. */
export function assignWave(
  rollout: Pick<Rollout, 'seed' | 'waves'>,
  device: { id: string; cohort?: string | undefined },
  ranges: readonly WaveRange[] = waveRanges(rollout.waves),
): Assignment {
  const bucket = bucketOf(rollout.seed, device.id);
  if (device.cohort !== undefined && rollout.waves.some((w) => w.name === device.cohort))
    return { wave: device.cohort, bucket, by: 'cohort' };
  return { wave: waveOfBucket(ranges, bucket), bucket, by: 'bucket' };
}

/** `gitops rollout plan`: the waves and each device's wave, bucket and ref. */
export interface RolloutPlan {
  environment: string;
  /** False for an environment without a rollout: one implicit wave, all, on the environment's branch. */
  declared: boolean;
  waves: Array<{ name: string; share: number; bake: number }>;
  devices: Array<{
    device: string;
    wave: string;
    bucket: number | null;
    ref: string | null;
    by: Assignment['by'] | null;
  }>;
}

export function planRollout(
  environment: string,
  rollout: Rollout | undefined,
  devices: ReadonlyArray<{ id: string; cohort?: string | undefined }>,
): RolloutPlan {
  if (!rollout)
    return {
      environment,
      declared: false,
      waves: [{ name: IMPLICIT_WAVE, share: 100, bake: 0 }],
      devices: devices.map((d) => ({ device: d.id, wave: IMPLICIT_WAVE, bucket: null, ref: null, by: null })),
    };
  const ranges = waveRanges(rollout.waves);
  return {
    environment,
    declared: true,
    waves: rollout.waves.map((w, i) => ({ name: w.name, share: shareOf(ranges[i]!), bake: w.bakeSeconds })),
    devices: devices.map((d) => {
      const a = assignWave(rollout, d, ranges);
      return { device: d.id, wave: a.wave, bucket: a.bucket, ref: waveRef(environment, a.wave), by: a.by };
    }),
  };
}

/** The share a range is wide, in percent (the last wave's is the rest). */
const shareOf = (r: WaveRange): number => Math.round((r.to - r.from) * 100 * 1e6) / 1e6;

/** Devices per wave, in wave order (waves without devices included). */
export function countByWave(plan: Pick<RolloutPlan, 'waves' | 'devices'>): Array<{ wave: string; devices: number }> {
  return plan.waves.map((w) => ({ wave: w.name, devices: plan.devices.filter((d) => d.wave === w.name).length }));
}
