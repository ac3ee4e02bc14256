// One read of an experiment from Prometheus (issue 16, `gitops experiment report`): the devices that
// reported each arm (doorbell_experiment_exposure{experiment, variant}), and each metric's value per
// device: its query with `$window` = start..at evaluated at `at`, and (CUPED) with `$window` = the
// pre-period evaluated at `start`. The numbers then go to the pure analysis
// (agent/core/experiments/analysis.ts). Every query goes through the bounded client of
// agent/io/prometheus-query.ts (timeouts, answer cap, coded errors). Assignment is not done here:
// the caller may pass the arm each device should be in, for the SRM check against it.
//
// A switchback experiment is read per block (range queries, one evaluation per block, in chunks):
// at 1 ms before each block's end, the exposure and each metric over the block's measured part
// (`$window` = the block less its washout, core/experiments/switchback.ts measuredMs), so each
// value belongs to one block of one device. A device-block counts for the arm it reported with
// phase="measure" and no other; the metric's block values are averaged per device and arm, and
// the pure analysis pairs each device's arms (analyseSwitchback). With the schedule from git
// (`schedule`), the SRM check uses the arms it gives the same device-blocks.

import { GitopsError } from '../core/errors.js';
import { analyseExperiment, analyseSwitchback } from '../core/experiments/analysis.js';
import type {
  AnalysisSettings,
  MetricInput,
  MetricSpec,
  StopRules,
  SwitchbackMetricInput,
  VariantSpec,
} from '../core/experiments/analysis.js';
import type { Experiment } from '../core/experiments/read.js';
import { blockMs, measuredBlocks, measuredMs } from '../core/experiments/switchback.js';
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
  /** Absent: between. */
  design?: ReportDesign;
}

export type ReportDesign = { type: 'between' } | { type: 'switchback'; blockHours: number; washoutMinutes: number };

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
    design:
      e.design.type === 'switchback'
        ? { type: 'switchback', blockHours: e.design.block_hours, washoutMinutes: e.design.washout_minutes }
        : { type: 'between' },
  };
}

export interface ReportOptions {
  /** queryRange is needed for a switchback experiment. */
  prometheus: Pick<PrometheusQuery, 'query' | 'queryRange'>;
  at: Date;
  /** The arm every device of the fleet should be in (null: not in the experiment), for the SRM check; else the weights. */
  expected?: ReadonlyMap<string, string | null>;
  /**
   * A device's attributes for the strata (e.g. { hardware_model: "edge-p4" }); without it, labels
   * of the strata's names on the device's exposure series are used where they exist.
   */
  strataOf?: (device: string, environment: string) => Readonly<Record<string, string>> | undefined;
  /** Switchback: the arm the schedule in git gives `device` in block k (null: not in; undefined: a device it does not know). */
  schedule?: (device: string, block: number) => string | null | undefined;
}

