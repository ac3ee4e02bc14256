// One read of an experiment from Prometheus (issue 16, `gitops experiment report`): the devices that
// reported each arm (doorbell_experiment_exposure{experiment, variant}), and each metric's value per
// device: its query with `$window` = start..at evaluated at `at`, and (CUPED) with `$window` = the
// pre-period evaluated at `start`. The numbers then go to the pure analysis
// (agent/core/experiments/analysis.ts). Every query goes through the bounded client of
// agent/io/prometheus-query.ts (timeouts, answer cap, coded errors). Assignment is not done here:
// the caller may pass the arm each device should be in, for the SRM check against it.

import { analyseExperiment } from '../core/experiments/analysis.js';
import type {
  AnalysisSettings,
  MetricInput,
  MetricSpec,
  StopRules,
  VariantSpec,
} from '../core/experiments/analysis.js';
import type { Experiment } from '../core/experiments/read.js';
import type { ExperimentReport } from '../core/format/experiment-report.js';
import type { PrometheusQuery, Sample } from './prometheus-query.js';

export interface QueryMetric extends MetricSpec {
  /** An instant-vector PromQL expression with one series per device (label `device`); `$window` is replaced. */
  query: string;
}

/** What the report needs of an experiment file (experiments/<name>.yaml). */
export interface ExperimentSpec {
  name: string;
  environments: readonly string[];
  status: 'running' | 'paused';
  start: Date;
  variants: readonly VariantSpec[];
  strata: readonly string[];
  primary: QueryMetric;
  guardrails: readonly QueryMetric[];
  analysis: AnalysisSettings;
  stop: StopRules;
}

/** What the report reads of an experiment of the repository (agent/core/experiments/read.ts, schema-checked). */
export function reportSpecOf(e: Experiment): ExperimentSpec {
  const { primary, guardrails } = e.metrics;
  return {
    name: e.name,
    environments: e.environments,
    status: e.status,
    start: new Date(e.start),
    variants: e.variants.map((v) => ({ name: v.name, weight: v.weight })),
    strata: e.strata,
    primary: { name: primary.name, query: primary.query, direction: primary.direction },
    guardrails: guardrails.map((g) => ({
      name: g.name,
      query: g.query,
      direction: g.direction,
      maxRegression: g.max_regression,
    })),
    analysis: {
      alpha: e.analysis.alpha,
      cuped: e.analysis.cuped,
      prePeriodDays: e.analysis.pre_period_days,
      srmAlpha: e.analysis.srm_alpha,
    },
    stop: { maxDays: e.stop.max_days, minDevicesPerArm: e.stop.min_devices_per_arm, noData: e.stop.no_data },
  };
}

export interface ReportOptions {
  prometheus: Pick<PrometheusQuery, 'query'>;
  at: Date;
  /** The arm every device of the fleet should be in (null: not in the experiment), for the SRM check; else the weights. */
  expected?: ReadonlyMap<string, string | null>;
  /**
   * A device's attributes for the strata (e.g. { hardware_model: "edge-p4" }); without it, labels
   * of the strata's names on the device's exposure series are used where they exist.
   */
  strataOf?: (device: string, environment: string) => Readonly<Record<string, string>> | undefined;
}

export const EXPOSURE_METRIC = 'doorbell_experiment_exposure';

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const regexQuote = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The exposure query: each device, environment and variant that reported the experiment in the window. */
export function exposureQuery(spec: Pick<ExperimentSpec, 'name' | 'environments' | 'strata'>, window: string): string {
  const labels = ['device', 'environment', 'variant', ...spec.strata.filter((s) => LABEL.test(s))];
  const env =
    spec.environments.length > 0 ? `, environment=~${quote(spec.environments.map(regexQuote).join('|'))}` : '';
  return `max by (${labels.join(', ')}) (max_over_time(${EXPOSURE_METRIC}{experiment=${quote(spec.name)}${env}}[${window}]))`;
}

/** A metric's query with its window put in. */
export const withWindow = (query: string, window: string): string => query.replaceAll('$window', window);

const DAY_MS = 86_400_000;

