// gitops tune VERB NAME ...: the tuning runs of the repository (tuning/<name>.yaml, issue 16 item 5).
//   report NAME --prometheus URL [--output text|json|yaml|markdown] [--window D] [--prometheus-token-file F] [--root DIR]:
//     the devices' trial summaries (agent/io/tune-report.ts) pooled per hardware model
//     (agent/core/tuning/pool.ts): each candidate's device-adjusted estimate, its interval, the best
//     where enough devices tried it. Exit 0 whenever the report could be made (no best included).
//     --format and --json are aliases of --output (scripts/cli.ts outputOf).
//   propose NAME --model M --prometheus URL [--candidate C] [--remote R] [--base BRANCH] [--repo OWNER/NAME]
//     [--title T] [--draft] [--dry-run] [--window D] [--prometheus-token-file F] [--root DIR]:
//     the pull request that writes the model's pooled best (or --candidate) into the device files of
//     that model in the run's environments (agent/core/tuning/propose.ts says why there), with the
//     evidence table as its body; refused (tuning-no-best) without a pooled best unless --candidate;
//     the result must validate; --dry-run prints the change and the body and touches nothing.

import { GitopsError } from '../agent/core/errors.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { formatDiffMarkdown } from '../agent/core/format/diff.js';
import { closest } from '../agent/core/format/suggest.js';
import type { Repository } from '../agent/core/repo/repository.js';
import { poolTrials } from '../agent/core/tuning/pool.js';
import type { PooledModel } from '../agent/core/tuning/pool.js';
import { modelTargets, parseCandidate, proposeTuning, tuningProposalBody } from '../agent/core/tuning/propose.js';
import { listTuningFiles, parseTuningFile, tuningFile, tuningValidator } from '../agent/core/tuning/spec.js';
import type { Tuning } from '../agent/core/tuning/types.js';
import { validateOpened } from '../agent/core/validate/validate.js';
import { prometheusQuery, readPrometheusToken } from '../agent/io/prometheus-query.js';
import type { PrometheusQuery } from '../agent/io/prometheus-query.js';
import { readTrialSummaries } from '../agent/io/tune-report.js';
import type { Options } from './cli.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  err,
  openTree,
  out,
  outputOf,
  outputOptions,
  parse,
  printData,
  rootOption,
  useColor,
} from './cli.js';
import { PULL_REQUEST_OPTIONS, proposeFiles } from './pull-request.js';

const USAGE = {
  report:
    'gitops tune report NAME --prometheus URL [--output text|json|yaml|markdown] [--window D] [--prometheus-token-file F] [--root DIR]',
  propose:
    'gitops tune propose NAME --model M --prometheus URL [--candidate C] [--remote R] [--base BRANCH] [--repo OWNER/NAME] ' +
    '[--title T] [--draft] [--dry-run] [--window D] [--prometheus-token-file F] [--root DIR]',
} as const;
type VerbName = keyof typeof USAGE;

const SOURCE_OPTIONS = {
  ...rootOption,
  prometheus: { type: 'string' },
  'prometheus-token-file': { type: 'string' },
  window: { type: 'string' },
} as const;

const EXAMPLES = [
  'examples:',
  '  gitops tune report person-detector --prometheus https://prometheus.example --output markdown',
  '  gitops tune propose person-detector --model rpi4-camv2 --prometheus https://prometheus.example --dry-run',
  '  gitops tune propose person-detector --model rpi4-camv2 --prometheus https://prometheus.example \\',
  '    --candidate detectors.person.input_size=320,detectors.person.frame_interval=2',
].join('\n');

const usage = (): string => Object.values(USAGE).join('\n       ');