export const EXPOSURE_METRIC = 'doorbell_experiment_exposure';

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const regexQuote = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The exposure query: each device, environment and variant (and `extra` labels) that reported the experiment in the window. */
export function exposureQuery(
  spec: Pick<ExperimentSpec, 'name' | 'environments' | 'strata'>,
  window: string,
  extra: readonly string[] = [],
): string {
  const labels = ['device', 'environment', 'variant', ...extra, ...spec.strata.filter((s) => LABEL.test(s))];
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

/** What the analysis needs of a metric. */
const metricSpecOf = (m: QueryMetric): MetricSpec => ({
  name: m.name,
  direction: m.direction,
  ...(m.maxRegression !== undefined ? { maxRegression: m.maxRegression } : {}),
});

/** Each device's stratum (`attr=value,...`): from `strataOf`, else the labels of its exposure. */
function strataOfDevices(
  spec: ExperimentSpec,
  devices: ReadonlySet<string>,
  options: ReportOptions,
  seen: { environmentOf: ReadonlyMap<string, string>; labelsOf: ReadonlyMap<string, Record<string, string>> },
  warnings: string[],
): Map<string, string> | undefined {
  if (spec.strata.length === 0 || devices.size === 0) return undefined;
  const strata = new Map<string, string>();
  for (const device of devices) {
    const attrs = options.strataOf?.(device, seen.environmentOf.get(device) ?? '') ?? seen.labelsOf.get(device) ?? {};
    strata.set(device, spec.strata.map((s) => `${s}=${attrs[s] ?? '(none)'}`).join(','));
  }
  if (!options.strataOf && spec.strata.some((s) => !LABEL.test(s)))
    warnings.push(
      `strata ${spec.strata.filter((s) => !LABEL.test(s)).join(', ')} are not label names: their values are unknown here`,
    );
  return strata;
}

const reportOf = (
  analysis: ExperimentReport['analysis'],
  spec: ExperimentSpec,
  options: ReportOptions,
  windows: ExperimentReport['windows'],
  warnings: string[],
): ExperimentReport => ({
  analysis,
  at: options.at.toISOString(),
  start: spec.start.toISOString(),
  environments: [...spec.environments],
  windows,
  warnings,
});

/** Reads the exposures and metrics of `spec` from Prometheus and analyses them. */
export async function experimentReport(spec: ExperimentSpec, options: ReportOptions): Promise<ExperimentReport> {
  if (spec.design?.type === 'switchback') return switchbackReport(spec, spec.design, options);
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
    const input: MetricInput = { spec: metricSpecOf(m), values: new Map() };
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
  const strata = strataOfDevices(spec, devices, options, { environmentOf, labelsOf }, warnings);
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
  return reportOf(analysis, spec, options, { analysis: window, prePeriod }, warnings);
}

/** Blocks per range query: an answer of about 1,000 devices x 96 points stays well under the client's size cap. */
const CHUNK_BLOCKS = 96;

/** The report of a switchback experiment (see the head of the file). */
async function switchbackReport(
  spec: ExperimentSpec,
  design: Extract<ReportDesign, { type: 'switchback' }>,
  options: ReportOptions,
): Promise<ExperimentReport> {
  const at = options.at.getTime();
  const start = spec.start.getTime();
  const shape = { block_hours: design.blockHours, washout_minutes: design.washoutMinutes };
  const length = blockMs(shape);
  // the measured part of a block, less the 1 ms before its end where it is read (a range is closed at both ends)
  const window = `${measuredMs(shape) - 1}ms`;
  const { first, last } = measuredBlocks(shape, start, at);
  const warnings: string[] = [];
  const names = new Set(spec.variants.map((v) => v.name));
  const metrics = [spec.primary, ...spec.guardrails];
  const blocks = new Map<string, Map<string, number>>();
  const sums = metrics.map(() => new Map<string, Map<string, { sum: number; n: number }>>());
  const scheduledArms = new Map<string, number>();
  const unexpected = new Map<string, number>();
  const environmentOf = new Map<string, string>();
  const labelsOf = new Map<string, Record<string, string>>();
  const duplicates = metrics.map(() => 0);
  const unlabelled = metrics.map(() => 0);
  const bump = <K>(m: Map<K, number>, k: K, by = 1): void => void m.set(k, (m.get(k) ?? 0) + by);
  let mixed = 0;
  let unknown = 0;
  if (at > start && last >= first) {
    const range = options.prometheus.queryRange?.bind(options.prometheus);
    if (!range)
      throw new GitopsError(
        'prometheus-query-failed',
        `experiment ${spec.name} is a switchback: its report reads blocks with range queries, which this Prometheus client cannot ask`,
        'give a Prometheus URL (--prometheus): its /api/v1/query_range answers them',
      );
    const evalAt = (k: number): number => ((k + 1) * length - 1) / 1000;
    const blockAt = (seconds: number): number => Math.round((seconds * 1000 + 1) / length) - 1;
    for (let k0 = first; k0 <= last; k0 += CHUNK_BLOCKS) {
      const k1 = Math.min(last, k0 + CHUNK_BLOCKS - 1);
      const read = (expr: string) => range(expr, evalAt(k0), evalAt(k1), length / 1000);
      // per device and block: every (variant, phase) it reported in the block's measured part
      const seen = new Map<string, Map<number, Set<string>>>();
      for (const r of await read(exposureQuery(spec, window, ['phase']))) {
        const { device, variant, phase, environment } = r.metric;
        if (device === undefined || variant === undefined) continue;
        if (!names.has(variant)) {
          unknown++;
          continue;
        }
        environmentOf.set(device, environment ?? '');
        labelsOf.set(device, r.metric);
        const perBlock = seen.get(device) ?? new Map<number, Set<string>>();
        seen.set(device, perBlock);
        for (const [t, v] of r.values) {
          if (!(Number(v) > 0)) continue;
          const k = blockAt(t);
          const set = perBlock.get(k) ?? new Set<string>();
          set.add(`${variant}\u0000${phase ?? 'measure'}`);
          perBlock.set(k, set);
        }
      }
      const measured = new Map<string, Map<number, string>>();
      for (const [device, perBlock] of seen)
        for (const [k, set] of perBlock) {
          const [variant, phase] = set.size === 1 ? [...set][0]!.split('\u0000') : [];
          if (variant === undefined || phase !== 'measure') {
            mixed++;
            continue;
          }
          const mine = measured.get(device) ?? new Map<number, string>();
          measured.set(device, mine.set(k, variant));
          const arms = blocks.get(device) ?? new Map<string, number>();
          blocks.set(device, arms);
          bump(arms, variant);
          const scheduled = options.schedule?.(device, k);
          if (scheduled === undefined) continue;
          if (scheduled !== null) bump(scheduledArms, scheduled);
          if (scheduled !== variant) bump(unexpected, device);
        }
      if (measured.size === 0) continue;
      for (const [i, m] of metrics.entries()) {
        const counted = new Set<string>();
        for (const r of await read(withWindow(m.query, window))) {
          const device = r.metric.device;
          if (device === undefined) {
            unlabelled[i]!++;
            continue;
          }
          const mine = measured.get(device);
          if (!mine) continue;
          if (counted.has(device)) {
            duplicates[i]!++;
            continue;
          }
          counted.add(device);
          const perArm = sums[i]!.get(device) ?? new Map<string, { sum: number; n: number }>();
          sums[i]!.set(device, perArm);
          for (const [t, v] of r.values) {
            const arm = mine.get(blockAt(t));
            const x = Number(v);
            if (arm === undefined || !Number.isFinite(x)) continue;
            const acc = perArm.get(arm) ?? { sum: 0, n: 0 };
            perArm.set(arm, { sum: acc.sum + x, n: acc.n + 1 });
          }
        }
      }
    }
  }
  if (unknown > 0) warnings.push(`${unknown} exposure series name a variant the experiment file does not have`);
  if (mixed > 0)
    warnings.push(
      `${mixed} device-block(s) reported the washout or more than one arm in their measured part and are left out`,
    );
  const inputs: SwitchbackMetricInput[] = metrics.map((m, i) => {
    if (duplicates[i]! > 0)
      warnings.push(
        `${m.name}: ${duplicates[i]} extra series of devices already counted (the first is used): aggregate the query by device`,
      );
    if (unlabelled[i]! > 0) warnings.push(`${m.name}: ${unlabelled[i]} series without a device label are left out`);
    const values = new Map<string, Map<string, number>>();
    for (const [device, perArm] of sums[i]!)
      values.set(device, new Map([...perArm].map(([arm, a]) => [arm, a.sum / a.n])));
    return { spec: metricSpecOf(m), values };
  });
  const strata = strataOfDevices(spec, new Set(blocks.keys()), options, { environmentOf, labelsOf }, warnings);
  const analysis = analyseSwitchback({
    experiment: spec.name,
    variants: spec.variants,
    design,
    blocks,
    mixedBlocks: mixed,
    ...(options.schedule ? { scheduled: { arms: scheduledArms, unexpected } } : {}),
    ...(strata ? { strata } : {}),
    primary: inputs[0]!,
    guardrails: inputs.slice(1),
    settings: spec.analysis,
    stop: spec.stop,
    days: (at - start) / DAY_MS,
    status: spec.status,
  });
  return reportOf(analysis, spec, options, { analysis: window, prePeriod: 'none (switchback)' }, warnings);
}
