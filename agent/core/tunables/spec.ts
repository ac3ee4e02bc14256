// What a runtime layer may do with one configuration path: the schema's `x-tunable`, narrowed by
// the signed configuration (`tunables:` in an environment's overrides.yaml, then in a device file).
// Narrowing only ever takes away: a bound, owner, time to live or budget beyond the layer below is
// a problem, and the layer below stays in force for it.

import { checkAnnotation, onGrid, readAnnotation, tidy } from './annotation.js';
import type { EnumAnnotation, Owner, RangeAnnotation, TunableValue } from './annotation.js';
import { toDotted } from '../json/pointer.js';
import type { Segment } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import { matchesSegments } from '../schema/schema-set.js';
import type { SchemaSet } from '../schema/schema-set.js';

interface SpecCommon {
  /** Dotted configuration path (a pattern with `*` for map entries, or concrete). */
  path: string;
  /** The files that narrowed it, lowest first; empty when the schema's annotation holds as is. */
  narrowed_by: string[];
}

/** A range: bounds after narrowing; the grid stays `origin + k * step`, origin the schema's minimum. */
export type RangeSpec = RangeAnnotation & SpecCommon & { origin: number };
export type EnumSpec = EnumAnnotation & SpecCommon;
export type TunableSpec = RangeSpec | EnumSpec;

export type NarrowingCode = 'tunable-widened' | 'tunable-off-grid' | 'tunable-empty' | 'tunable-mismatch';

export interface NarrowingProblem {
  /** JSON Pointer inside the narrowing object ('' for the object itself). */
  pointer: string;
  code: NarrowingCode;
  message: string;
  hint: string;
}

/** The spec of a schema field's annotation, or undefined when it has none (or a wrong one). */
export function specOfAnnotation(path: string, node: JsonObject): TunableSpec | undefined {
  const raw = node['x-tunable'];
  if (!isObject(raw) || checkAnnotation(raw, node).length > 0) return undefined;
  const a = readAnnotation(raw);
  return a.kind === 'range' ? { ...a, path, narrowed_by: [], origin: a.minimum } : { ...a, path, narrowed_by: [] };
}

const show = (v: Json | undefined): string => JSON.stringify(v);

