// One read of a tuning run's trial summaries from Prometheus (issue 16, `gitops tune report`): what
// every device last reported of each candidate it tried (agent/daemon/tuner.ts registerTunerMetrics),
//   doorbell_tuning_trial{tuning, model, candidate}            the objective's mean over its feasible trials
//   doorbell_tuning_trials{tuning, model, candidate, outcome}   its trials by outcome
// with the device label the telemetry pusher adds, as TrialSummary rows for the pure pooling
// (agent/core/tuning/pool.ts). A device that finished its run stops changing its series, so each
// is read as its last value within a look-back window. Every query goes through the bounded client
// of agent/io/prometheus-query.ts (timeouts, answer cap, coded errors).

import type { TrialSummary } from '../core/tuning/pool.js';
import type { PrometheusQuery, Sample } from './prometheus-query.js';

export const TRIAL_METRIC = 'doorbell_tuning_trial';
export const TRIALS_METRIC = 'doorbell_tuning_trials';

export interface TrialRead {
  summaries: TrialSummary[];
  /** Series left out, for people (no device label, a model the run does not target, a value that is not a number). */
  warnings: string[];
}

export interface TrialReadOptions {
  prometheus: Pick<PrometheusQuery, 'query'>;
  /** Evaluation time (Unix seconds); default now. */
  at?: number;
  /** Look-back of the last value, a PromQL duration (default 30d). */
  window?: string;
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The query of one of the two series of tuning `name`: each device's last value in the window. */
export function trialQuery(metric: typeof TRIAL_METRIC | typeof TRIALS_METRIC, name: string, window: string): string {
  const by = metric === TRIALS_METRIC ? 'device, model, candidate, outcome' : 'device, model, candidate';
  return `max by (${by}) (last_over_time(${metric}{tuning=${quote(name)}}[${window}]))`;
}

/** Reads the trial summaries of tuning `name`, for the models it targets. */
export async function readTrialSummaries(
  tuning: { name: string; hardware_models: readonly string[] },
  o: TrialReadOptions,
): Promise<TrialRead> {
  const window = o.window ?? '30d';
  const models = new Set(tuning.hardware_models);
  let unlabelled = 0;
  let otherModel = 0;
  let notNumber = 0;
  const rows = new Map<string, TrialSummary>();
  const rowOf = (s: Sample): TrialSummary | undefined => {
    const { device, model, candidate } = s.metric;
    if (device === undefined || model === undefined || candidate === undefined) return (unlabelled++, undefined);
    if (!models.has(model)) return (otherModel++, undefined);
    const key = JSON.stringify([model, device, candidate]);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { model, device, candidate, mean: null, trials: 0, failed: 0 }));
    return row;
  };
  const value = (s: Sample): number | undefined => {
    const v = Number(s.value[1]);
    return Number.isFinite(v) ? v : (notNumber++, undefined);
  };
  for (const s of await o.prometheus.query(trialQuery(TRIAL_METRIC, tuning.name, window), o.at)) {
    const v = value(s);
    const row = v === undefined ? undefined : rowOf(s);
    if (row) row.mean = v!;
  }
  for (const s of await o.prometheus.query(trialQuery(TRIALS_METRIC, tuning.name, window), o.at)) {
    const v = value(s);
    const outcome = s.metric.outcome;
    if (v === undefined || v < 0 || outcome === undefined) continue;
    const row = rowOf(s);
    if (!row) continue;
    if (outcome === 'feasible') row.trials += v;
    else row.failed += v;
  }
  // a mean without a feasible trial counted (the counts not scraped yet) still stands for one trial
  for (const row of rows.values()) if (row.mean !== null && row.trials === 0) row.trials = 1;
  const warnings: string[] = [];
  if (unlabelled > 0) warnings.push(`${unlabelled} series without a device, model or candidate label are left out`);
  if (otherModel > 0)
    warnings.push(
      `${otherModel} series of a model the tuning run does not target (${[...models].join(', ')}) are left out`,
    );
  if (notNumber > 0) warnings.push(`${notNumber} series whose value is not a number are left out`);
  // by model, device, candidate (the keys are their JSON triples)
  const summaries = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  return { summaries, warnings };
}
