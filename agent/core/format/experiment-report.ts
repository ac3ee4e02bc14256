// What `gitops experiment report` prints (issue 16): the analysis of agent/core/experiments/analysis.ts
// as text for a terminal, as markdown (a pull request's evidence table: `conclude` carries it), and
// as JSON (schemas/experiment-report.schema.json describes it; numbers that are not finite are null).

import type { ArmStats, Comparison, ExperimentAnalysis, MetricResult, StratumResult } from '../experiments/analysis.js';

/** One read of an experiment: the analysis, and where and when its data came from. */
export interface ExperimentReport {
  analysis: ExperimentAnalysis;
  /** The analysis time and the start of the experiment (ISO 8601). */
  at: string;
  start: string;
  environments: string[];
  /** The `$window` of the metric queries: the analysis window (start..at) and the pre-period. */
  windows: { analysis: string; prePeriod: string };
  /** What the data looked like that the analysis left aside (series without a device label, duplicates). */
  warnings: string[];
}

const num = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;
const pair = (v: [number, number] | null): [number | null, number | null] | null => (v ? [num(v[0]), num(v[1])] : null);

const armJson = (a: ArmStats) => ({
  variant: a.variant,
  n: a.n,
  mean: num(a.mean),
  variance: num(a.variance),
  adjusted_mean: num(a.adjustedMean),
});

const comparisonJson = (c: Comparison) => ({
  variant: c.variant,
  difference: num(c.difference),
  ci: pair(c.ci),
  relative: num(c.relative),
  relative_ci: pair(c.relativeCi),
  se: num(c.se),
  multiplier: num(c.multiplier),
  p_value: num(c.pValue),
  significance: c.significance,
  mde: num(c.mde),
  relative_mde: num(c.relativeMde),
  guardrail: c.guardrail ?? null,
});

const stratumJson = (s: StratumResult) => ({
  stratum: s.stratum,
  arms: s.arms.map(armJson),
  comparisons: s.comparisons.map(comparisonJson),
});

const metricJson = (m: MetricResult) => ({
  name: m.name,
  role: m.role,
  direction: m.direction,
  max_regression: num(m.maxRegression),
  cuped: {
    applied: m.cuped.applied,
    theta: num(m.cuped.theta),
    devices_with_pre: m.cuped.devicesWithPre,
    variance_reduction: num(m.cuped.varianceReduction),
    reason: m.cuped.reason ?? null,
  },
  arms: m.arms.map(armJson),
  comparisons: m.comparisons.map(comparisonJson),
  strata: m.strata.map(stratumJson),
});

/** What `--format json` prints: exactly these keys (schemas/experiment-report.schema.json). */
export function experimentReportJson(r: ExperimentReport) {
  const a = r.analysis;
  return {
    version: 1 as const,
    experiment: a.experiment,
    design:
      a.design.type === 'switchback'
        ? {
            type: a.design.type,
            block_hours: a.design.blockHours,
            washout_minutes: a.design.washoutMinutes,
            measured_blocks: a.design.measuredBlocks,
            mixed_blocks: a.design.mixedBlocks,
          }
        : { type: a.design.type },
    at: r.at,
    start: r.start,
    days: num(a.days),
    environments: r.environments,
    control: a.control,
    method: a.method,
    alpha: a.alpha,
    sequential_tuning: a.sequentialTuning,
    windows: { analysis: r.windows.analysis, pre_period: r.windows.prePeriod },
    verdict: {
      decision: a.verdict.decision,
      code: a.verdict.code,
      variant: a.verdict.variant ?? null,
      reason: a.verdict.reason,
    },
    exposure: {
      arms: a.exposure.arms.map((x) => ({
        variant: x.variant,
        weight: x.weight,
        devices: x.devices,
        ...(x.blocks !== undefined ? { blocks: x.blocks } : {}),
        expected_share: x.expectedShare,
        observed_share: x.observedShare,
      })),
      srm: a.exposure.srm
        ? {
            expected_from: a.exposure.srm.expectedFrom,
            chi2: num(a.exposure.srm.chi2),
            df: a.exposure.srm.df,
            p_value: a.exposure.srm.pValue,
            alpha: a.exposure.srm.alpha,
            failed: a.exposure.srm.failed,
          }
        : null,
      multiple_exposures: a.exposure.multipleExposures,
      unexpected: a.exposure.unexpected,
      unexpected_devices: a.exposure.unexpectedDevices,
    },
    metrics: [a.primary, ...a.guardrails].map(metricJson),
    warnings: r.warnings,
  };
}

export type ExperimentReportJson = ReturnType<typeof experimentReportJson>;

