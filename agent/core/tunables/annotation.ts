// `x-tunable` on a schema field: what a runtime layer may do with the field (DESIGN.md section 9).
// This file reads and checks the annotation itself; it imports nothing of the schema set, which
// calls it while the schemas load (a schema with a wrong annotation is refused there).

import { isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';

/** The runtime layers above the signed configuration, lowest precedence first. */
export const OWNERS = ['experiment', 'tuner', 'governor', 'operator'] as const;
export type Owner = (typeof OWNERS)[number];

export const APPLIES = ['hot', 'restart'] as const;
export type Applies = (typeof APPLIES)[number];

export const SAFE_DIRECTIONS = ['down', 'up'] as const;
export type SafeDirection = (typeof SAFE_DIRECTIONS)[number];

/** A lease's time to live when the annotation names no maximum: one day. */
export const DEFAULT_MAX_TTL_SECONDS = 86_400;

/** A scalar a tunable field may take. */
export type TunableValue = string | number | boolean;

interface Common {
  applies: Applies;
  safe_direction?: SafeDirection;
  owners: Owner[];
  default_ttl_seconds: number;
  max_ttl_seconds: number;
  max_changes_per_hour: number;
}

/** A range on a grid: minimum, minimum + step, ..., maximum. */
export interface RangeAnnotation extends Common {
  kind: 'range';
  minimum: number;
  maximum: number;
  step: number;
}

/** A set of values; for a safe direction, `down` is towards the first. */
export interface EnumAnnotation extends Common {
  kind: 'enum';
  enum: TunableValue[];
}

export type TunableAnnotation = RangeAnnotation | EnumAnnotation;

/** A problem with an annotation; `pointer` is relative to the x-tunable object ('' for the object itself). */
export interface AnnotationProblem {
  pointer: string;
  message: string;
  hint: string;
}

const KEYS = [
  'minimum',
  'maximum',
  'step',
  'enum',
  'applies',
  'safe_direction',
  'owners',
  'default_ttl_seconds',
  'max_ttl_seconds',
  'max_changes_per_hour',
] as const;

/** Rounds away binary noise (0.3 + 0.05 * 7 is 0.6500000000000001), keeping ten decimals. */
export const tidy = (x: number): number => Number(x.toFixed(10));

/** Whether `value` lies on the grid `origin + k * step`. */
export function onGrid(value: number, origin: number, step: number): boolean {
  const k = (value - origin) / step;
  return Math.abs(k - Math.round(k)) < 1e-7;
}

const isScalar = (v: unknown): v is TunableValue =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const isPositiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/**
 * Checks one `x-tunable` against the field it annotates: known keys, consistent bounds (inside the
 * field's own, with the field's default on them), a positive step whose grid reaches the maximum,
 * known owners, and positive times and budgets.
 */
export function checkAnnotation(annotation: Json, field: JsonObject): AnnotationProblem[] {
  const out: AnnotationProblem[] = [];
  const bad = (pointer: string, message: string, hint: string): void => void out.push({ pointer, message, hint });
  if (!isObject(annotation)) {
    bad('', 'x-tunable must be an object', 'write x-tunable as { minimum, maximum, step, applies, owners, ... }');
    return out;
  }
  const a = annotation;
  for (const key of Object.keys(a))
    if (!(KEYS as readonly string[]).includes(key))
      bad(`/${key}`, `x-tunable has an unknown key "${key}"`, `its keys are ${KEYS.join(', ')}`);

  const hasRange = a.minimum !== undefined || a.maximum !== undefined || a.step !== undefined;
  if (a.enum !== undefined && hasRange)
    bad('', 'x-tunable has both enum and minimum/maximum/step', 'give either an enum or a range on a grid, not both');
  else if (a.enum !== undefined) checkEnum(a.enum, field, bad);
  else if (hasRange) checkRange(a, field, bad);
  else bad('', 'x-tunable gives no bounds', 'add minimum, maximum and step, or an enum');

  if (!(APPLIES as readonly Json[]).includes(a.applies ?? null))
    bad(
      '/applies',
      `x-tunable applies must be ${APPLIES.join(' or ')}`,
      'hot: the component reloads; restart: it restarts',
    );
  if (a.safe_direction !== undefined && !(SAFE_DIRECTIONS as readonly Json[]).includes(a.safe_direction))
    bad(
      '/safe_direction',
      'x-tunable safe_direction must be down or up',
      'the way the load governor may move the value',
    );
  const owners = a.owners;
  if (!Array.isArray(owners) || owners.length === 0)
    bad('/owners', 'x-tunable owners must be a non-empty list', `owners are ${OWNERS.join(', ')}`);
  else
    owners.forEach((o, i) => {
      if (!(OWNERS as readonly Json[]).includes(o))
        bad(`/owners/${i}`, `x-tunable names an unknown owner ${JSON.stringify(o)}`, `owners are ${OWNERS.join(', ')}`);
      else if (owners.indexOf(o) !== i)
        bad(`/owners/${i}`, `x-tunable names the owner "${String(o)}" twice`, 'list each owner once');
    });
  if (!isPositiveInteger(a.default_ttl_seconds))
    bad('/default_ttl_seconds', 'x-tunable default_ttl_seconds must be a positive integer', 'e.g. 900 (15 minutes)');
  if (a.max_ttl_seconds !== undefined && !isPositiveInteger(a.max_ttl_seconds))
    bad('/max_ttl_seconds', 'x-tunable max_ttl_seconds must be a positive integer', 'e.g. 86400 (one day)');
  const maxTtl = a.max_ttl_seconds ?? DEFAULT_MAX_TTL_SECONDS;
  if (isPositiveInteger(a.default_ttl_seconds) && isPositiveInteger(maxTtl) && a.default_ttl_seconds > maxTtl)
    bad(
      '/default_ttl_seconds',
      `x-tunable default_ttl_seconds ${a.default_ttl_seconds} is longer than max_ttl_seconds ${maxTtl}`,
      'shorten the default or raise max_ttl_seconds',
    );
  if (!Number.isInteger(a.max_changes_per_hour) || (a.max_changes_per_hour as number) < 0)
    bad('/max_changes_per_hour', 'x-tunable max_changes_per_hour must be an integer of 0 or more', 'e.g. 6');
  return out;
}

type Bad = (pointer: string, message: string, hint: string) => void;

function checkEnum(values: Json, field: JsonObject, bad: Bad): void {
  if (!Array.isArray(values) || values.length === 0 || !values.every(isScalar)) {
    bad('/enum', 'x-tunable enum must be a non-empty list of scalars', 'list the values a runtime layer may set');
    return;
  }
  values.forEach((v, i) => {
    if (values.indexOf(v) !== i) bad(`/enum/${i}`, `x-tunable enum lists ${JSON.stringify(v)} twice`, 'list it once');
    else if (Array.isArray(field.enum) && !field.enum.includes(v))
      bad(
        `/enum/${i}`,
        `x-tunable enum value ${JSON.stringify(v)} is not one of the field's values`,
        `the field allows ${field.enum.map((x) => JSON.stringify(x)).join(', ')}`,
      );
  });
  if (field.default !== undefined && !(values as Json[]).includes(field.default))
    bad('/enum', `the field's default ${JSON.stringify(field.default)} is not in x-tunable enum`, 'add it to the enum');
}

function checkRange(a: JsonObject, field: JsonObject, bad: Bad): void {
  const { minimum: min, maximum: max, step } = a;
  const num = (v: Json | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!num(min)) bad('/minimum', 'x-tunable minimum must be a number', 'give the lowest value a runtime layer may set');
  if (!num(max))
    bad('/maximum', 'x-tunable maximum must be a number', 'give the highest value a runtime layer may set');
  if (!num(step) || step <= 0)
    bad('/step', 'x-tunable step must be a number above 0', 'e.g. 1 for a count, 0.05 for a score');
  if (!num(min) || !num(max)) return;
  if (min > max) {
    bad('/minimum', `x-tunable minimum ${min} is above its maximum ${max}`, 'swap them');
    return;
  }
  const below = (limit: Json | undefined, exclusive: boolean, v: number): boolean =>
    num(limit) && (exclusive ? v <= limit : v < limit);
  const above = (limit: Json | undefined, exclusive: boolean, v: number): boolean =>
    num(limit) && (exclusive ? v >= limit : v > limit);
  if (below(field.minimum, false, min) || below(field.exclusiveMinimum, true, min))
    bad(
      '/minimum',
      `x-tunable minimum ${min} is below what the field allows`,
      "keep the bounds inside the field's own",
    );
  if (above(field.maximum, false, max) || above(field.exclusiveMaximum, true, max))
    bad(
      '/maximum',
      `x-tunable maximum ${max} is above what the field allows`,
      "keep the bounds inside the field's own",
    );
  if (!num(step) || step <= 0) return;
  if (field.type === 'integer' && !Number.isInteger(step))
    bad('/step', `x-tunable step ${step} is not whole, but the field is an integer`, 'use a whole step');
  if (!onGrid(max, min, step))
    bad(
      '/maximum',
      `x-tunable maximum ${max} is not on the grid ${min} + k * ${step}`,
      'make maximum - minimum a multiple of step',
    );
  const d = field.default;
  if (typeof d === 'number' && (d < min || d > max))
    bad(
      '',
      `the field's default ${d} is outside x-tunable's bounds ${min}..${max}`,
      'widen the bounds or change the default',
    );
  else if (typeof d === 'number' && !onGrid(d, min, step))
    bad(
      '/step',
      `the field's default ${d} is not on the grid ${min} + k * ${step}`,
      'pick a step that reaches the default',
    );
}

/** The annotation as a typed value; call only on one that `checkAnnotation` accepts. */
export function readAnnotation(annotation: JsonObject): TunableAnnotation {
  const common: Common = {
    applies: annotation.applies as Applies,
    ...(annotation.safe_direction !== undefined ? { safe_direction: annotation.safe_direction as SafeDirection } : {}),
    owners: OWNERS.filter((o) => (annotation.owners as Json[]).includes(o)),
    default_ttl_seconds: annotation.default_ttl_seconds as number,
    max_ttl_seconds: (annotation.max_ttl_seconds as number | undefined) ?? DEFAULT_MAX_TTL_SECONDS,
    max_changes_per_hour: annotation.max_changes_per_hour as number,
  };
  if (Array.isArray(annotation.enum)) return { kind: 'enum', enum: annotation.enum as TunableValue[], ...common };
  return {
    kind: 'range',
    minimum: annotation.minimum as number,
    maximum: annotation.maximum as number,
    step: annotation.step as number,
    ...common,
  };
}
