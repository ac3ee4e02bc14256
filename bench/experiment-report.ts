// The experiment report for 1,000 devices (issue 16): the pure analysis (two arms, a primary metric
// and two guardrails, CUPED, four strata, the assignment for SRM) in process; then the whole report
// through a real Prometheus (devtools/prometheus-server.ts) holding those devices' series, pushed
// by remote write: the exposure query, three metric queries and their pre-period.

import { analyseExperiment } from '../agent/core/experiments/analysis.js';
import type { ExperimentInput } from '../agent/core/experiments/analysis.js';
import { experimentReport } from '../agent/io/experiment-report.js';
import type { ExperimentSpec } from '../agent/io/experiment-report.js';
import { prometheusQuery } from '../agent/io/prometheus-query.js';
import { encodeWriteRequest, pushWriteRequest } from '../agent/io/remote-write.js';
import type { TimeSeries } from '../agent/io/remote-write.js';
import { startPrometheus } from '../devtools/prometheus-server.js';
import { median, timeInProcess } from './measure.js';
import type { Row } from './measure.js';

const DEVICES = 1000;
const METRICS = ['doorbell_pipeline_cpu_ratio', 'doorbell_detector_latency_p95_ms', 'doorbell_false_positive_ratio'];
/** A fixed spread, the same every run. */
const spread = (i: number, k: number): number => Math.sin(i * 12.9898 + k * 78.233);
const arm = (i: number): string => (i % 2 ? 'low' : 'control');

function input(): ExperimentInput {
  const arms = new Map<string, string>();
  const strata = new Map<string, string>();
  const metrics = METRICS.map(() => ({ values: new Map<string, number>(), pre: new Map<string, number>() }));
  for (let i = 0; i < DEVICES; i++) {
    const d = `dev-${i}`;
    arms.set(d, arm(i));
    strata.set(d, `hardware_model=m${i % 4}`);
    metrics.forEach((m, k) => {
      const level = 1 + 0.2 * spread(i, k);
      m.pre.set(d, level + 0.02 * spread(i, k + 10));
      m.values.set(d, level + 0.02 * spread(i, k + 20) - (k === 0 && arm(i) === 'low' ? 0.05 : 0));
    });
  }
  const [cpu, lat, fp] = metrics;
  return {
    experiment: 'bench',
    variants: [
      { name: 'control', weight: 0.5 },
      { name: 'low', weight: 0.5 },
    ],
    arms,
    expected: new Map(arms),
    strata,
    primary: { spec: { name: 'cpu', direction: 'lower' }, ...cpu! },
    guardrails: [
      { spec: { name: 'latency', direction: 'lower', maxRegression: 0.05 }, ...lat! },
      { spec: { name: 'false_positives', direction: 'lower', maxRegression: 0.1 }, ...fp! },
    ],
    settings: { alpha: 0.05, cuped: true, prePeriodDays: 7, srmAlpha: 0.001 },
    stop: { maxDays: 28, minDevicesPerArm: 30, noData: 'hold' },
    days: 14,
  };
}

function fleetSeries(now: number): TimeSeries[] {
  const MIN = 60_000;
  const pre = [45, 40, 35].map((m) => now - m * MIN);
  const post = [20, 10, 1].map((m) => now - m * MIN);
  const out: TimeSeries[] = [];
  const series = (labels: Record<string, string>, samples: Array<[number, number]>): TimeSeries => ({
    labels: Object.keys(labels)
      .sort()
      .map((name) => ({ name, value: labels[name]! })),
    samples: samples.map(([timestamp, value]) => ({ timestamp, value })),
  });
  for (let i = 0; i < DEVICES; i++) {
    const base = { device: `dev-${i}`, environment: 'production', job: 'doorbell-agent', instance: `dev-${i}` };
    out.push(
      series(
        { ...base, __name__: 'doorbell_experiment_exposure', experiment: 'bench', variant: arm(i) },
        post.map((t) => [t, 1]),
      ),
    );
    METRICS.forEach((name, k) =>
      out.push(
        series(
          { ...base, __name__: name },
          [...pre, ...post].map((t, j) => [t, 1 + 0.2 * spread(i, k) + 0.02 * spread(i, k + j + 10)]),
        ),
      ),
    );
  }
  return out;
}

export async function benchExperimentReport(): Promise<Row[]> {
  const group = 'experiments';
  const rows: Row[] = [];
  const data = input();
  const analysis = timeInProcess(() => void analyseExperiment(data), 50, 5);
  rows.push({
    group,
    name: `report analysis, ${DEVICES} devices (2 arms, 3 metrics, CUPED, 4 strata)`,
    value: analysis,
    unit: 'ms',
    target: '< 100 ms',
    pass: analysis < 100,
  });
  const prom = await startPrometheus();
  try {
    const now = Date.now();
    const push = await pushWriteRequest({
      url: prom.writeUrl,
      body: encodeWriteRequest(fleetSeries(now)),
      timeoutMs: 60_000,
    });
    if (!push.ok) throw new Error(`the bench could not push its series: ${push.reason}`);
    const spec: ExperimentSpec = {
      name: 'bench',
      environments: ['production'],
      status: 'running',
      start: new Date(now - 30 * 60_000),
      variants: data.variants,
      strata: [],
      primary: { name: 'cpu', query: `avg_over_time(${METRICS[0]}[$window])`, direction: 'lower' },
      guardrails: METRICS.slice(1).map((m, k) => ({
        name: m,
        query: `max_over_time(${m}[$window])`,
        direction: 'lower' as const,
        maxRegression: 0.05 * (k + 1),
      })),
      analysis: data.settings,
      stop: data.stop,
    };
    const q = prometheusQuery(prom.url);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const r = await experimentReport(spec, { prometheus: q, at: new Date(now) });
      times.push(performance.now() - t0);
      if (r.analysis.exposure.arms.reduce((s, a) => s + a.devices, 0) !== DEVICES)
        throw new Error('the bench report did not see every device');
    }
    const through = median(times.slice(1));
    rows.push({
      group,
      name: `report through Prometheus, ${DEVICES} devices (7 queries)`,
      value: through,
      unit: 'ms',
      target: '< 2000 ms',
      pass: through < 2000,
    });
  } finally {
    await prom.close();
  }
  return rows;
}
