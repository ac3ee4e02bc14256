// What every `gitops experiment` verb starts with: its flags parsed (no positional but NAME), and
// the experiment NAME of the working tree opened, the repository validated for its environments.
// A module of its own so that the verbs' files (experiment-report.ts, experiment-conclude.ts) and
// the verb table (experiment.ts), which loads them, do not import each other.

import { GitopsError } from '../agent/core/errors.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { closest } from '../agent/core/format/suggest.js';
import { experimentNames, readExperiment } from '../agent/core/experiments/read.js';
import type { Experiment } from '../agent/core/experiments/read.js';
import type { Repository } from '../agent/core/repo/repository.js';
import { validateOpened } from '../agent/core/validate/validate.js';
import { err, openTree, parse, useColor } from './cli.js';
import type { Options } from './cli.js';

/** Parses a verb's flags (no further positionals). */
export function parseVerbFlags<T extends Options>(verb: string, usage: string, args: string[], options: T) {
  const parsed = parse(`experiment ${verb}`, args, options, usage);
  if (parsed.positionals.length > 0)
    throw new GitopsError(
      'usage',
      `experiment ${verb} takes one NAME, got also "${parsed.positionals.join(' ')}"`,
      `usage: ${usage}`,
    );
  return parsed.values;
}

/**
 * The experiment NAME of the working tree, when the repository validates; else its errors are
 * printed on standard error and undefined is returned (exit 1).
 */
export function openExperiment(
  root: unknown,
  name: string,
): { root: string; repo: Repository; experiment: Experiment } | undefined {
  const { root: dir, repo } = openTree(root);
  const read = readExperiment(repo, name);
  if (read.kind === 'missing') {
    const names = experimentNames(repo);
    const guess = closest(name, names);
    throw new GitopsError(
      'unknown-experiment',
      `there is no experiment "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      names.length > 0 ? `experiments: ${names.join(', ')}` : `create experiments/${name}.yaml`,
    );
  }
  const report = validateOpened(repo, read.kind === 'read' ? { environments: read.experiment.environments } : {});
  const errors = report.diagnostics.filter((d) => d.severity === 'error');
  if (read.kind !== 'read' || errors.length > 0) {
    err(formatText(errors, useColor()));
    err(`\nthe repository does not validate: fix the errors above (gitops validate)`);
    return undefined;
  }
  return { root: dir, repo, experiment: read.experiment };
}