// ---- numbers for people ----

/** Four significant digits, no exponent for everyday magnitudes. */
export function fmtNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

const pct = (v: number | null | undefined, sign = true): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '-'
    : `${sign && v > 0 ? '+' : ''}${(v * 100).toFixed(Math.abs(v) < 0.1 ? 2 : 1)} %`;
const signed = (v: number | null | undefined): string =>
  v !== null && v !== undefined && v > 0 ? `+${fmtNumber(v)}` : fmtNumber(v);
const interval = (v: [number, number] | null, f: (x: number) => string): string =>
  v ? `${f(v[0])} to ${f(v[1])}` : '-';
const pValue = (p: number | null | undefined): string =>
  p === null || p === undefined ? '-' : p < 0.0001 ? '< 0.0001' : fmtNumber(p);

const DECISION: Record<ExperimentAnalysis['verdict']['decision'], string> = {
  continue: 'continue',
  ship: 'ship',
  'stop-harm': 'stop (harm)',
  'stop-inconclusive': 'stop (inconclusive)',
  hold: 'hold',
};

function headline(r: ExperimentReport): string {
  const v = r.analysis.verdict;
  return `${DECISION[v.decision]}${v.decision === 'ship' && v.variant ? ` ${v.variant}` : ''}`;
}

const status = (m: MetricResult, c: Comparison): string =>
  m.role === 'guardrail'
    ? `${c.guardrail ?? '-'} (allowed ${pct(m.maxRegression, false)} worse)`
    : (c.significance ?? 'not significant');

/** The rows of a metric: one per arm, the treatments with their comparison. */
function metricRows(m: MetricResult, control: string, arms = m.arms, comparisons = m.comparisons): string[][] {
  return arms.map((a) => {
    const c = comparisons.find((x) => x.variant === a.variant);
    const mean =
      a.adjustedMean !== null && a.adjustedMean !== a.mean
        ? `${fmtNumber(a.mean)} (${fmtNumber(a.adjustedMean)} adj.)`
        : fmtNumber(a.mean);
    if (!c) return [a.variant, String(a.n), mean, a.variant === control ? '(control)' : '-', '', '', '', '', ''];
    return [
      a.variant,
      String(a.n),
      mean,
      signed(c.difference),
      interval(c.ci, signed),
      `${pct(c.relative)} (${interval(c.relativeCi, (x) => pct(x))})`,
      pValue(c.pValue),
      `${fmtNumber(c.mde)} (${pct(c.relativeMde, false)})`,
      status(m, c),
    ];
  });
}

const cupedLine = (m: MetricResult): string =>
  m.cuped.applied
    ? `CUPED on: theta ${fmtNumber(m.cuped.theta)}, variance ${m.cuped.varianceReduction === null ? '-' : `-${pct(m.cuped.varianceReduction, false)}`}, ` +
      `${m.cuped.devicesWithPre} devices with a pre-period value`
    : `CUPED off: ${m.cuped.reason ?? 'no pre-period values'}`;

const METRIC_HEAD = ['ARM', 'N', 'MEAN', 'DIFF', 'INTERVAL', 'RELATIVE (INTERVAL)', 'P', 'MDE 80 %', 'STATUS'];

function srmLine(a: ExperimentAnalysis): string {
  const s = a.exposure.srm;
  if (!s) return 'sample ratio: no devices';
  return (
    `sample ratio (against the ${s.expectedFrom}): chi-square ${fmtNumber(s.chi2)}, df ${s.df}, p ${pValue(s.pValue)}: ` +
    `${s.failed ? `MISMATCH (p < ${s.alpha})` : `ok (alpha ${s.alpha})`}`
  );
}

function notes(r: ExperimentReport): string[] {
  const a = r.analysis;
  const out: string[] = [];
  if (a.exposure.multipleExposures > 0)
    out.push(`${a.exposure.multipleExposures} device(s) reported more than one variant and are left out`);
  if (a.exposure.unexpected > 0)
    out.push(
      `${a.exposure.unexpected} device(s) reported an arm other than their assignment: ${a.exposure.unexpectedDevices.join(', ')}` +
        `${a.exposure.unexpected > a.exposure.unexpectedDevices.length ? ', ...' : ''}`,
    );
  return [...out, ...r.warnings];
}

/** How the arms were compared. */
function designLine(a: ExperimentAnalysis): string {
  const d = a.design;
  return d.type === 'switchback'
    ? `switchback design: ${d.blockHours} h blocks, ${d.washoutMinutes} min washout after a switch left out; ` +
        `each device its own control (${d.measuredBlocks} measured device-blocks${d.mixedBlocks > 0 ? `, ${d.mixedBlocks} left out` : ''})`
    : 'between design: each device in one arm';
}

