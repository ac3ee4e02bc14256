// gitops experiment conclude NAME --ship VARIANT --prometheus URL [--remote R] [--dry-run] [--allow-without-verdict]
//   [--base BRANCH] [--repo OWNER/NAME] [--title T] [--draft] [--prometheus-token-file F] [--at ISO] [--root DIR]
// Ends an experiment as a pull request: the report is read (as `gitops experiment report` reads it),
// its verdict must be to ship VARIANT (else refused, unless --allow-without-verdict, and then the
// pull request says so); the variant's values are written into the overrides of the environments
// the experiment ran in (comments kept), experiments/NAME.yaml is removed, the result must validate,
// and the pull request carries the report's markdown as its evidence. --dry-run prints the change
// and the body and touches nothing.

import { GitopsError } from '../agent/core/errors.js';
import { concludeExperiment, variantOf } from '../agent/core/experiments/conclude.js';
import type { Conclusion } from '../agent/core/experiments/conclude.js';
import type { Experiment } from '../agent/core/experiments/read.js';
import { formatDiffMarkdown } from '../agent/core/format/diff.js';
import { formatExperimentReportMarkdown } from '../agent/core/format/experiment-report.js';
import type { ExperimentReport } from '../agent/core/format/experiment-report.js';
import type { ChangeReport } from '../agent/core/change/diff.js';
import { EXIT_INVALID, EXIT_OK, out } from './cli.js';
import { openExperiment, parseVerbFlags } from './experiment-open.js';
import { REPORT_OPTIONS, readReport, reportSource } from './experiment-report.js';
import { PULL_REQUEST_OPTIONS, proposeFiles } from './pull-request.js';

const USAGE =
  'gitops experiment conclude NAME --ship VARIANT --prometheus URL [--prometheus-token-file F] [--remote R] [--base BRANCH]' +
  ' [--repo OWNER/NAME] [--title T] [--draft] [--dry-run] [--allow-without-verdict] [--at ISO] [--root DIR]';

export async function concludeVerb(name: string, args: string[]): Promise<number> {
  const values = parseVerbFlags('conclude', USAGE, args, {
    ...REPORT_OPTIONS,
    ...PULL_REQUEST_OPTIONS,
    ship: { type: 'string' },
    'allow-without-verdict': { type: 'boolean' },
  });
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  if (values.ship === undefined || values.ship === '')
    throw new GitopsError('usage', 'experiment conclude needs --ship VARIANT: the variant to keep', `usage: ${USAGE}`);
  if (values.repo !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(values.repo))
    throw new GitopsError('usage', `--repo ${values.repo} is not OWNER/NAME`, 'e.g. --repo fleet/config');
  const source = reportSource('conclude', values, USAGE);
  const opened = openExperiment(values.root, name);
  if (!opened) return EXIT_INVALID;
  const { root, repo, experiment } = opened;
  variantOf(experiment, values.ship); // an unknown variant is refused before Prometheus is asked
  const report = await readReport(repo, experiment, source);
  const verdict = report.analysis.verdict;
  const agreed = verdict.decision === 'ship' && verdict.variant === values.ship;
  if (!agreed && !values['allow-without-verdict'])
    throw new GitopsError(
      'experiment-no-verdict',
      `the report's verdict on ${name} is ${describeVerdict(report)}, not to ship ${values.ship}`,
      `wait until gitops experiment report ${name} says ship ${values.ship}, or pass --allow-without-verdict ` +
        '(the pull request then says it was shipped without it)',
    );
  const conclusion = concludeExperiment(repo, experiment, values.ship);
  return proposeFiles({
    root,
    before: repo.files,
    after: conclusion.files,
    written: conclusion.written,
    removed: conclusion.removed,
    environments: experiment.environments,
    what: 'the conclusion',
    title: values.title ?? `experiment ${name}: ship ${values.ship}`,
    body: (diff) => concludeBody(experiment, conclusion, report, diff, agreed),
    branchPrefix: `experiment/${name}-ship-${values.ship}`,
    dryRun: values['dry-run'] === true,
    remote: values.remote ?? 'origin',
    base: values.base,
    repo: values.repo,
    draft: values.draft === true,
  });
}

/** `hold (no-exposures: no device reported the experiment)`. */
function describeVerdict(r: ExperimentReport): string {
  const v = r.analysis.verdict;
  return `${v.decision}${v.variant ? ` ${v.variant}` : ''} (${v.code}: ${v.reason})`;
}

/** The pull request's body: what changes, the report as evidence, the configuration diff. */
export function concludeBody(
  e: Experiment,
  c: Conclusion,
  report: ExperimentReport,
  diff: ChangeReport,
  agreed: boolean,
): string {
  const v = c.variant;
  const lines = [`## Conclude experiment \`${e.name}\`: ship \`${v.name}\``, ''];
  if (!agreed)
    lines.push(
      `> **Shipped without the report's verdict** (\`--allow-without-verdict\`): the report says ${describeVerdict(report)}.`,
      '',
    );
  if (c.values.length === 0)
    lines.push(`\`${v.name}\` sets nothing: the experiment is removed and nothing else changes.`);
  else {
    lines.push(`\`${v.name}\`'s values become the configuration of ${e.environments.join(', ')}:`, '');
    for (const s of c.values) lines.push(`- \`${s.file}\`: \`${s.path}\` = \`${JSON.stringify(s.value)}\``);
  }
  for (const s of c.shadowed)
    lines.push(
      `- note: device \`${s.device}\` (${s.environment}) sets \`${s.path}\` = \`${JSON.stringify(s.value)}\` itself and keeps it`,
    );
  lines.push(
    '',
    `\`${e.file}\` is removed: the devices release their experiment leases when this merges.`,
    '',
    formatExperimentReportMarkdown(report),
    '',
    '### Configuration diff',
    '',
    formatDiffMarkdown(diff),
    '',
    '_Proposed with `gitops experiment conclude`._',
    '',
  );
  return lines.join('\n');
}
