// The file protocol between the agent and a component that embeds agent/client. Per component
// a directory holds, each file written atomically:
//   proposed.json  agent -> component: a configuration to judge   {generation, commit, sections}
//   verdict.json   component -> agent: accept or veto with reason  {generation, accept, reason}
//   config.json    agent -> component: the configuration to run     {generation, commit, sections}
//   health.json    component -> agent: how it runs                  {generation, healthy, reason, time}
//   metrics.json   component -> agent: its own figures, about once a second   {time, values}
// Both ends read and write them with agent/io/protocol-files.ts.

import { GitopsError } from '../errors.js';

export interface Proposal {
  generation: number;
  commit: string;
  sections: Record<string, unknown>;
}

export interface Verdict {
  generation: number;
  accept: boolean;
  reason?: string;
}

export interface Health {
  generation: number;
  healthy: boolean;
  reason?: string;
  time: string;
}

export const FILES = {
  proposed: 'proposed.json',
  verdict: 'verdict.json',
  config: 'config.json',
  health: 'health.json',
  metrics: 'metrics.json',
} as const;

/** A protocol file larger than this is not read (a component gone wrong cannot fill the agent's memory). */
export const MAX_PROTOCOL_FILE = 4 * 1024 * 1024;

/**
 * What a component reports of itself (agent/client `report()`): named figures such as
 * `dropped_frames_per_s`, `inference_latency_ms` or `queue_depth`, for the load governor's signals.
 */
export interface ComponentMetrics {
  /** When the component took the figures (ISO 8601). */
  time: string;
  values: Record<string, number>;
}

/** A metric's name: lower case, digits and underscores, starting with a letter (as in Prometheus). */
export const METRIC_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** The most names one report may hold. */
export const MAX_METRICS = 64;
/** A metrics report larger than this is not read (64 names of 64 characters and their numbers fit in 8 KiB). */
export const MAX_METRICS_FILE = 64 * 1024;
/** A report older than this counts as none: the component reports about once a second, so it has stopped. */
export const METRICS_MAX_AGE_MS = 5000;

/** What is wrong with a set of figures (empty when it may be reported): each problem names its figure. */
export function metricsProblems(values: unknown): string[] {
  if (values === null || typeof values !== 'object' || Array.isArray(values))
    return ['the figures must be an object of names and numbers'];
  const entries = Object.entries(values as Record<string, unknown>);
  const out: string[] = [];
  if (entries.length > MAX_METRICS) out.push(`${entries.length} figures; at most ${MAX_METRICS} may be reported`);
  for (const [name, v] of entries.slice(0, MAX_METRICS + 1)) {
    if (!METRIC_NAME.test(name))
      out.push(`${JSON.stringify(name.slice(0, 80))} is not a metric name (lower case letters, digits, _; at most 64)`);
    if (typeof v !== 'number' || !Number.isFinite(v))
      out.push(
        `${METRIC_NAME.test(name) ? name : 'a figure'} is ${typeof v === 'number' ? String(v) : typeof v}, not a finite number`,
      );
  }
  return out;
}

/** The figures as they are reported, or a GitopsError (bad-metrics) saying what is wrong with them. */
export function checkMetrics(values: unknown): Record<string, number> {
  const problems = metricsProblems(values);
  if (problems.length > 0)
    throw new GitopsError(
      'bad-metrics',
      `metrics not reported: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
      `report at most ${MAX_METRICS} finite numbers named like inference_latency_ms`,
    );
  return { ...(values as Record<string, number>) };
}

/**
 * A report read back (from metrics.json or an HTTP answer), or undefined when it is not one: not
 * an object, figures that do not pass metricsProblems, or a time that is not one. `fallbackTime`
 * stands in for a missing time (an HTTP answer is as fresh as the request).
 */
export function readMetrics(raw: unknown, fallbackTime?: string): ComponentMetrics | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const { time, values } = raw as { time?: unknown; values?: unknown };
  const t = time === undefined ? fallbackTime : time;
  if (typeof t !== 'string' || Number.isNaN(Date.parse(t))) return undefined;
  if (metricsProblems(values).length > 0) return undefined;
  return { time: t, values: { ...(values as Record<string, number>) } };
}