/** Narrows `spec` by one `tunables:` entry; what would widen it is a problem and is left out. */
export function narrowSpec(
  spec: TunableSpec,
  narrowing: JsonObject,
  file: string,
): { spec: TunableSpec; problems: NarrowingProblem[] } {
  const problems: NarrowingProblem[] = [];
  const widened = (pointer: string, message: string, hint: string): void =>
    void problems.push({ pointer, code: 'tunable-widened', message, hint });
  let next: TunableSpec = { ...spec, narrowed_by: [...spec.narrowed_by, file] };
  const where = spec.narrowed_by.at(-1) ?? 'the schema';
  /** The listed values that `allowed` has, in its order; each one it lacks is a widening (then undefined). */
  const subset = <T extends Json>(key: 'enum' | 'owners', allowed: readonly T[], what: (v: Json) => string) => {
    const listed = narrowing[key];
    if (!Array.isArray(listed)) return undefined;
    const extra = listed.filter((v) => !(allowed as readonly Json[]).includes(v));
    for (const v of extra)
      widened(`/${key}/${listed.indexOf(v)}`, what(v), `choose among ${allowed.map((x) => show(x)).join(', ')}`);
    return extra.length === 0 ? allowed.filter((v) => listed.includes(v)) : undefined;
  };

  if (spec.kind === 'range') {
    if (narrowing.enum !== undefined)
      problems.push({
        pointer: '/enum',
        code: 'tunable-mismatch',
        message: `${spec.path} is a range; it cannot be narrowed by an enum`,
        hint: `give minimum and/or maximum within ${spec.minimum}..${spec.maximum}`,
      });
    let { minimum, maximum } = spec;
    for (const key of ['minimum', 'maximum'] as const) {
      const v = narrowing[key];
      if (typeof v !== 'number') continue;
      if (v < spec.minimum || v > spec.maximum)
        widened(
          `/${key}`,
          `${key} ${v} for ${spec.path} is outside ${spec.minimum}..${spec.maximum}, what ${where} allows`,
          `narrow within ${spec.minimum}..${spec.maximum}; only a schema change may widen it`,
        );
      else if (!onGrid(v, spec.origin, spec.step))
        problems.push({
          pointer: `/${key}`,
          code: 'tunable-off-grid',
          message: `${key} ${v} for ${spec.path} is not on its grid of step ${spec.step} from ${spec.origin}`,
          hint: `use a value ${spec.origin} + k * ${spec.step}, e.g. ${tidy(spec.origin + Math.round((v - spec.origin) / spec.step) * spec.step)}`,
        });
      else if (key === 'minimum') minimum = v;
      else maximum = v;
    }
    if (minimum > maximum) {
      problems.push({
        pointer: '/minimum',
        code: 'tunable-empty',
        message: `${spec.path} is narrowed to ${minimum}..${maximum}, which holds no value`,
        hint: 'the minimum must not be above the maximum',
      });
      ({ minimum, maximum } = spec);
    }
    next = { ...(next as RangeSpec), minimum, maximum };
  } else {
    if (narrowing.minimum !== undefined || narrowing.maximum !== undefined)
      problems.push({
        pointer: narrowing.minimum !== undefined ? '/minimum' : '/maximum',
        code: 'tunable-mismatch',
        message: `${spec.path} takes one of ${spec.enum.map((v) => show(v)).join(', ')}; it cannot be narrowed by a range`,
        hint: 'give an enum with some of those values',
      });
    const kept = subset('enum', spec.enum, (v) => `${show(v)} is not a value ${where} allows for ${spec.path}`);
    if (kept) next = { ...(next as EnumSpec), enum: kept };
  }

  const owners = subset(
    'owners',
    spec.owners,
    (o) => `owner ${show(o)} may not set ${spec.path}: ${where} allows ${spec.owners.join(', ')}`,
  );
  if (owners) next = { ...next, owners };

  for (const key of ['max_ttl_seconds', 'default_ttl_seconds', 'max_changes_per_hour'] as const) {
    const v = narrowing[key];
    if (typeof v !== 'number') continue;
    const limit = key === 'default_ttl_seconds' ? Math.min(spec[key], next.max_ttl_seconds) : spec[key];
    if (v > limit)
      widened(
        `/${key}`,
        `${key} ${v} for ${spec.path} is above ${limit}, what ${where} allows`,
        `give at most ${limit}`,
      );
    else next = { ...next, [key]: v };
  }
  return { spec: next, problems };
}

/** A `tunables:` key as path segments (`*` stays a wildcard). */
export const keySegments = (key: string): Segment[] => key.split('.');

/** The tunable fields of the schemas, one spec per annotated pattern. */
export function schemaSpecs(schemas: SchemaSet): TunableSpec[] {
  return schemas
    .annotated('x-tunable')
    .map((a) => specOfAnnotation(toDotted(a.segments), a.schema))
    .filter((s): s is TunableSpec => s !== undefined);
}

/** One signed layer that may narrow tunables: a file and its `tunables:` object. */
export interface NarrowingLayer {
  file: string;
  tunables: JsonObject;
}

/** The specs of one target: the schema's annotations narrowed by its layers, lowest first. */
export interface TunableTable {
  /** The spec of a configuration path (concrete, or a `tunables:` key with `*`), or undefined when it is not tunable. */
  at(path: string | readonly Segment[]): TunableSpec | undefined;
  /** The tunable patterns of the schema, narrowed where a layer narrows the pattern itself. */
  patterns(): TunableSpec[];
  /** Every concrete tunable path that `config` holds a value for, with its spec. */
  concrete(config: JsonObject): TunableSpec[];
}

