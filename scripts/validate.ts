// gitops validate [--env E]... [--device D]... [--hardware-profile FILE] [--format text|json|github] [--summary]

import { parse as parseYaml } from 'yaml';
import type { HardwareProfile } from '../agent/core/config/types.js';
import type { DiagnosticFormat } from '../agent/core/format/diagnostics.js';
import { summariseTarget } from '../agent/core/format/summary.js';
import { rolloutSummaryLine } from '../agent/core/format/rollout.js';
import { environmentPlan } from '../agent/core/rollout/check.js';
import { experimentSummaryLines } from '../agent/core/experiments/fleet.js';
import { validateOpened } from '../agent/core/validate/validate.js';
import { readUserFile } from '../agent/io/repo-files.js';
import { EXIT_INVALID, EXIT_OK, list, oneOf, openTree, out, parse, printDiagnostics, rootOption } from './cli.js';
import { GitopsError } from '../agent/core/errors.js';

const USAGE =
  'gitops validate [--env E]... [--device D]... [--hardware-profile FILE] [--format text|json|github] [--summary] [--root DIR]';

export function validateCommand(args: string[]): number {
  const { values, positionals } = parse(
    'validate',
    args,
    {
      ...rootOption,
      env: { type: 'string', multiple: true, short: 'e' },
      device: { type: 'string', multiple: true, short: 'd' },
      'hardware-profile': { type: 'string' },
      format: { type: 'string', short: 'f' },
      summary: { type: 'boolean' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  if (positionals.length > 0)
    throw new GitopsError('usage', `validate takes no arguments, got "${positionals.join(' ')}"`, `usage: ${USAGE}`);
  const format = oneOf<DiagnosticFormat>(
    'validate',
    'format',
    values.format as string | undefined,
    ['text', 'json', 'github'],
    'text',
  );
  const started = performance.now();
  const { repo } = openTree(values.root);
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
  const report = validateOpened(repo, {
    environments: list(values.env),
    devices: list(values.device),
    env: process.env,
    ...(hardwareProfile ? { hardwareProfile } : {}),
  });
  const ms = performance.now() - started;
  if (format === 'json') {
    out(
      JSON.stringify(
        {
          valid: report.valid,
          diagnostics: report.diagnostics,
          targets: report.targets.map((t) => ({
            environment: t.target.environment,
            device: t.target.device ?? null,
            valid: !t.diagnostics.some((d) => d.severity === 'error'),
          })),
        },
        null,
        2,
      ),
    );
  } else {
    if (values.summary && format === 'text') {
      for (const t of report.targets) out(summariseTarget(t));
      // per environment with a rollout: how many of its devices each wave holds
      for (const env of new Set(report.targets.map((t) => t.target.environment))) {
        const { plan } = environmentPlan(repo, env);
        if (plan?.declared) out(rolloutSummaryLine(plan));
      }
      for (const line of experimentSummaryLines(repo, [...new Set(report.targets.map((t) => t.target.environment))]))
        out(line);
      out('');
    }
    const envs = new Set(report.targets.map((t) => t.target.environment)).size;
    const devices = report.targets.filter((t) => t.target.device).length;
    printDiagnostics(
      report.diagnostics,
      format,
      `${envs} environment${envs === 1 ? '' : 's'}, ${devices} device${devices === 1 ? '' : 's'} (${ms.toFixed(0)} ms)`,
    );
  }
  return report.valid ? EXIT_OK : EXIT_INVALID;
}
