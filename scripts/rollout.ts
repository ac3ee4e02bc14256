// gitops rollout plan --env E [--output json|text]: which wave each device of an environment is in
// (its cohort, or its bucket of the environment's seed), with its bucket and the ref its wave follows.

import { GitopsError } from '../agent/core/errors.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { formatRolloutPlan, rolloutPlanJson } from '../agent/core/format/rollout.js';
import { checkRollout, environmentPlan } from '../agent/core/rollout/check.js';
import { validateFor } from '../agent/core/validate/validate.js';
import { EXIT_INVALID, EXIT_OK, err, oneOf, openTree, out, parse, reportInvalid, rootOption, useColor } from './cli.js';
import { pickTarget } from './target.js';

const USAGE = 'gitops rollout plan --env E [--output json|text] [--root DIR]';

export function rolloutCommand(args: string[]): number {
  const { values, positionals } = parse(
    'rollout',
    args,
    { ...rootOption, env: { type: 'string', short: 'e' }, output: { type: 'string', short: 'o' } },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const [verb, ...rest] = positionals;
  if (verb !== 'plan') throw new GitopsError('usage', `unknown rollout subcommand "${verb ?? ''}"`, `usage: ${USAGE}`);
  if (rest.length > 0)
    throw new GitopsError('usage', `rollout plan takes no arguments, got "${rest.join(' ')}"`, `usage: ${USAGE}`);
  const output = oneOf('rollout plan', 'output', values.output, ['text', 'json'] as const, 'text');
  const { repo } = openTree(values.root);
  const { environment } = pickTarget(repo, values.env, undefined, USAGE);
  const { plan } = environmentPlan(repo, environment);
  // a rollout the schema refuses: what validation says about the environment
  if (!plan) {
    reportInvalid(validateFor(repo, { environment }));
    return EXIT_INVALID;
  }
  const errors = checkRollout(repo, environment).filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    err(formatText(errors, useColor()));
    err(
      `\nthe rollout of ${environment} does not validate: fix the errors above (gitops validate --env ${environment})`,
    );
    return EXIT_INVALID;
  }
  out(output === 'json' ? JSON.stringify(rolloutPlanJson(plan), null, 2) : formatRolloutPlan(plan));
  return EXIT_OK;
}
