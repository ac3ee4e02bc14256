// gitops rollout plan --env E [--output text|json|yaml]: which wave each device of an environment is in
// (its cohort, or its bucket of the environment's seed), with its bucket and the ref its wave follows.
// gitops rollout status | advance | halt | resume: the gate (agent/io/rollout.ts decides and writes;
// this file parses the command line and prints).

import { userInfo } from 'node:os';
import { GitopsError } from '../agent/core/errors.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import {
  formatHaltChange,
  formatRolloutAdvance,
  formatRolloutPlan,
  formatRolloutStatus,
  rolloutPlanJson,
  rolloutReportJson,
} from '../agent/core/format/rollout.js';
import { checkRollout, environmentPlan } from '../agent/core/rollout/check.js';
import type { RolloutPlan } from '../agent/core/rollout/waves.js';
import { validateFor } from '../agent/core/validate/validate.js';
import { readPrometheusToken } from '../agent/io/prometheus-query.js';
import { advanceRollout, haltRollout, resumeRollout, rolloutIo, rolloutStatus } from '../agent/io/rollout.js';
import type { RolloutIo } from '../agent/io/rollout.js';
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
  reportInvalid,
  rootOption,
  useColor,
} from './cli.js';
import { pickTarget } from './target.js';

const REMOTE = '[--remote NAME|URL] [--branch main] [--prometheus URL] [--prometheus-token-file F]';
const USAGE = [
  'gitops rollout plan --env E [--output text|json|yaml] [--root DIR]',
  `gitops rollout status --env E ${REMOTE} [--output text|json|yaml]`,
  `gitops rollout advance --env E ${REMOTE} [--dry-run] [--emergency --reason TEXT [--commit REV]] [--output text|json|yaml]`,
  'gitops rollout halt --env E --reason TEXT [--remote NAME|URL]',
  'gitops rollout resume --env E [--reason TEXT] [--remote NAME|URL]',
].join('\n       ');

const OPTIONS = {
  ...rootOption,
  env: { type: 'string', short: 'e' },
  ...outputOptions,
  remote: { type: 'string' },
  branch: { type: 'string' },
  prometheus: { type: 'string' },
  'prometheus-token-file': { type: 'string' },
  'dry-run': { type: 'boolean' },
  emergency: { type: 'boolean' },
  reason: { type: 'string' },
  commit: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

const OUTPUT = Object.keys(outputOptions);

/** Flags that only some verbs take: naming one elsewhere is a usage error, not silently ignored. */
const ONLY: Record<string, readonly string[]> = {
  plan: ['root', 'env', ...OUTPUT, 'help'],
  status: ['root', 'env', ...OUTPUT, 'remote', 'branch', 'prometheus', 'prometheus-token-file', 'help'],
  advance: Object.keys(OPTIONS).concat('help'),
  halt: ['root', 'env', 'remote', 'branch', 'reason', 'help'],
  resume: ['root', 'env', 'remote', 'branch', 'reason', 'help'],
};

export async function rolloutCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('rollout', args, OPTIONS, USAGE);
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const [verb, ...rest] = positionals;
  if (verb === undefined || !Object.hasOwn(ONLY, verb))
    throw new GitopsError('usage', `unknown rollout subcommand "${verb ?? ''}"`, `usage: ${USAGE}`);
  if (rest.length > 0)
    throw new GitopsError('usage', `rollout ${verb} takes no arguments, got "${rest.join(' ')}"`, `usage: ${USAGE}`);
  const stray = Object.keys(values).filter((k) => !ONLY[verb]!.includes(k));
  if (stray.length > 0)
    throw new GitopsError('usage', `rollout ${verb} does not take --${stray.join(', --')}`, `usage: ${USAGE}`);
  if (verb === 'plan') return planCommand(values);
  const output = outputOf(`rollout ${verb}`, values, ['text', 'json', 'yaml'] as const, 'text');
  const { root, repo } = openTree(values.root);
  const { environment } = pickTarget(repo, values.env, undefined, USAGE);
  const io = ioOf(root, values);
  const base = { repo, environment, by: await whoRuns(io), ...(values.branch ? { branch: values.branch } : {}) };
  if (verb === 'halt' || verb === 'resume') {
    const reason = values.reason?.trim();
    if (verb === 'halt' && !reason)
      throw new GitopsError('usage', 'rollout halt needs --reason TEXT: the audit trail says why', `usage: ${USAGE}`);
    const r =
      verb === 'halt'
        ? await haltRollout(io, { ...base, reason: reason! })
        : await resumeRollout(io, { ...base, ...(reason ? { reason } : {}) });
    out(formatHaltChange(r));
    return EXIT_OK;
  }
  if (verb === 'status') {
    const r = await rolloutStatus(io, base);
    printData(output, rolloutReportJson(r), () => formatRolloutStatus(r));
    return r.exit;
  }
  if (values.emergency && !values.reason?.trim())
    throw new GitopsError('usage', 'an emergency needs --reason TEXT: the audit trail says why', `usage: ${USAGE}`);
  if (!values.emergency && values.commit !== undefined)
    throw new GitopsError(
      'usage',
      '--commit goes with --emergency only',
      'advance promotes the head of the branch wave by wave',
    );
  const r = await advanceRollout(io, {
    ...base,
    dryRun: values['dry-run'] === true,
    ...(values.emergency
      ? { emergency: { reason: values.reason!.trim(), ...(values.commit ? { commit: values.commit } : {}) } }
      : {}),
  });
  // JSON always on standard output; the text of a halt or a refusal on standard error
  if (output !== 'text') printData(output, rolloutReportJson(r), () => '');
  if (r.exit === 0 && output === 'text') out(formatRolloutAdvance(r));
  else if (r.exit !== 0) err(formatRolloutAdvance(r));
  return r.exit;
}