const about = (r: ExperimentReport): string =>
  `${designLine(r.analysis)}; day ${fmtNumber(r.analysis.days)} (since ${r.start}, read at ${r.at}); environments ${r.environments.join(', ') || '-'}; ` +
  `alpha ${r.analysis.alpha}, always-valid intervals (asymptotic confidence sequence, N* ${r.analysis.sequentialTuning})`;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** For a terminal. */
export function formatExperimentReportText(r: ExperimentReport): string {
  const a = r.analysis;
  const lines = [`experiment ${a.experiment}: ${headline(r)}`, `  ${a.verdict.reason}`, about(r), ''];
  const blocks = a.design.type === 'switchback';
  lines.push(
    ...table([
      ['ARM', 'WEIGHT', 'DEVICES', ...(blocks ? ['BLOCKS'] : []), 'SHARE', 'EXPECTED'],
      ...a.exposure.arms.map((x) => [
        x.variant,
        fmtNumber(x.weight),
        String(x.devices),
        ...(blocks ? [String(x.blocks ?? 0)] : []),
        pct(x.observedShare, false),
        pct(x.expectedShare, false),
      ]),
    ]),
    srmLine(a),
  );
  for (const m of [a.primary, ...a.guardrails]) {
    lines.push(
      '',
      `${m.role} ${m.name} (${m.direction} is better)`,
      ...table([METRIC_HEAD, ...metricRows(m, a.control)]),
      cupedLine(m),
    );
    for (const s of m.strata)
      lines.push(
        `  stratum ${s.stratum}`,
        ...table([METRIC_HEAD, ...metricRows(m, a.control, s.arms, s.comparisons)]).map((l) => `    ${l}`),
      );
  }
  const n = notes(r);
  if (n.length > 0) lines.push('', ...n.map((x) => `note: ${x}`));
  return lines.join('\n');
}

const md = (s: string): string => s.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`);
const mdRow = (cells: readonly string[]): string => `| ${cells.map((c) => c || ' ').join(' | ')} |`;

/** A pull request's evidence: the verdict, the exposure and SRM check, and a table per metric. */
export function formatExperimentReportMarkdown(r: ExperimentReport): string {
  const a = r.analysis;
  const switchback = a.design.type === 'switchback';
  const lines = [
    `### Experiment \`${a.experiment}\`: **${headline(r)}**`,
    '',
    `> ${md(a.verdict.reason)}`,
    '',
    md(about(r)[0]!.toUpperCase() + about(r).slice(1)) + '.',
    '',
    mdRow(['Arm', 'Weight', 'Devices', ...(switchback ? ['Blocks'] : []), 'Share', 'Expected share']),
    mdRow(['---', '---:', '---:', ...(switchback ? ['---:'] : []), '---:', '---:']),
    ...a.exposure.arms.map((x) =>
      mdRow([
        `\`${x.variant}\``,
        fmtNumber(x.weight),
        String(x.devices),
        ...(switchback ? [String(x.blocks ?? 0)] : []),
        pct(x.observedShare, false),
        pct(x.expectedShare, false),
      ]),
    ),
    '',
    md(srmLine(a)[0]!.toUpperCase() + srmLine(a).slice(1)) + '.',
  ];
  const head = [
    'Arm',
    'n',
    'Mean',
    'Difference',
    'Interval',
    'Relative (interval)',
    'p (always valid)',
    'MDE at 80 % power',
    'Status',
  ];
  const align = ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---'];
  for (const m of [a.primary, ...a.guardrails]) {
    lines.push(
      '',
      `#### ${m.role === 'primary' ? 'Primary' : 'Guardrail'}: \`${m.name}\` (${m.direction} is better)`,
      '',
      mdRow(head),
      mdRow(align),
      ...metricRows(m, a.control).map((row) => mdRow([`\`${row[0]}\``, ...row.slice(1).map(md)])),
      '',
      md(cupedLine(m)) + '.',
    );
    if (m.strata.length > 0) {
      lines.push('', `By stratum (${md(m.name)}):`, '', mdRow(['Stratum', ...head]), mdRow(['---', ...align]));
      for (const s of m.strata)
        for (const row of metricRows(m, a.control, s.arms, s.comparisons))
          lines.push(mdRow([md(s.stratum), `\`${row[0]}\``, ...row.slice(1).map(md)]));
    }
  }
  const n = notes(r);
  if (n.length > 0) lines.push('', ...n.map((x) => `- ${md(x)}`));
  return lines.join('\n') + '\n';
}
