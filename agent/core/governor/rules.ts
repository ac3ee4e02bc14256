// The load governor's rules (DESIGN.md section 9), read from the rendered `load_governor`
// section (schemas/load_governor.schema.json): signals with two thresholds and two dwell times,
// and a ladder of steps, each a set of tunable fields. A step's path may name every entry of a
// map with `*` (detectors.*.frame_interval); the rules of one target hold the concrete paths of
// its signed configuration. Pure.

import type { LoadGovernor } from '../config/schema-types.js';
import { keySegments } from '../tunables/spec.js';
import type { TunableValue } from '../tunables/spec.js';
import { getAt, isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import type { Segment } from '../json/pointer.js';

/** The figures the agent samples from the machine itself (agent/io/load-signals.ts). */
export const MACHINE_SOURCES = [
  'soc_temp_c',
  'cpu_utilisation',
  'load_per_core',
  'gpu_temp_c',
  'gpu_utilisation',
  'gpu_throttled',
  'pi_throttled',
  'mem_available_ratio',
] as const;
export type MachineSource = (typeof MACHINE_SOURCES)[number];

/** Never written by the governor, whatever `protected` lists: the ring and its notifications, live view, recording. */
export const ALWAYS_PROTECTED = ['notifications', 'web_interface', 'storage'] as const;

/** above: high is bad (temperature, latency); below: low is bad (available memory). */
export type Direction = 'above' | 'below';

export interface SignalRule {
  name: string;
  /** A machine source, or `<component>.<metric>`. */
  source: string;
  direction: Direction;
  /** The signal enters beyond this (above it for `above`, below it for `below`). */
  enter: number;
  /** It leaves beyond this (below it for `above`, above it for `below`). */
  exit: number;
  enterForMs: number;
  exitForMs: number;
}

export interface LadderStep {
  name: string;
  /** Dotted path -> value; concrete paths once resolved against a signed configuration. */
  set: Record<string, TunableValue>;
}

export interface GovernorRules {
  enabled: boolean;
  tickMs: number;
  degradeIntervalMs: number;
  restoreIntervalMs: number;
  maxTransitionsPerHour: number;
  leaseTtlSeconds: number;
  /** In the order of the section. */
  signals: SignalRule[];
  /** Mildest first; step n holds steps 1..n. */
  ladder: LadderStep[];
  /** The section's `protected` and ALWAYS_PROTECTED, each once. */
  protected: string[];
}

/** The section's defaults (the schema's), for a configuration that has none. */
export const DEFAULT_SECTION: LoadGovernor = {
  enabled: false,
  tick_seconds: 1,
  degrade_interval_seconds: 30,
  restore_interval_seconds: 300,
  max_transitions_per_hour: 12,
  lease_ttl_seconds: 120,
  signals: {},
  ladder: [],
  protected: [...ALWAYS_PROTECTED],
};

/** One signal of the section as a rule: `enter_below`/`exit_above` make it a `below` signal. */
export function signalRule(name: string, s: LoadGovernor['signals'][string]): SignalRule {
  const below = s.enter_below !== undefined;
  return {
    name,
    source: s.source,
    direction: below ? 'below' : 'above',
    enter: (below ? s.enter_below : s.enter_above) ?? NaN,
    exit: (below ? s.exit_above : s.exit_below) ?? NaN,
    enterForMs: (s.enter_for_seconds ?? 0) * 1000,
    exitForMs: (s.exit_for_seconds ?? 0) * 1000,
  };
}

/**
 * The concrete paths a step's key stands for in `config`: the key itself when it names no `*`,
 * else one path per map entry that `config` holds (sorted), e.g. detectors.person.frame_interval,
 * where the field's parent object is there (the field itself may be unset).
 */
export function expandPath(key: string, config: JsonObject | undefined): string[] {
  const pattern = keySegments(key);
  if (!pattern.includes('*') || !config) return [key];
  const out: string[] = [];
  const walk = (value: Json | undefined, rest: readonly Segment[], done: Segment[]): void => {
    if (rest.length === 0) {
      out.push(done.join('.'));
      return;
    }
    const [head, ...tail] = rest;
    if (head !== '*') {
      if (isObject(value)) walk(value[head!], tail, [...done, head!]);
      return;
    }
    if (isObject(value)) for (const k of Object.keys(value).sort()) walk(value[k], tail, [...done, k]);
  };
  walk(config, pattern, []);
  return out;
}

/**
 * The rules of the section. With the signed configuration of a target, every `*` in a step is
 * expanded to that configuration's map entries (a step whose pattern matches nothing sets nothing).
 */
export function governorRules(section: LoadGovernor | undefined, signed?: JsonObject): GovernorRules {
  const s = section ?? DEFAULT_SECTION;
  const ladder = (s.ladder ?? []).map((step) => {
    const set: Record<string, TunableValue> = {};
    for (const [key, value] of Object.entries(step.set)) for (const path of expandPath(key, signed)) set[path] = value;
    return { name: step.name, set };
  });
  return {
    enabled: s.enabled === true,
    tickMs: (s.tick_seconds ?? 1) * 1000,
    degradeIntervalMs: (s.degrade_interval_seconds ?? 30) * 1000,
    restoreIntervalMs: (s.restore_interval_seconds ?? 300) * 1000,
    maxTransitionsPerHour: s.max_transitions_per_hour ?? 12,
    leaseTtlSeconds: s.lease_ttl_seconds ?? 120,
    signals: Object.entries(s.signals ?? {}).map(([name, sig]) => signalRule(name, sig)),
    ladder,
    protected: [...new Set([...ALWAYS_PROTECTED, ...(s.protected ?? [])])],
  };
}

/** The rules of a rendered configuration (its `load_governor`, the defaults where it has none). */
export function rulesOfConfig(config: JsonObject): GovernorRules {
  const section = getAt(config, ['load_governor']);
  return governorRules(isObject(section) ? (section as unknown as LoadGovernor) : undefined, config);
}

/** Whether `path` is, or lies below, one of `prefixes` (a `*` in a prefix or in the path matches any one key). */
export function isProtected(path: string, prefixes: readonly string[]): boolean {
  const segments = keySegments(path);
  return prefixes.some((prefix) => {
    const p = keySegments(prefix);
    return p.length <= segments.length && p.every((s, i) => s === '*' || segments[i] === '*' || s === segments[i]);
  });
}
