// gitops experiment report NAME [--format text|markdown|json] --prometheus URL [--prometheus-token-file F]
//   [--root DIR] [--at ISO]: reads experiments/NAME.yaml, the devices' exposures and metrics from
// Prometheus (agent/io/experiment-report.ts), and prints the analysis and its verdict; markdown is
// the evidence table of a pull request. The verdict is printed, not the exit status: 0 whenever the
// report could be made (hold and stop included), 1 or 2 when it could not.

import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { GitopsError } from '../agent/core/errors.js';
import type { QueryMetric, ExperimentSpec } from '../agent/io/experiment-report.js';
import { experimentReport } from '../agent/io/experiment-report.js';
import {
  experimentReportJson,
  formatExperimentReportMarkdown,
  formatExperimentReportText,
} from '../agent/core/format/experiment-report.js';
import { prometheusQuery, readPrometheusToken } from '../agent/io/prometheus-query.js';
import type { PrometheusQuery } from '../agent/io/prometheus-query.js';
import { readRegularFile } from '../agent/io/safe-read.js';
import { EXIT_OK, err, oneOf, out, parse, repoRoot, rootOption } from './cli.js';

const USAGE =
  'gitops experiment report NAME [--format text|markdown|json] --prometheus URL [--prometheus-token-file F] [--root DIR] [--at ISO]';

const OPTIONS = {
  ...rootOption,
  format: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
  prometheus: { type: 'string' },
  'prometheus-token-file': { type: 'string' },
  at: { type: 'string' },
} as const;

const FORMATS = ['text', 'markdown', 'json'] as const;
const MAX_FILE_BYTES = 256 * 1024;

export async function experimentReportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('experiment report', args, OPTIONS, USAGE);
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  if (positionals.length !== 1)
    throw new GitopsError('usage', 'experiment report takes one experiment name', `usage: ${USAGE}`);
  const name = positionals[0]!;
  if (!/^[a-z0-9-]+$/.test(name))
    throw new GitopsError(
      'usage',
      `"${name}" is not an experiment name ([a-z0-9-]+)`,
      'name the file stem of experiments/NAME.yaml',
    );
  if (values.format !== undefined && values.output !== undefined && values.format !== values.output)
    throw new GitopsError(
      'usage',
      `--format ${values.format} and --output ${values.output} disagree`,
      'give one of them',
    );
  const format = oneOf('experiment report', 'format', values.format ?? values.output, FORMATS, 'text');
  if (values.prometheus === undefined)
    throw new GitopsError(
      'usage',
      'experiment report needs --prometheus URL: the devices report there',
      `usage: ${USAGE}`,
    );
  const token = values['prometheus-token-file'];
  if (values.prometheus !== '' && !/^https?:\/\/[^\s]+$/.test(values.prometheus))
    throw new GitopsError(
      'usage',
      `--prometheus ${values.prometheus} is not an http(s) URL`,
      'e.g. --prometheus https://prometheus.example',
    );
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(at.getTime()))
    throw new GitopsError('usage', `--at ${values.at} is not a time`, 'e.g. --at 2026-12-15T00:00:00Z (ISO 8601)');
  const spec = readExperiment(repoRoot(values.root), name);
  // an empty URL (a workflow whose secret is not set) is no telemetry: no data, the verdict holds
  let prometheus: Pick<PrometheusQuery, 'query'>;
  if (values.prometheus === '') {
    err('gitops experiment report: --prometheus is empty: no telemetry, the verdict holds');
    prometheus = { query: () => Promise.resolve([]) };
  } else prometheus = prometheusQuery(values.prometheus, token ? { token: readPrometheusToken(token) } : {});
  const report = await experimentReport(spec, { prometheus, at });
  out(
    format === 'json'
      ? JSON.stringify(experimentReportJson(report), null, 2)
      : format === 'markdown'
        ? formatExperimentReportMarkdown(report)
        : formatExperimentReportText(report),
  );
  return EXIT_OK;
}

