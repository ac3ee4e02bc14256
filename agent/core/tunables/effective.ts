// The effective value of a tunable field: the signed configuration, then one layer per owner,
// lowest precedence first (experiment, tuner, governor, operator). Every lease's value is clamped
// to the field's bounds and snapped to its grid; for a field with a safe direction the governor can
// only hold the value where the layers below put it or make it more conservative. Expired leases
// count for nothing, so removing or expiring one gives back the layer below at once. The signed
// value itself is never changed here: bounds that exclude it are refused by validation.

import { OWNERS, tidy } from './annotation.js';
import type { Owner } from './annotation.js';
import { isActive, toMs } from './lease.js';
import type { Lease } from './lease.js';
import type { TunableSpec, TunableTable } from './spec.js';
import { keySegments } from './spec.js';
import { getAt, isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';

export type LayerName = 'signed' | Owner;

/** Precedence, lowest first. */
export const PRECEDENCE: readonly LayerName[] = ['signed', ...OWNERS];

export type LayerStatus =
  /** this layer sets the value (the highest applied layer wins; `winner` names it) */
  | 'applied'
  /** the governor asked for a less conservative value than the layers below: they hold */
  | 'held'
  /** no lease of this owner on the path */
  | 'unset'
  | 'expired'
  | 'not-started'
  | 'owner-not-allowed'
  /** the value has the wrong type, or is not one of the enum's */
  | 'unusable';

export interface LayerExplanation {
  layer: LayerName;
  status: LayerStatus;
  /** What the layer asks for (the signed value, or the lease's). */
  asked?: Json;
  /** What it gives after clamping and snapping. */
  value?: Json;
  /** How the value was fitted to the spec. */
  adjusted?: 'clamped' | 'snapped';
  lease?: Lease;
}

export interface EffectiveValue {
  path: string;
  value: Json | undefined;
  winner: LayerName;
  /** Every layer, lowest first. */
  layers: LayerExplanation[];
}

/** The value a lease may give under `spec`: clamped to its bounds and snapped to its grid; undefined when unusable. */
export function fitValue(
  spec: TunableSpec,
  value: Json | undefined,
): { value: Json; adjusted?: 'clamped' | 'snapped' } | undefined {
  if (spec.kind === 'enum') return (spec.enum as Json[]).includes(value ?? null) ? { value: value! } : undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const clamped = Math.min(spec.maximum, Math.max(spec.minimum, value));
  let snapped = spec.origin + Math.round((clamped - spec.origin) / spec.step) * spec.step;
  if (snapped > spec.maximum + 1e-9) snapped -= spec.step;
  if (snapped < spec.minimum - 1e-9) snapped += spec.step;
  snapped = tidy(snapped);
  if (clamped !== value) return { value: snapped, adjusted: 'clamped' };
  return snapped !== value ? { value: snapped, adjusted: 'snapped' } : { value };
}

/**
 * Whether `a` is at least as conservative as `b` for a field with a safe direction (`down`: the
 * smaller, or the earlier enum value). Values that cannot be compared count as conservative.
 */
export function atLeastAsSafe(spec: TunableSpec, a: Json | undefined, b: Json | undefined): boolean {
  if (!spec.safe_direction) return true;
  let x: number;
  let y: number;
  if (spec.kind === 'enum') {
    x = (spec.enum as Json[]).indexOf(a ?? null);
    y = (spec.enum as Json[]).indexOf(b ?? null);
    if (x < 0 || y < 0) return true;
  } else {
    if (typeof a !== 'number' || typeof b !== 'number') return true;
    x = a;
    y = b;
  }
  return spec.safe_direction === 'down' ? x <= y : x >= y;
}

/** The lease of `owner` that counts: the active one started last, else the one started last. */
function pick(leases: readonly Lease[], owner: Owner, now: number): Lease | undefined {
  let best: Lease | undefined;
  let bestActive = false;
  for (const l of leases) {
    if (l.owner !== owner) continue;
    const active = isActive(l, now);
    if (!best || (active && !bestActive) || (active === bestActive && toMs(l.start) >= toMs(best.start))) {
      best = l;
      bestActive = active;
    }
  }
  return best;
}

/** The effective value of one field: the signed value and the leases on its path (others are ignored). */
export function effectiveValue(
  signedValue: Json | undefined,
  spec: TunableSpec,
  leases: readonly Lease[],
  now: string | number,
): EffectiveValue {
  const n = toMs(now);
  const mine = leases.filter((l) => l.path === spec.path);
  let value = signedValue;
  let winner: LayerName = 'signed';
  const layers: LayerExplanation[] = [
    {
      layer: 'signed',
      status: 'applied',
      ...(signedValue !== undefined ? { asked: signedValue, value: signedValue } : {}),
    },
  ];
  for (const owner of OWNERS) {
    const lease = pick(mine, owner, n);
    if (!lease) {
      layers.push({ layer: owner, status: 'unset' });
      continue;
    }
    const base = { layer: owner, asked: lease.value, lease };
    if (toMs(lease.expires) <= n) layers.push({ ...base, status: 'expired' });
    else if (toMs(lease.start) > n) layers.push({ ...base, status: 'not-started' });
    else if (!spec.owners.includes(owner)) layers.push({ ...base, status: 'owner-not-allowed' });
    else {
      const fit = fitValue(spec, lease.value);
      if (!fit) layers.push({ ...base, status: 'unusable' });
      else if (owner === 'governor' && !atLeastAsSafe(spec, fit.value, value))
        layers.push({ ...base, status: 'held', value: fit.value, ...(fit.adjusted ? { adjusted: fit.adjusted } : {}) });
      else {
        layers.push({
          ...base,
          status: 'applied',
          value: fit.value,
          ...(fit.adjusted ? { adjusted: fit.adjusted } : {}),
        });
        value = fit.value;
        winner = owner;
      }
    }
  }
  return { path: spec.path, value, winner, layers };
}

export interface EffectiveConfig {
  /** The signed configuration with every winning lease's value in place. */
  config: JsonObject;
  /** One entry per path that has at least one lease. */
  values: EffectiveValue[];
  /** Leases on a path that is not tunable here, or whose place is not in the configuration. */
  unplaced: Lease[];
}

function setAt(target: JsonObject, segments: readonly string[], value: Json): boolean {
  let cur: Json = target;
  for (const seg of segments.slice(0, -1)) {
    if (!isObject(cur) || !isObject(cur[seg])) return false;
    cur = cur[seg];
  }
  if (!isObject(cur)) return false;
  cur[segments[segments.length - 1]!] = value;
  return true;
}

/** The signed configuration with the leases applied (the input is not changed). */
export function effectiveConfig(
  signed: JsonObject,
  table: Pick<TunableTable, 'at'>,
  leases: readonly Lease[],
  now: string | number,
): EffectiveConfig {
  const config = structuredClone(signed);
  const values: EffectiveValue[] = [];
  const unplaced: Lease[] = [];
  const paths = [...new Set(leases.map((l) => l.path))].sort();
  for (const path of paths) {
    const spec = table.at(path);
    const segments = keySegments(path);
    const parent = getAt(signed, segments.slice(0, -1));
    if (!spec || segments.includes('*') || !isObject(parent)) {
      unplaced.push(...leases.filter((l) => l.path === path));
      continue;
    }
    const ev = effectiveValue(getAt(signed, segments), spec, leases, now);
    values.push(ev);
    if (ev.winner !== 'signed' && ev.value !== undefined) setAt(config, segments, ev.value);
  }
  return { config, values, unplaced };
}
