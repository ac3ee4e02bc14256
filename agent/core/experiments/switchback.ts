// The switchback design (issue 16, `design: { type: switchback, block_hours, washout_minutes }`):
// each device of the experiment alternates between the arms in time blocks, so that each device is
// its own control (../shared/docs/dynamic-configuration.md 1.3: DoorDash's switchbacks; carry-over
// such as thermal or tracker state needs a washout).
//
// Blocks are aligned to the Unix epoch: block k of a device is [k B, (k + 1) B) with B =
// block_hours hours, so the device, the report and a reviewer all know from git and a time alone
// which arm a device runs when. Who is in is decided as for the between design (namespace and
// coverage gate, assign.ts); the arm of block k is then drawn by the variant weights from its own
// hash, GrowthBook v2 of the device id with seed `<seed>/block/<k>`, over the same fixed ranges as
// the between split. Each (device, block) is an independent draw, as DoorDash randomises each
// time unit: nothing depends on other blocks, other devices or when the experiment started, and
// over many blocks each arm's share converges to its weight. A balanced order (each pair of
// blocks holding both arms) would fix the shares within a device but tie each block to its
// neighbour and allow only equal weights; the independent draw keeps any weights and keeps the
// schedule a pure function of (seed, device, k). A block whose arm is the previous block's has no
// switch and so no washout, which lengthens the measured time for free.
//
// The first washout_minutes of a block whose arm differs from the previous block's are washout:
// the device runs the new arm (its leases switch at the block's start) but labels its exposure
// `phase="washout"`, and the analysis leaves that time out.

import { bucketRanges, chooseVariation } from './assign.js';
import { gbHash } from './hash.js';
import type { HashVersion } from './hash.js';
import type { TunableValue } from '../tunables/annotation.js';

export const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** What a device needs to run a switchback experiment it is in (kept in the release's runtime.json). */
export interface SwitchbackSchedule {
  /** The device id the block hashes are of. */
  device: string;
  /** The experiment's variant-split seed; block k's is `<seed>/block/<k>`. */
  seed: string;
  hash_version: HashVersion;
  block_hours: number;
  washout_minutes: number;
  /** Every variant, in the file's order, with what it sets. */
  variants: Array<{ name: string; weight: number; set: Record<string, TunableValue> }>;
}

/** Where a device stands in its schedule at one time. */
export interface SwitchbackArm {
  /** The block number: floor(unix ms / block length). */
  block: number;
  /** Index of the block's variant. */
  variant: number;
  blockStartMs: number;
  blockEndMs: number;
  /** Whether `at` lies in the washout (the arm switched at the block's start and washout_minutes have not passed). */
  washout: boolean;
  /** When the washout ends (the block's start when it has none). */
  washoutEndMs: number;
  /** Start of the next block whose arm differs (this arm's leases end there), or null when none within the horizon. */
  nextSwitchMs: number | null;
  /** When the (variant, phase) next changes: the washout's end, else the next switch. */
  nextChangeMs: number | null;
}

/** The block length in ms. */
export const blockMs = (s: Pick<SwitchbackSchedule, 'block_hours'>): number => s.block_hours * HOUR_MS;

/** The block that holds `atMs`. */
export const blockOf = (s: Pick<SwitchbackSchedule, 'block_hours'>, atMs: number): number =>
  Math.floor(atMs / blockMs(s));

/** The seed of block k's draw. */
export const blockSeed = (seed: string, block: number): string => `${seed}/block/${block}`;

/**
 * The variant index of `device` in block k: the block's hash in the weights' fixed ranges. A hash
 * past the last range (weights adding up to a hair under 1) falls in the last variant.
 */
export function blockVariant(
  s: Pick<SwitchbackSchedule, 'seed' | 'hash_version' | 'variants'>,
  device: string,
  block: number,
): number {
  const i = chooseVariation(
    gbHash(blockSeed(s.seed, block), device, s.hash_version),
    bucketRanges(s.variants.map((v) => v.weight)),
  );
  return i >= 0 ? i : s.variants.length - 1;
}

/** Whether block k switched arm (its arm is not block k - 1's), so that it starts with a washout. */
export const switchedAt = (s: SwitchbackSchedule, device: string, block: number): boolean =>
  blockVariant(s, device, block) !== blockVariant(s, device, block - 1);

/** The default look-ahead for the next switch: one week. */
export const DEFAULT_HORIZON_MS = 7 * 24 * HOUR_MS;

/**
 * Where the schedule's device stands at `atMs`: its block, the block's arm, whether it is in the
 * washout, and when the arm next switches (looked for up to `horizonMs` ahead; null beyond).
 */
export function switchbackArm(s: SwitchbackSchedule, atMs: number, horizonMs = DEFAULT_HORIZON_MS): SwitchbackArm {
  const length = blockMs(s);
  const block = blockOf(s, atMs);
  const variant = blockVariant(s, s.device, block);
  const blockStartMs = block * length;
  const washoutEndMs =
    blockVariant(s, s.device, block - 1) !== variant ? blockStartMs + s.washout_minutes * MINUTE_MS : blockStartMs;
  let nextSwitchMs: number | null = null;
  for (let k = block + 1; k * length <= atMs + horizonMs; k++)
    if (blockVariant(s, s.device, k) !== variant) {
      nextSwitchMs = k * length;
      break;
    }
  const washout = atMs < washoutEndMs;
  return {
    block,
    variant,
    blockStartMs,
    blockEndMs: blockStartMs + length,
    washout,
    washoutEndMs,
    nextSwitchMs,
    nextChangeMs: washout ? washoutEndMs : nextSwitchMs,
  };
}

/**
 * The part of each block the analysis measures: from washout_minutes after the block's start to
 * its end, in every block alike (switched or not), so that each block counts for the same length
 * of time and a metric that grows with its window (a maximum, a count) compares like with like
 * between arms whose blocks switch more or less often (unequal weights).
 */
export const measuredMs = (s: Pick<SwitchbackSchedule, 'block_hours' | 'washout_minutes'>): number =>
  blockMs(s) - s.washout_minutes * MINUTE_MS;

/** The blocks whose measured part lies within [startMs, atMs]: first..last (last < first when none). */
export function measuredBlocks(
  s: Pick<SwitchbackSchedule, 'block_hours' | 'washout_minutes'>,
  startMs: number,
  atMs: number,
): { first: number; last: number } {
  const length = blockMs(s);
  return {
    first: Math.ceil((startMs - s.washout_minutes * MINUTE_MS) / length),
    last: Math.floor(atMs / length) - 1,
  };
}
