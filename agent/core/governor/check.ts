// What CI (and the device, before it applies a commit) asks of the load governor's rules, for one
// target: every ladder path is a tunable field of this target that the governor may set, with a
// value within its signed (narrowed) bounds and on its grid, not protected, and at least as
// conservative as the signed value where the field has a safe direction; sources exist; the exit
// threshold lies on the right side of the enter threshold; leases live long enough and not too
// long; and the configuration at each step still passes what the signed one passes. What
// depends on the target's signed values (safe direction, steps applied, entries a `*` matches)
// is checked only where the governor is enabled. Findings
// point into the rendered configuration (`/load_governor/...`), so they are located at the line
// of the file that set them. Pure.

import type { Finding } from '../config/types.js';
import type { LoadGovernor } from '../config/schema-types.js';
import { closest } from '../format/suggest.js';
import { toPointer } from '../json/pointer.js';
import { getAt, isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import type { SchemaSet } from '../schema/schema-set.js';
import { atLeastAsSafe } from '../tunables/effective.js';
import { checkAssignment } from '../tunables/lease.js';
import type { LeaseCode } from '../tunables/lease.js';
import { describeBounds, keySegments } from '../tunables/spec.js';
import type { TunableSpec, TunableTable } from '../tunables/spec.js';
import { expandPath, isProtected, governorRules, MACHINE_SOURCES, signalRule } from './rules.js';
import { wantedValues } from './governor.js';

/** The stable codes of the governor's findings. */
export const GOVERNOR_CODES = [
  'governor-thresholds',
  'governor-unknown-source',
  'governor-step-name',
  'governor-protected',
  'governor-unknown-path',
  'governor-path-unmatched',
  'governor-not-tunable',
  'governor-owner-not-allowed',
  'governor-wrong-type',
  'governor-out-of-bounds',
  'governor-off-grid',
  'governor-less-safe',
  'governor-ladder-order',
  'governor-lease-ttl',
  'governor-field-budget',
  'governor-step-invalid',
] as const;
export type GovernorCode = (typeof GOVERNOR_CODES)[number];

const FROM_LEASE: Partial<Record<LeaseCode, GovernorCode>> = {
  'not-tunable': 'governor-not-tunable',
  'lease-owner-not-allowed': 'governor-owner-not-allowed',
  'lease-wrong-type': 'governor-wrong-type',
  'lease-out-of-bounds': 'governor-out-of-bounds',
  'lease-off-grid': 'governor-off-grid',
};

export interface GovernorCheckContext {
  /** The tunable specs of the target, narrowed by its signed layers (targetTunables). */
  table: Pick<TunableTable, 'at'>;
  schemas: SchemaSet;
  /** Where the signed value at a pointer comes from, for messages (`environments/x/devices/y.yaml:12`). */
  origin?: (pointer: string) => string | undefined;
}

const show = (v: Json | undefined): string => (v === undefined ? 'unset' : JSON.stringify(v));
const P = (...segments: Array<string | number>): string => toPointer(['load_governor', ...segments.map(String)]);

/** The section of a rendered (schema-valid) configuration, or undefined when it has none. */
const sectionOf = (config: JsonObject): LoadGovernor | undefined => {
  const s = config.load_governor;
  return isObject(s) ? (s as unknown as LoadGovernor) : undefined;
};

/** Checks the governor's rules of one rendered configuration. */
export function checkGovernor(config: JsonObject, ctx: GovernorCheckContext): Finding[] {
  const section = sectionOf(config);
  if (!section) return [];
  const out: Finding[] = [];
  const error = (code: GovernorCode, pointer: string, message: string, hint: string, suggestion?: string): void =>
    void out.push({ severity: 'error', code, message, pointer, hint, ...(suggestion ? { suggestion } : {}) });
  const warn = (code: GovernorCode, pointer: string, message: string, hint: string): void =>
    void out.push({ severity: 'warning', code, message, pointer, hint });

  checkSignals(section, config, error);

  // the ladder, step by step
  const names = new Set<string>();
  const reported = new Set<string>();
  const once = (key: string): boolean => {
    if (reported.has(key)) return false;
    reported.add(key);
    return true;
  };
  const merged = new Map<string, { value: Json; step: string }>();
  const ladderSpecs = new Map<string, TunableSpec>();
  const protectedList = governorRules(section).protected;
  // what depends on this target's signed values counts only where the governor runs
  const enabled = section.enabled === true;
  (section.ladder ?? []).forEach((step, i) => {
    if (names.has(step.name))
      error(
        'governor-step-name',
        P('ladder', i, 'name'),
        `the ladder names the step "${step.name}" twice`,
        'give every step a name of its own: moves and leases are reported by it',
      );
    names.add(step.name);
    for (const [key, value] of Object.entries(step.set)) {
      const at = P('ladder', i, 'set', key);
      if (isProtected(key, protectedList)) {
        error(
          'governor-protected',
          at,
          `step "${step.name}" sets ${key}, which is protected: the governor never writes ${protectedList.join(', ')}`,
          'remove it from the step; the ring, its notifications, live view and recording are never degraded',
        );
        continue;
      }
      const paths = expandPath(key, config);
      if (paths.length === 0 && enabled) {
        warn(
          'governor-path-unmatched',
          at,
          `step "${step.name}" sets ${key}, which matches no entry of this configuration, so the step sets nothing there`,
          'name entries that exist, or keep the step for targets that have them',
        );
        continue;
      }
      for (const path of paths) {
        const segments = keySegments(path);
        if (!isObject(getAt(config, segments.slice(0, -1))) || !ctx.schemas.nodeAt(segments)) {
          const guess = closest(path, nearbyPaths(ctx.schemas, config, segments));
          if (once(`${i}\0${key}\0governor-unknown-path`))
            error(
              'governor-unknown-path',
              at,
              `step "${step.name}" sets ${path}, which is not in this configuration${guess ? `. Did you mean "${guess}"?` : ''}`,
              'ladder paths are tunable fields of the configuration (x-tunable in schemas/)',
              guess,
            );
          continue;
        }
        const findings = checkAssignment(path, value, 'governor', (p) => ctx.table.at(p));
        for (const f of findings) {
          const code = FROM_LEASE[f.code] ?? 'governor-not-tunable';
          // a key with * reports each problem once, at its first entry
          if (once(`${i}\0${key}\0${code}`)) error(code, at, `step "${step.name}": ${f.message}`, f.hint);
        }
        const spec = ctx.table.at(path);
        if (findings.length > 0 || !spec) continue;
        ladderSpecs.set(path, spec);
        const signed = getAt(config, segments) ?? (ctx.schemas.nodeAt(segments)?.default as Json | undefined);
        if (enabled && !atLeastAsSafe(spec, value, signed) && once(`${i}\0${key}\0governor-less-safe`)) {
          const from = ctx.origin?.(toPointer(segments));
          const down = spec.safe_direction === 'down';
          error(
            'governor-less-safe',
            at,
            `step "${step.name}" sets ${path} to ${show(value)}, less conservative than the signed ${show(signed)}` +
              `${from ? ` (${from})` : ''}: the governor may only ${down ? 'lower' : 'raise'} it`,
            `give a value at ${down ? 'or below' : 'or above'} ${show(signed)} within ${describeBounds(spec)}, ` +
              `or leave ${path} out of the step for this target`,
          );
        }
        const before = merged.get(path);
        if (before && !atLeastAsSafe(spec, value, before.value))
          warn(
            'governor-ladder-order',
            at,
            `step "${step.name}" sets ${path} to ${show(value)}, less conservative than ${show(before.value)} of the milder step "${before.step}"`,
            'order the ladder mildest first: a deeper step should not give back what an earlier one took',
          );
        merged.set(path, { value, step: step.name });
      }
    }
  });

  // leases and budgets against the fields the ladder sets
  const ttl = section.lease_ttl_seconds ?? 120;
  const tick = section.tick_seconds ?? 1;
  if (ttl < 2 * tick)
    error(
      'governor-lease-ttl',
      P('lease_ttl_seconds'),
      `governor leases live ${ttl} s, less than two ticks of ${tick} s: they would lapse between renewals`,
      `give lease_ttl_seconds at least ${Math.ceil(2 * tick)}`,
    );
  const perHour = section.max_transitions_per_hour ?? 12;
  for (const [path, spec] of ladderSpecs) {
    if (ttl > spec.max_ttl_seconds)
      error(
        'governor-lease-ttl',
        P('lease_ttl_seconds'),
        `governor leases live ${ttl} s, but a lease on ${path} may live at most ${spec.max_ttl_seconds} s`,
        `give lease_ttl_seconds at most ${spec.max_ttl_seconds}`,
      );
    if (perHour > spec.max_changes_per_hour)
      warn(
        'governor-field-budget',
        P('max_transitions_per_hour'),
        `the governor may move ${perHour} times an hour, but ${path} allows ${spec.max_changes_per_hour} changes an hour: ` +
          'the field would change more often than its budget',
        `give max_transitions_per_hour at most ${spec.max_changes_per_hour}`,
      );
  }
  return out;
}

type Report = (code: GovernorCode, pointer: string, message: string, hint: string, suggestion?: string) => void;

function checkSignals(section: LoadGovernor, config: JsonObject, error: Report): void {
  const components = isObject(config.components) ? Object.keys(config.components).sort() : [];
  for (const [name, raw] of Object.entries(section.signals ?? {})) {
    const above = raw.enter_above !== undefined;
    const below = raw.enter_below !== undefined;
    if (above === below) {
      error(
        'governor-thresholds',
        P('signals', name),
        above ? `signal ${name} gives both enter_above and enter_below` : `signal ${name} gives no thresholds`,
        'give enter_above and exit_below (high is bad), or enter_below and exit_above (low is bad)',
      );
      continue;
    }
    const s = signalRule(name, raw);
    const wrongSide = s.direction === 'above' ? s.exit >= s.enter : s.exit <= s.enter;
    if (wrongSide)
      error(
        'governor-thresholds',
        P('signals', name, s.direction === 'above' ? 'exit_below' : 'exit_above'),
        s.direction === 'above'
          ? `signal ${name} leaves below ${s.exit} but enters above ${s.enter}: exit_below must be below enter_above`
          : `signal ${name} leaves above ${s.exit} but enters below ${s.enter}: exit_above must be above enter_below`,
        'the band between the thresholds is the hysteresis that keeps the governor from flapping',
      );
    const dot = s.source.indexOf('.');
    if (dot < 0) {
      if ((MACHINE_SOURCES as readonly string[]).includes(s.source)) continue;
      const guess = closest(s.source, MACHINE_SOURCES);
      error(
        'governor-unknown-source',
        P('signals', name, 'source'),
        `signal ${name} reads ${s.source}, which the agent does not sample${guess ? `. Did you mean "${guess}"?` : ''}`,
        `machine sources: ${MACHINE_SOURCES.join(', ')}; a component's own figure is <component>.<metric>`,
        guess,
      );
    } else {
      const component = s.source.slice(0, dot);
      if (components.includes(component)) continue;
      const guess = closest(component, components);
      error(
        'governor-unknown-source',
        P('signals', name, 'source'),
        `signal ${name} reads ${s.source}, but there is no component "${component}"${guess ? `. Did you mean "${guess}"?` : ''}`,
        `components: ${components.join(', ') || '(none)'}`,
        guess ? `${guess}${s.source.slice(dot)}` : undefined,
      );
    }
  }
}

/** Candidates for a "did you mean": the same field in the map's other entries, or the parent's other fields. */
function nearbyPaths(schemas: SchemaSet, config: JsonObject, segments: readonly string[]): string[] {
  const parent = segments.slice(0, -1);
  const field = segments.at(-1)!;
  if (isObject(getAt(config, parent))) {
    const props = schemas.nodeAt(parent)?.properties;
    return isObject(props) ? Object.keys(props).map((k) => [...parent, k].join('.')) : [];
  }
  const map = getAt(config, parent.slice(0, -1));
  if (!isObject(map)) return [];
  return Object.keys(map)
    .map((k) => [...parent.slice(0, -1), k, field].join('.'))
    .filter((p) => schemas.nodeAt(keySegments(p)) !== undefined);
}

/** The signed configuration with the governor's values of `step` in place (the input is not changed). */
export function configAtStep(
  config: JsonObject,
  step: number,
  rules = governorRules(sectionOf(config), config),
): JsonObject {
  return withValues(config, Object.entries(wantedValues(rules, step)));
}

/** `config` with each path of `values` set; copied along those paths only, the rest shared with `config` (never mutated). */
function withValues(config: JsonObject, values: ReadonlyArray<readonly [string, Json]>): JsonObject {
  const out: JsonObject = { ...config };
  const fresh = new Set<JsonObject>([out]);
  for (const [path, value] of values) {
    const segments = keySegments(path);
    let parent: JsonObject | undefined = out;
    for (const key of segments.slice(0, -1)) {
      const child: Json | undefined = parent[key];
      if (!isObject(child)) {
        parent = undefined;
        break;
      }
      if (!fresh.has(child)) fresh.add((parent[key] = { ...child }));
      parent = parent[key] as JsonObject;
    }
    if (parent) parent[segments.at(-1)!] = value;
  }
  return out;
}

/**
 * Where the governor is on, every step of the ladder applied must pass what the signed configuration passes: an error
 * that `check` finds at step n and not in the signed configuration (nor at a milder step) is
 * reported once, at step n. `signed`: what `check` finds in the signed configuration, when the caller has it.
 */
export function checkLadderSteps(
  config: JsonObject,
  check: (config: JsonObject) => Finding[],
  signed: readonly Finding[] = check(config),
): Finding[] {
  const section = sectionOf(config);
  const steps = section?.ladder ?? [];
  if (steps.length === 0 || section?.enabled !== true) return [];
  const key = (f: Finding): string => `${f.code}\0${f.pointer}`;
  const seen = new Set(signed.filter((f) => f.severity === 'error').map(key));
  const out: Finding[] = [];
  const rules = governorRules(section, config);
  // a step that sets what the configuration (or the step before) already has makes the same
  // configuration again: its findings are already known. A step's key is what it changes.
  const changes = (step: number): Array<[string, Json]> =>
    Object.entries(wantedValues(rules, step)).filter(
      ([path, value]) => JSON.stringify(getAt(config, keySegments(path))) !== JSON.stringify(value),
    );
  const checked = new Set([JSON.stringify(changes(0))]);
  steps.forEach((step, i) => {
    const changed = changes(i + 1);
    const made = JSON.stringify(changed);
    if (checked.has(made)) return;
    checked.add(made);
    for (const f of check(withValues(config, changed))) {
      if (f.severity !== 'error' || seen.has(key(f))) continue;
      seen.add(key(f));
      out.push({
        severity: 'error',
        code: 'governor-step-invalid',
        message: `at step ${i + 1} ("${step.name}") the configuration fails ${f.code}: ${f.message}`,
        pointer: P('ladder', i),
        hint: f.hint
          ? `${f.hint}; or change the step`
          : 'change the step so that the configuration it makes stays valid',
      });
    }
  });
  return out;
}