function ioOf(root: string, values: Values): RolloutIo {
  // an empty URL (a workflow whose secret is not set) is none: every gate holds, and says so
  if (values.prometheus === '') {
    err('gitops rollout: --prometheus is empty: no telemetry, every gate holds');
    values = { ...values, prometheus: undefined, 'prometheus-token-file': undefined };
  }
  const token = values['prometheus-token-file'];
  if (token !== undefined && values.prometheus === undefined)
    throw new GitopsError('usage', '--prometheus-token-file goes with --prometheus URL', `usage: ${USAGE}`);
  if (values.prometheus !== undefined && !/^https?:\/\/[^\s]+$/.test(values.prometheus))
    throw new GitopsError(
      'usage',
      `--prometheus ${values.prometheus} is not an http(s) URL`,
      'e.g. --prometheus https://prometheus.example',
    );
  return rolloutIo({
    cwd: root,
    ...(values.remote ? { remote: values.remote } : {}),
    ...(values.prometheus ? { prometheusUrl: values.prometheus } : {}),
    ...(token ? { prometheusToken: readPrometheusToken(token) } : {}),
  });
}

/** Who runs it, for the audit trail: the Actions actor and run, else git's user. */
async function whoRuns(io: RolloutIo): Promise<string> {
  const e = process.env;
  if (e.GITHUB_ACTOR) return `${e.GITHUB_ACTOR} (${e.GITHUB_WORKFLOW ?? 'workflow'} run ${e.GITHUB_RUN_ID ?? '?'})`;
  return (await io.git.whoami()) ?? e.USER ?? userInfo().username;
}

function planCommand(values: Values): number {
  const output = outputOf('rollout plan', values, ['text', 'json', 'yaml'] as const, 'text');
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
  printData(output, planJson(plan), () => formatRolloutPlan(plan));
  return EXIT_OK;
}

/**
 * What `rollout plan --output json` prints (schemas/cli/rollout-plan.output.json): the plan, and what
 * the table says besides: whether the environment declares a rollout, and what put each device in its wave.
 */
function planJson(plan: RolloutPlan): Record<string, unknown> {
  const { environment, waves, devices } = rolloutPlanJson(plan);
  return {
    environment,
    declared: plan.declared,
    waves,
    devices: devices.map((d, i) => ({ ...d, by: plan.devices[i]!.by })),
  };
}