/** Per device: the first finite value of its series; devices with several series are counted. */
function perDevice(
  samples: readonly Sample[],
  keep: ReadonlySet<string>,
): { values: Map<string, number>; duplicates: number; unlabelled: number } {
  const values = new Map<string, number>();
  let duplicates = 0;
  let unlabelled = 0;
  for (const s of samples) {
    const device = s.metric.device;
    if (device === undefined) {
      unlabelled++;
      continue;
    }
    if (!keep.has(device)) continue;
    const v = Number(s.value[1]);
    if (!Number.isFinite(v)) continue;
    if (values.has(device)) duplicates++;
    else values.set(device, v);
  }
  return { values, duplicates, unlabelled };
}

/** Reads the exposures and metrics of `spec` from Prometheus and analyses them. */
export async function experimentReport(spec: ExperimentSpec, options: ReportOptions): Promise<ExperimentReport> {
  const at = options.at.getTime();
  const start = spec.start.getTime();
  const window = `${Math.max(1, Math.floor((at - start) / 1000))}s`;
  const prePeriod = `${spec.analysis.prePeriodDays}d`;
  const warnings: string[] = [];
  const atSeconds = at / 1000;
  const arms = new Map<string, string>();
  const environmentOf = new Map<string, string>();
  const labelsOf = new Map<string, Record<string, string>>();
  const seen = new Map<string, Set<string>>();
  const started = at > start;
  if (started) {
    const variants = new Set(spec.variants.map((v) => v.name));
    let unknown = 0;
    for (const s of await options.prometheus.query(exposureQuery(spec, window), atSeconds)) {
      const { device, variant, environment } = s.metric;
      if (device === undefined || variant === undefined || !(Number(s.value[1]) > 0)) continue;
      if (!variants.has(variant)) {
        unknown++;
        continue;
      }
      const set = seen.get(device) ?? new Set<string>();
      set.add(variant);
      seen.set(device, set);
      environmentOf.set(device, environment ?? '');
      labelsOf.set(device, s.metric);
    }
    if (unknown > 0) warnings.push(`${unknown} exposure series name a variant the experiment file does not have`);
  }
  let multiple = 0;
  for (const [device, set] of seen)
    if (set.size === 1) arms.set(device, [...set][0]!);
    else multiple++;
  const devices = new Set(arms.keys());
  const metric = async (m: QueryMetric): Promise<MetricInput> => {
    const input: MetricInput = {
      spec: {
        name: m.name,
        direction: m.direction,
        ...(m.maxRegression !== undefined ? { maxRegression: m.maxRegression } : {}),
      },
      values: new Map(),
    };
    if (devices.size === 0) return input;
    const post = perDevice(await options.prometheus.query(withWindow(m.query, window), atSeconds), devices);
    input.values = post.values;
    if (post.duplicates > 0)
      warnings.push(
        `${m.name}: ${post.duplicates} extra series of devices already counted (the first is used): aggregate the query by device`,
      );
    if (post.unlabelled > 0) warnings.push(`${m.name}: ${post.unlabelled} series without a device label are left out`);
    if (spec.analysis.cuped)
      input.pre = perDevice(
        await options.prometheus.query(withWindow(m.query, prePeriod), start / 1000),
        devices,
      ).values;
    return input;
  };
  const primary = await metric(spec.primary);
  const guardrails: MetricInput[] = [];
  for (const g of spec.guardrails) guardrails.push(await metric(g));
  let strata: Map<string, string> | undefined;
  if (spec.strata.length > 0 && devices.size > 0) {
    strata = new Map();
    for (const device of devices) {
      const attrs = options.strataOf?.(device, environmentOf.get(device) ?? '') ?? labelsOf.get(device) ?? {};
      strata.set(device, spec.strata.map((s) => `${s}=${attrs[s] ?? '(none)'}`).join(','));
    }
    if (!options.strataOf && spec.strata.some((s) => !LABEL.test(s)))
      warnings.push(
        `strata ${spec.strata.filter((s) => !LABEL.test(s)).join(', ')} are not label names: their values are unknown here`,
      );
  }
  const analysis = analyseExperiment({
    experiment: spec.name,
    variants: spec.variants,
    arms,
    multipleExposures: multiple,
    ...(options.expected ? { expected: options.expected } : {}),
    ...(strata ? { strata } : {}),
    primary,
    guardrails,
    settings: spec.analysis,
    stop: spec.stop,
    days: (at - start) / DAY_MS,
    status: spec.status,
  });
  return {
    analysis,
    at: options.at.toISOString(),
    start: spec.start.toISOString(),
    environments: [...spec.environments],
    windows: { analysis: window, prePeriod },
    warnings,
  };
}