export function tunableTable(schemas: SchemaSet, layers: readonly NarrowingLayer[] = []): TunableTable {
  const base = schemas.annotated('x-tunable');
  // every target asks for the same few paths again and again (validation, the governor, the tuner)
  const memo = new Map<string, TunableSpec | undefined>();
  const at = (path: string | readonly Segment[]): TunableSpec | undefined => {
    const key = typeof path === 'string' ? path : path.join('.');
    if (memo.has(key)) return memo.get(key);
    const spec = specAt(typeof path === 'string' ? keySegments(path) : [...path]);
    memo.set(key, spec);
    return spec;
  };
  const specAt = (segments: Segment[]): TunableSpec | undefined => {
    const hit = base.find((a) => matchesSegments(a.segments, segments));
    let spec = hit ? specOfAnnotation(toDotted(segments), hit.schema) : undefined;
    if (!spec) return undefined;
    for (const layer of layers) {
      // wildcard keys before concrete ones, so that the most specific narrowing is checked last
      const keys = Object.keys(layer.tunables)
        .filter((k) => matchesSegments(keySegments(k), segments))
        .sort(
          (a, b) => keySegments(b).filter((s) => s === '*').length - keySegments(a).filter((s) => s === '*').length,
        );
      for (const k of keys) {
        const n = layer.tunables[k];
        if (isObject(n)) spec = narrowSpec(spec, n, layer.file).spec;
      }
    }
    return spec;
  };
  return {
    at,
    patterns: () => base.map((a) => at(a.segments)).filter((s): s is TunableSpec => s !== undefined),
    concrete(config) {
      const out: TunableSpec[] = [];
      const walk = (value: Json | undefined, pattern: readonly Segment[], done: Segment[]): void => {
        if (value === undefined) return;
        if (pattern.length === 0) {
          const s = at(done);
          if (s) out.push(s);
          return;
        }
        const [head, ...rest] = pattern;
        if (!isObject(value)) return;
        if (head === '*') for (const k of Object.keys(value).sort()) walk(value[k], rest, [...done, k]);
        else walk(value[head!], rest, [...done, head!]);
      };
      for (const a of base) walk(config, a.segments, []);
      return out;
    },
  };
}

/** Whether `value` lies within the bounds of `spec` (and has its type); the grid aside. */
export function withinBounds(spec: TunableSpec, value: Json | undefined): boolean {
  if (spec.kind === 'enum') return (spec.enum as Json[]).includes(value ?? null);
  return typeof value === 'number' && value >= spec.minimum && value <= spec.maximum;
}

/** Whether `value` is one a runtime layer may set under `spec`: within its bounds and on its grid. */
export function admits(spec: TunableSpec, value: Json | undefined): boolean {
  return withinBounds(spec, value) && (spec.kind === 'enum' || onGrid(value as number, spec.origin, spec.step));
}

/** The bounds of a spec for people: `5..15 step 1`, `one of debug, info`. */
export function describeBounds(spec: TunableSpec): string {
  return spec.kind === 'range'
    ? `${spec.minimum}..${spec.maximum} step ${spec.step}`
    : `one of ${spec.enum.map((v) => (typeof v === 'string' ? v : show(v))).join(', ')}`;
}

/** The whole spec for people, e.g. `5..20 step 1; applies by restart, the governor may only lower it, ...`. */
export function describeSpec(spec: TunableSpec): string {
  const direction = spec.safe_direction
    ? `, the governor may only ${spec.safe_direction === 'down' ? 'lower' : 'raise'} it`
    : '';
  return (
    `${describeBounds(spec)}; applies ${spec.applies === 'hot' ? 'hot' : 'by restart of its component'}${direction}; ` +
    `owners ${spec.owners.join(', ')}; leases ${spec.default_ttl_seconds} s by default, at most ${spec.max_ttl_seconds} s; ` +
    `at most ${spec.max_changes_per_hour} changes an hour` +
    (spec.narrowed_by.length > 0 ? `; narrowed by ${spec.narrowed_by.join(', ')}` : '')
  );
}

/** Whether `owner` may hold a lease on the field. */
export const ownerAllowed = (spec: TunableSpec, owner: Owner): boolean => spec.owners.includes(owner);

export type { TunableValue };