export async function tuneCommand(args: string[]): Promise<number> {
  const [verb, name, ...rest] = args;
  if (verb === '--help' || verb === '-h') return (out(`usage: ${usage()}\n\n${EXAMPLES}`), EXIT_OK);
  if (verb === undefined) throw new GitopsError('usage', 'tune needs a subcommand', `usage: ${usage()}`);
  if (!Object.hasOwn(USAGE, verb)) {
    const guess = closest(verb, Object.keys(USAGE));
    throw new GitopsError(
      'usage',
      `unknown tune subcommand "${verb}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `usage: ${usage()}`,
    );
  }
  const v = verb as VerbName;
  if (name === '--help' || name === '-h') return (out(`usage: ${USAGE[v]}\n\n${EXAMPLES}`), EXIT_OK);
  if (name === undefined || name.startsWith('-'))
    throw new GitopsError('usage', `tune ${v} needs the tuning run's NAME`, `usage: ${USAGE[v]}`);
  return v === 'report' ? reportVerb(name, rest) : proposeVerb(name, rest);
}

function parseVerb<T extends Options>(verb: VerbName, args: string[], options: T) {
  const parsed = parse(`tune ${verb}`, args, options, USAGE[verb]);
  if (parsed.positionals.length > 0)
    throw new GitopsError(
      'usage',
      `tune ${verb} takes one NAME, got also "${parsed.positionals.join(' ')}"`,
      `usage: ${USAGE[verb]}`,
    );
  return parsed.values;
}

/** The Prometheus to read (an empty URL: no telemetry, nothing pooled) from --prometheus and its token file. */
function prometheusOf(
  verb: VerbName,
  values: {
    prometheus?: string | undefined;
    'prometheus-token-file'?: string | undefined;
    window?: string | undefined;
  },
): Pick<PrometheusQuery, 'query'> {
  if (values.prometheus === undefined)
    throw new GitopsError(
      'usage',
      `tune ${verb} needs --prometheus URL: the devices report there`,
      `usage: ${USAGE[verb]}`,
    );
  if (values.prometheus !== '' && !/^https?:\/\/[^\s]+$/.test(values.prometheus))
    throw new GitopsError(
      'usage',
      `--prometheus ${values.prometheus} is not an http(s) URL`,
      'e.g. --prometheus https://prometheus.example',
    );
  if (values.window !== undefined && !/^[1-9][0-9]*[smhdwy]$/.test(values.window))
    throw new GitopsError(
      'usage',
      `--window ${values.window} is not a duration`,
      'e.g. --window 30d (a PromQL duration)',
    );
  if (values.prometheus === '') {
    err(`gitops tune ${verb}: --prometheus is empty: no telemetry, nothing to pool`);
    return { query: () => Promise.resolve([]) };
  }
  const token = values['prometheus-token-file'];
  return prometheusQuery(values.prometheus, token ? { token: readPrometheusToken(token) } : {});
}

/** The tuning run NAME of the working tree, when the repository validates; else its errors are printed (exit 1). */
function openTuning(root: unknown, name: string): { root: string; repo: Repository; tuning: Tuning } | undefined {
  const { root: dir, repo } = openTree(root);
  const files = listTuningFiles(repo.files);
  const file = files.find((f) => f === tuningFile(name) || f === `tuning/${name}.yml`);
  if (!file) {
    const names = files.map((f) => f.replace(/^tuning\//, '').replace(/\.ya?ml$/, ''));
    const guess = closest(name, names);
    throw new GitopsError(
      'unknown-tuning',
      `there is no tuning run "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      names.length > 0 ? `tuning runs: ${names.join(', ')}` : `create ${tuningFile(name)}`,
    );
  }
  const parsed = parseTuningFile(file, repo.files.get(file)!, tuningValidator(repo));
  const report = validateOpened(repo, parsed.tuning?.environments ? { environments: parsed.tuning.environments } : {});
  const errors = [...parsed.diagnostics, ...report.diagnostics].filter((d) => d.severity === 'error');
  if (!parsed.tuning || errors.length > 0) {
    err(formatText(errors, useColor()));
    err(`\nthe repository does not validate: fix the errors above (gitops validate)`);
    return undefined;
  }
  return { root: dir, repo, tuning: parsed.tuning };
}

interface TuneReport {
  tuning: Tuning;
  /** Every model the run targets, pooled; undefined where no device of it reported. */
  models: Array<{ model: string; pooled: PooledModel | undefined }>;
  warnings: string[];
}

async function readReport(
  tuning: Tuning,
  prometheus: Pick<PrometheusQuery, 'query'>,
  window?: string,
): Promise<TuneReport> {
  const read = await readTrialSummaries(tuning, { prometheus, ...(window ? { window } : {}) });
  const pooled = poolTrials(read.summaries, { direction: tuning.objective.direction });
  return {
    tuning,
    models: tuning.hardware_models.map((model) => ({ model, pooled: pooled.find((p) => p.model === model) })),
    warnings: read.warnings,
  };
}

const NO_TRIALS = 'no trials reported: hold';

/** What `tune report --output json` prints (schemas/cli/tune-report.output.json): what the text shows. */
function tuneReportJson(r: TuneReport): Record<string, unknown> {
  const { tuning } = r;
  return {
    tuning: tuning.name,
    objective: { metric: tuning.objective.metric, direction: tuning.objective.direction },
    models: r.models.map(({ model, pooled }) => ({
      model,
      best: pooled?.best?.candidate ?? null,
      verdict: pooled?.verdict ?? NO_TRIALS,
      candidates: pooled?.candidates ?? [],
    })),
    warnings: r.warnings,
  };
}

function formatReport(r: TuneReport, format: 'text' | 'markdown'): string {
  const { tuning } = r;
  const head = `tuning ${tuning.name}: ${tuning.objective.direction} ${tuning.objective.metric}`;
  const lines = format === 'markdown' ? [`### ${head}`, ''] : [head, ''];
  for (const { model, pooled } of r.models) {
    lines.push(format === 'markdown' ? `#### ${model}` : `${model}: ${pooled?.verdict ?? NO_TRIALS}`, '');
    if (format === 'markdown') lines.push(pooled?.verdict ?? NO_TRIALS, '');
    if (pooled) lines.push(format === 'markdown' ? pooled.table : textTable(pooled), '');
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n').trimEnd();
}

/** The pooled candidates as aligned columns (the same rows as the Markdown table). */
function textTable(p: PooledModel): string {
  const rows = p.table
    .split('\n')
    .filter((l, i) => i !== 1)
    .map((l) =>
      l
        .replace(/^\| | \|$/g, '')
        .split(' | ')
        .map((c) => c.trim()),
    );
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => `  ${c.padEnd(widths[i]!)}`)
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

async function reportVerb(name: string, args: string[]): Promise<number> {
  const values = parseVerb('report', args, { ...SOURCE_OPTIONS, ...outputOptions });
  if (values.help) return (out(`usage: ${USAGE.report}\n\n${EXAMPLES}`), EXIT_OK);
  const format = outputOf('tune report', values, ['text', 'json', 'yaml', 'markdown'] as const, 'text');
  const prometheus = prometheusOf('report', values);
  const opened = openTuning(values.root, name);
  if (!opened) return EXIT_INVALID;
  const report = await readReport(opened.tuning, prometheus, values.window);
  printData(format, tuneReportJson(report), () => formatReport(report, format === 'markdown' ? 'markdown' : 'text'));
  return EXIT_OK;
}

async function proposeVerb(name: string, args: string[]): Promise<number> {
  const values = parseVerb('propose', args, {
    ...SOURCE_OPTIONS,
    model: { type: 'string', short: 'm' },
    candidate: { type: 'string' },
    ...PULL_REQUEST_OPTIONS,
  });
  if (values.help) return (out(`usage: ${USAGE.propose}\n\n${EXAMPLES}`), EXIT_OK);
  if (values.model === undefined || values.model === '')
    throw new GitopsError(
      'usage',
      'tune propose needs --model M: the hardware model to configure',
      `usage: ${USAGE.propose}`,
    );
  if (values.repo !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(values.repo))
    throw new GitopsError('usage', `--repo ${values.repo} is not OWNER/NAME`, 'e.g. --repo fleet/config');
  const prometheus = prometheusOf('propose', values);
  const opened = openTuning(values.root, name);
  if (!opened) return EXIT_INVALID;
  const { root, repo, tuning } = opened;
  const model = values.model;
  // the model is checked (and a candidate parsed) before Prometheus is asked
  modelTargets(repo, tuning, model);
  if (values.candidate !== undefined) parseCandidate(tuning, values.candidate);
  const report = await readReport(tuning, prometheus, values.window);
  const pooled = report.models.find((m) => m.model === model)?.pooled;
  const candidate = values.candidate ?? pooled?.best?.candidate;
  if (candidate === undefined)
    throw new GitopsError(
      'tuning-no-best',
      `the pooled trials of tuning ${name} name no best candidate for ${model}: ${pooled?.verdict ?? NO_TRIALS}`,
      `wait until gitops tune report ${name} names a best for ${model}, or give --candidate C (the pull request then says so)`,
    );
  const proposal = proposeTuning(repo, tuning, model, candidate);
  if (proposal.written.length === 0) {
    out(`every ${model} device of tuning ${name} has ${candidate} already: nothing to propose`);
    return EXIT_OK;
  }
  return proposeFiles({
    root,
    before: repo.files,
    after: proposal.files,
    written: proposal.written,
    environments: tuning.environments ?? repo.environments(),
    what: 'the proposal',
    title: values.title ?? `tuning ${name}: ${candidate} for ${model}`,
    body: (diff) => tuningProposalBody(tuning, proposal, pooled, formatDiffMarkdown(diff)),
    branchPrefix: `tuning/${name}-${model}`,
    dryRun: values['dry-run'] === true,
    remote: values.remote ?? 'origin',
    base: values.base,
    repo: values.repo,
    draft: values.draft === true,
  });
}
