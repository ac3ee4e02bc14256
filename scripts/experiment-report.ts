// gitops experiment report NAME --prometheus URL [--output text|markdown|json|yaml] [--prometheus-token-file F]
//   [--root DIR] [--at ISO]: the experiment of the working tree (read and schema-checked by
// agent/core/experiments/read.ts, the repository validated), the devices' exposures and metrics
// from Prometheus (agent/io/experiment-report.ts), the SRM check against the assignment the
// repository gives every device (assignFleet) and the strata from the device files; prints the
// analysis and its verdict (a switchback experiment: per block, checked against the schedule the
// repository gives each device, agent/core/experiments/switchback.ts); markdown is the evidence table of a pull request (`conclude` carries it).
// The verdict is printed, not the exit status: 0 whenever the report could be made (hold and stop
// included), 1 or 2 when it could not.

import { GitopsError } from '../agent/core/errors.js';
import { switchbackSchedule } from '../agent/core/experiments/device.js';
import { assignFleet, stratumValue } from '../agent/core/experiments/fleet.js';
import { blockVariant } from '../agent/core/experiments/switchback.js';
import type { Experiment } from '../agent/core/experiments/read.js';
import {
  experimentReportJson,
  formatExperimentReportMarkdown,
  formatExperimentReportText,
} from '../agent/core/format/experiment-report.js';
import type { ExperimentReport } from '../agent/core/format/experiment-report.js';
import type { Repository } from '../agent/core/repo/repository.js';
import { experimentReport, reportSpecOf } from '../agent/io/experiment-report.js';
import { prometheusQuery, readPrometheusToken } from '../agent/io/prometheus-query.js';
import type { PrometheusQuery } from '../agent/io/prometheus-query.js';
import { EXIT_INVALID, EXIT_OK, err, out, outputOf, outputOptions, printData, rootOption } from './cli.js';
import { openExperiment, parseVerbFlags } from './experiment-open.js';

export const REPORT_USAGE =
  'gitops experiment report NAME --prometheus URL [--output text|markdown|json|yaml] [--prometheus-token-file F] [--root DIR] [--at ISO]';

/** The flags of every verb that reads the report (report, conclude). */
export const REPORT_OPTIONS = {
  ...rootOption,
  prometheus: { type: 'string' },
  'prometheus-token-file': { type: 'string' },
  at: { type: 'string' },
} as const;

const FORMATS = ['text', 'markdown', 'json', 'yaml'] as const;

export async function reportVerb(name: string, args: string[]): Promise<number> {
  const values = parseVerbFlags('report', REPORT_USAGE, args, { ...REPORT_OPTIONS, ...outputOptions });
  if (values.help) return (out(`usage: ${REPORT_USAGE}`), EXIT_OK);
  const format = outputOf('experiment report', values, FORMATS, 'text');
  const source = reportSource('report', values, REPORT_USAGE);
  const opened = openExperiment(values.root, name);
  if (!opened) return EXIT_INVALID;
  const report = await readReport(opened.repo, opened.experiment, source);
  printData(format, experimentReportJson(report), () =>
    format === 'markdown' ? formatExperimentReportMarkdown(report) : formatExperimentReportText(report),
  );
  return EXIT_OK;
}

/** Where the report reads from and when: Prometheus (an empty URL is no telemetry) and the analysis time. */
export interface ReportSource {
  prometheus: Pick<PrometheusQuery, 'query' | 'queryRange'>;
  at: Date;
}

/** The --prometheus, --prometheus-token-file and --at of a verb's command line, checked. */
export function reportSource(
  verb: string,
  values: { prometheus?: string | undefined; 'prometheus-token-file'?: string | undefined; at?: string | undefined },
  usage: string,
): ReportSource {
  if (values.prometheus === undefined)
    throw new GitopsError(
      'usage',
      `experiment ${verb} needs --prometheus URL: the devices report there`,
      `usage: ${usage}`,
    );
  if (values.prometheus !== '' && !/^https?:\/\/[^\s]+$/.test(values.prometheus))
    throw new GitopsError(
      'usage',
      `--prometheus ${values.prometheus} is not an http(s) URL`,
      'e.g. --prometheus https://prometheus.example',
    );
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(at.getTime()))
    throw new GitopsError('usage', `--at ${values.at} is not a time`, 'e.g. --at 2026-12-15T00:00:00Z (ISO 8601)');
  // an empty URL (a workflow whose secret is not set) is no telemetry: no data, the verdict holds
  if (values.prometheus === '') {
    err(`gitops experiment ${verb}: --prometheus is empty: no telemetry, the verdict holds`);
    return { prometheus: { query: () => Promise.resolve([]), queryRange: () => Promise.resolve([]) }, at };
  }
  const token = values['prometheus-token-file'];
  return { prometheus: prometheusQuery(values.prometheus, token ? { token: readPrometheusToken(token) } : {}), at };
}

/**
 * The report of experiment `e`: the SRM check against the arm the repository assigns every device
 * of its environments, and the strata from the device files (hardware model, cohort, labels).
 */
export function readReport(repo: Repository, e: Experiment, source: ReportSource): Promise<ExperimentReport> {
  const fleet = assignFleet(repo, e).devices;
  const expected = new Map(fleet.map((d) => [d.device, d.variant]));
  const environmentOf = new Map(fleet.map((d) => [d.device, d.environment]));
  const strataOf = (device: string): Record<string, string> | undefined => {
    const env = environmentOf.get(device);
    // a device the repository does not have: the strata labels of its exposure, where it has them
    if (env === undefined) return undefined;
    return Object.fromEntries(e.strata.map((s) => [s, stratumValue(repo, env, device, s)]));
  };
  // switchback: the arm the schedule gives a device the repository has in block k (null: not in)
  const schedules = new Map(
    fleet.map((d) => [d.device, d.in_experiment ? switchbackSchedule(e, d.device) : undefined]),
  );
  const schedule = (device: string, block: number): string | null | undefined => {
    if (!schedules.has(device)) return undefined;
    const s = schedules.get(device);
    return s ? s.variants[blockVariant(s, device, block)]!.name : null;
  };
  return experimentReport(reportSpecOf(e), {
    prometheus: source.prometheus,
    at: source.at,
    expected,
    strataOf,
    ...(e.design.type === 'switchback' ? { schedule } : {}),
  });
}