// ---- experiments/NAME.yaml, the fields the report reads (the experiment schema checks the whole file) ----

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks the fields of experiments/NAME.yaml that the report needs. */
export function readExperiment(root: string, name: string): ExperimentSpec {
  const file = `experiments/${name}.yaml`;
  const r = readRegularFile(join(root, file), MAX_FILE_BYTES);
  if (!r.ok) {
    if (r.code === 'not-found')
      throw new GitopsError(
        'file-not-found',
        `${file} does not exist in ${root}`,
        'name an experiment of experiments/ (or give --root DIR)',
      );
    throw new GitopsError(
      r.code === 'file-too-large' ? 'file-too-large' : 'file-not-readable',
      `${file} cannot be read (${r.errno ?? r.code})`,
      'check the file',
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(r.bytes.toString('utf8'));
  } catch (e) {
    throw new GitopsError('bad-document', `${file} is not valid YAML: ${(e as Error).message}`, 'fix the YAML syntax');
  }
  return experimentSpecOf(name, doc, file);
}

/** The ExperimentSpec of a parsed experiment file; a missing or wrong field is a bad-document error. */
export function experimentSpecOf(name: string, doc: unknown, file = `experiments/${name}.yaml`): ExperimentSpec {
  const bad = (path: string, what: string): GitopsError =>
    new GitopsError(
      'bad-document',
      `${file}: ${path} ${what}`,
      'fix the experiment file (schemas/experiment.schema.json)',
    );
  if (!isDoc(doc)) throw bad('the document', 'must be a mapping');
  const get = (o: Doc, key: string, path: string): Doc => {
    const v = o[key];
    if (v === undefined) return {};
    if (!isDoc(v)) throw bad(path, 'must be a mapping');
    return v;
  };
  const num = (o: Doc, key: string, path: string, fallback: number, ok: (v: number) => boolean): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'number' || !ok(v)) throw bad(path, `is ${JSON.stringify(v)}: not a valid number here`);
    return v;
  };
  const str = (o: Doc, key: string, path: string): string => {
    const v = o[key];
    if (typeof v !== 'string' || v === '') throw bad(path, 'must be a non-empty string');
    return v;
  };
  const startRaw = doc.start instanceof Date ? doc.start.toISOString() : doc.start;
  const start = typeof startRaw === 'string' ? new Date(startRaw) : new Date(NaN);
  if (Number.isNaN(start.getTime())) throw bad('start', 'must be an ISO 8601 time');
  const environments = doc.environments;
  if (!Array.isArray(environments) || environments.length === 0 || !environments.every((e) => typeof e === 'string'))
    throw bad('environments', 'must list at least one environment');
  const status = doc.status ?? 'running';
  if (status !== 'running' && status !== 'paused') throw bad('status', 'must be running or paused');
  const variants = doc.variants;
  if (!Array.isArray(variants) || variants.length < 2) throw bad('variants', 'must list at least two variants');
  const vs = variants.map((v, i) => {
    if (!isDoc(v)) throw bad(`variants[${i}]`, 'must be a mapping');
    return {
      name: str(v, 'name', `variants[${i}].name`),
      weight: num(v, 'weight', `variants[${i}].weight`, NaN, (w) => w >= 0),
    };
  });
  const strata = doc.strata ?? [];
  if (!Array.isArray(strata) || !strata.every((s) => typeof s === 'string'))
    throw bad('strata', 'must list attribute names');
  const metrics = get(doc, 'metrics', 'metrics');
  const metric = (m: unknown, path: string, guardrail: boolean): QueryMetric => {
    if (!isDoc(m)) throw bad(path, 'must be a mapping with name, query and direction');
    const direction = m.direction;
    if (direction !== 'lower' && direction !== 'higher') throw bad(`${path}.direction`, 'must be lower or higher');
    return {
      name: str(m, 'name', `${path}.name`),
      query: str(m, 'query', `${path}.query`),
      direction,
      ...(guardrail ? { maxRegression: num(m, 'max_regression', `${path}.max_regression`, 0, (v) => v >= 0) } : {}),
    };
  };
  const guardrails = metrics.guardrails ?? [];
  if (!Array.isArray(guardrails)) throw bad('metrics.guardrails', 'must be a list');
  const analysis = get(doc, 'analysis', 'analysis');
  const stop = get(doc, 'stop', 'stop');
  const cuped = analysis.cuped ?? true;
  if (typeof cuped !== 'boolean') throw bad('analysis.cuped', 'must be true or false');
  const noData = stop.no_data ?? 'hold';
  if (noData !== 'hold') throw bad('stop.no_data', 'must be hold');
  const share = (v: number): boolean => v > 0 && v < 1;
  return {
    name,
    environments: environments as string[],
    status,
    start,
    variants: vs,
    strata: strata as string[],
    primary: metric(metrics.primary, 'metrics.primary', false),
    guardrails: guardrails.map((g, i) => metric(g, `metrics.guardrails[${i}]`, true)),
    analysis: {
      alpha: num(analysis, 'alpha', 'analysis.alpha', 0.05, share),
      cuped,
      prePeriodDays: num(
        analysis,
        'pre_period_days',
        'analysis.pre_period_days',
        7,
        (v) => Number.isInteger(v) && v > 0,
      ),
      srmAlpha: num(analysis, 'srm_alpha', 'analysis.srm_alpha', 0.001, share),
    },
    stop: {
      maxDays: num(stop, 'max_days', 'stop.max_days', 28, (v) => v > 0),
      minDevicesPerArm: num(
        stop,
        'min_devices_per_arm',
        'stop.min_devices_per_arm',
        30,
        (v) => Number.isInteger(v) && v >= 1,
      ),
      noData,
    },
  };
}
