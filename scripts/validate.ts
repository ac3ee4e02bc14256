// gitops validate [--env E]... [--device D]... [--hardware-profile FILE] [--output text|json|yaml|github] [--summary]

import { parse as parseYaml } from 'yaml';
import type { HardwareProfile } from '../agent/core/config/types.js';
import type { DiagnosticFormat } from '../agent/core/format/diagnostics.js';
import { summariseTarget } from '../agent/core/format/summary.js';
import { countSeverities } from '../agent/core/format/diagnostics.js';
import { rolloutSummaryLine } from '../agent/core/format/rollout.js';
import { environmentPlan } from '../agent/core/rollout/check.js';
import { experimentSummaryLines } from '../agent/core/experiments/fleet.js';
import { validateOpened } from '../agent/core/validate/validate.js';
import type { ValidationReport } from '../agent/core/validate/validate.js';
import { pooledValidation } from '../agent/io/validate-pool.js';
import { readUserFile } from '../agent/io/repo-files.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  list,
  openTree,
  out,
  outputOf,
  outputOptions,
  parse,
  printData,
  printDiagnostics,
  rootOption,
} from './cli.js';
import { GitopsError } from '../agent/core/errors.js';

const USAGE =
  'gitops validate [--env E]... [--device D]... [--hardware-profile FILE] [--output text|json|yaml|github] [--summary] [--jobs N] [--root DIR]';

export async function validateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'validate',
    args,
    {
      ...rootOption,
      env: { type: 'string', multiple: true, short: 'e' },
      device: { type: 'string', multiple: true, short: 'd' },
      'hardware-profile': { type: 'string' },
      ...outputOptions,
      summary: { type: 'boolean' },
      jobs: { type: 'string', short: 'j' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  if (positionals.length > 0)
    throw new GitopsError('usage', `validate takes no arguments, got "${positionals.join(' ')}"`, `usage: ${USAGE}`);
  const format = outputOf<DiagnosticFormat | 'yaml'>('validate', values, ['text', 'json', 'yaml', 'github'], 'text');
  const started = performance.now();
  // with --device D, a file is read when the check of D asks for it
  const { repo, files } = openTree(values.root, { lazy: list(values.device).length > 0 });
  let hardwareProfile: { profile: HardwareProfile; source: string } | undefined;
  if (typeof values['hardware-profile'] === 'string') {
    const path = values['hardware-profile'];
    let profile: unknown;
    try {
      profile = parseYaml(readUserFile(path, 'hardware profile'));
    } catch (e) {
      if (e instanceof GitopsError) throw e;
      throw new GitopsError(
        'bad-hardware-profile',
        `hardware profile ${path} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`,
        'produce it with gitops hardware probe',
        { cause: e },
      );
    }
    hardwareProfile = { profile: profile as HardwareProfile, source: path };
  }
  const options = {
    environments: list(values.env),
    devices: list(values.device),
    // --device D checks that device's files, not its environment's thousands
    onlyNamedDevices: true,
    env: { ...process.env },
    ...(hardwareProfile ? { hardwareProfile } : {}),
  };
  // --summary reads what each target renders, which stays in the thread that rendered it
  const pooled = values.summary ? undefined : await pooledValidation(files, options, jobsOf(values.jobs));
  const report = pooled ?? validateOpened(repo, options);
  const ms = performance.now() - started;
  const environments = [...new Set(report.targets.map((t) => t.target.environment))];
  const devices = report.targets.filter((t) => t.target.device).length;
  // with --summary: what each target runs, each environment's waves, each experiment's arms
  const summary = values.summary
    ? {
        targets: (report as ValidationReport).targets.map(summariseTarget),
        rollouts: environments.flatMap((env) => {
          const { plan } = environmentPlan(repo, env);
          return plan?.declared ? [rolloutSummaryLine(plan)] : [];
        }),
        experiments: experimentSummaryLines(repo, environments),
      }
    : undefined;
  if (format === 'json' || format === 'yaml') {
    printData(
      format,
      {
        valid: report.valid,
        diagnostics: report.diagnostics,
        targets: report.targets.map((t) => ({
          environment: t.target.environment,
          device: t.target.device ?? null,
          valid: !t.diagnostics.some((d) => d.severity === 'error'),
        })),
        counts: { environments: environments.length, devices, ...countSeverities(report.diagnostics) },
        elapsed_ms: Math.round(ms),
        ...(summary ? { summary } : {}),
      },
      () => '',
    );
  } else {
    if (summary && format === 'text') {
      for (const line of [...summary.targets, ...summary.rollouts, ...summary.experiments]) out(line);
      out('');
    }
    printDiagnostics(
      report.diagnostics,
      format,
      `${environments.length} environment${environments.length === 1 ? '' : 's'}, ${devices} device${devices === 1 ? '' : 's'} (${ms.toFixed(0)} ms)`,
    );
  }
  return report.valid ? EXIT_OK : EXIT_INVALID;
}

function jobsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined; // one per core
  if (!/^[1-9]\d{0,2}$/.test(value))
    throw new GitopsError(
      'usage',
      `validate: --jobs must be a whole number from 1 to 999, not "${value}"`,
      'e.g. --jobs 4',
    );
  return Number(value);
}
