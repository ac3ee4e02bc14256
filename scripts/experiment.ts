// gitops experiment VERB NAME ...: the experiments of the repository (experiments/<name>.yaml).
//   assign NAME [--env E]... [--device D]... [--output text|json|yaml]: who gets which variant
//   report NAME --prometheus URL [--output text|markdown|json|yaml]: per-arm estimates and the verdict (experiment-report.ts)
// --format and --json are aliases of --output (scripts/cli.ts outputOf).
//   conclude NAME --ship VARIANT --prometheus URL: the pull request that ships it (experiment-conclude.ts)
// Each verb is one entry of VERBS (its usage, the flags it takes, and its loader), so that a new
// verb is one line here and a file of its own.

import { GitopsError } from '../agent/core/errors.js';
import { closest } from '../agent/core/format/suggest.js';
import { armCounts, assignFleet, describeCounts } from '../agent/core/experiments/fleet.js';
import type { ArmCounts, FleetAssignment } from '../agent/core/experiments/fleet.js';
import type { Experiment } from '../agent/core/experiments/read.js';
import type { Repository } from '../agent/core/repo/repository.js';
import type { Options } from './cli.js';
import { EXIT_INVALID, EXIT_OK, list, out, outputOf, outputOptions, printData, rootOption } from './cli.js';
import { openExperiment, parseVerbFlags } from './experiment-open.js';
import { pickTarget } from './target.js';

export type Verb = (name: string, args: string[]) => Promise<number> | number;

interface VerbEntry {
  usage: string;
  load: () => Promise<Verb>;
}

const VERBS: Record<string, VerbEntry> = {
  assign: {
    usage:
      'gitops experiment assign NAME [--env E]... [--device D]... [--output text|json|yaml] [--at ISO] [--blocks N] [--root DIR]',
    load: async () => assignVerb,
  },
  report: {
    usage:
      'gitops experiment report NAME --prometheus URL [--output text|markdown|json|yaml] [--prometheus-token-file F] [--root DIR] [--at ISO]',
    load: async () => (await import('./experiment-report.js')).reportVerb,
  },
  conclude: {
    usage:
      'gitops experiment conclude NAME --ship VARIANT --prometheus URL [--prometheus-token-file F] [--remote R] [--base BRANCH]' +
      ' [--repo OWNER/NAME] [--title T] [--draft] [--dry-run] [--allow-without-verdict] [--at ISO] [--root DIR]',
    load: async () => (await import('./experiment-conclude.js')).concludeVerb,
  },
};

const usage = (): string =>
  Object.values(VERBS)
    .map((v) => v.usage)
    .join('\n       ');

export async function experimentCommand(args: string[]): Promise<number> {
  const [verb, name, ...rest] = args;
  if (verb === '--help' || verb === '-h') return (out(`usage: ${usage()}`), EXIT_OK);
  if (verb === undefined) throw new GitopsError('usage', 'experiment needs a subcommand', `usage: ${usage()}`);
  const entry = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
  if (!entry) {
    const guess = closest(verb, Object.keys(VERBS));
    throw new GitopsError(
      'usage',
      `unknown experiment subcommand "${verb}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `usage: ${usage()}`,
    );
  }
  if (name === '--help' || name === '-h') return (out(`usage: ${entry.usage}`), EXIT_OK);
  if (name === undefined || name.startsWith('-'))
    throw new GitopsError('usage', `experiment ${verb} needs the experiment's NAME`, `usage: ${entry.usage}`);
  return (await entry.load())(name, rest);
}

/** Parses a verb's flags (no further positionals). */
export function parseVerb<T extends Options>(verb: string, args: string[], options: T) {
  return parseVerbFlags(verb, VERBS[verb]?.usage ?? usage(), args, options);
}

export { openExperiment };

function assignVerb(name: string, args: string[]): number {
  const values = parseVerb('assign', args, {
    ...rootOption,
    env: { type: 'string', multiple: true, short: 'e' },
    device: { type: 'string', multiple: true, short: 'd' },
    ...outputOptions,
    at: { type: 'string' },
    blocks: { type: 'string' },
  });
  if (values.help) return (out(`usage: ${VERBS.assign!.usage}`), EXIT_OK);
  // a switchback experiment: each device's arm in the next blocks, from --at (default now)
  const atMs = values.at === undefined ? Date.now() : Date.parse(values.at as string);
  const count = values.blocks === undefined ? 6 : Number(values.blocks);
  if (Number.isNaN(atMs))
    throw new GitopsError(
      'usage',
      `--at ${String(values.at)} is not a time`,
      'e.g. --at 2026-12-15T00:00:00Z (ISO 8601)',
    );
  if (!Number.isInteger(count) || count < 1 || count > 168)
    throw new GitopsError(
      'usage',
      `--blocks ${String(values.blocks)} is not a number of blocks`,
      'give 1 to 168 (default 6)',
    );
  const output = outputOf('experiment assign', values, ['text', 'json', 'yaml'] as const, 'text');
  const opened = openExperiment(values.root, name);
  if (!opened) return EXIT_INVALID;
  const { repo, experiment } = opened;
  const envs = list(values.env);
  const devices = list(values.device);
  for (const env of envs) pickTarget(repo, env, undefined, VERBS.assign!.usage); // an unknown one: Did you mean
  const fleet = assignFleet(repo, experiment, { environments: envs, devices, blocks: { atMs, count } });
  for (const d of devices)
    if (!fleet.devices.some((x) => x.device === d)) {
      const candidates = (envs.length ? envs : experiment.environments).flatMap((e) => repo.devices(e));
      const guess = closest(d, candidates);
      throw new GitopsError(
        'unknown-device',
        `there is no device "${d}" in ${(envs.length ? envs : experiment.environments).join(', ')}${guess ? `. Did you mean "${guess}"?` : ''}`,
        `devices: ${candidates.join(', ') || '(none)'}`,
      );
    }
  printData(output, assignmentJson(repo, experiment, fleet), () => formatAssignment(repo, experiment, fleet));
  return EXIT_OK;
}

/** What `experiment assign --output json` prints (schemas/cli/experiment-assign.output.json): what the table shows. */
export function assignmentJson(repo: Repository, e: Experiment, fleet: FleetAssignment): Record<string, unknown> {
  const { overall, strata } = armCounts(repo, e, fleet);
  const counts = (c: ArmCounts) => ({
    ...(c.stratum !== undefined ? { stratum: c.stratum } : {}),
    arms: c.arms,
    not_in: c.notIn,
  });
  return {
    experiment: fleet.experiment,
    seed: fleet.seed,
    status: e.status,
    coverage: e.coverage,
    namespace: e.namespace ? { name: e.namespace.name, range: e.namespace.range } : null,
    design: e.design,
    devices: fleet.devices,
    counts: { overall: counts(overall), strata: strata.map(counts) },
  };
}

/** A switchback experiment's devices in and out, and the blocks listed per arm. */
function describeBlocks(e: Experiment, fleet: FleetAssignment): string {
  const inIt = fleet.devices.filter((d) => d.in_experiment);
  const blocks = inIt.flatMap((d) => d.blocks ?? []);
  const perArm = e.variants.map((v) => `${v.name} ${blocks.filter((b) => b.variant === v.name).length}`).join(', ');
  return `${inIt.length} in, ${fleet.devices.length - inIt.length} not in; blocks listed per arm: ${perArm || '-'}`;
}

/** The table of devices, then the devices per arm (and per stratum). */
export function formatAssignment(repo: Repository, e: Experiment, fleet: FleetAssignment): string {
  // a switchback experiment: the arm of each coming block (* where it starts with a washout), not one variant
  const switchback = e.design.type === 'switchback';
  const rows = [
    ['ENVIRONMENT', 'DEVICE', 'BUCKET', 'IN', switchback ? 'BLOCKS FROM NOW' : 'VARIANT'],
    ...fleet.devices.map((d) => [
      d.environment,
      d.device,
      d.bucket.toFixed(4),
      d.in_experiment ? 'yes' : 'no',
      switchback && d.blocks
        ? d.blocks.map((b) => `${b.variant}${b.washout ? '*' : ''}`).join(' ')
        : switchback
          ? '-'
          : (d.variant ?? '-'),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const { overall, strata } = armCounts(repo, e, fleet);
  const head =
    `experiment ${e.name} (${e.status}; seed ${e.hash.seed}; coverage ${e.coverage}` +
    `${e.namespace ? `; namespace ${e.namespace.name} [${e.namespace.range.join(', ')})` : ''})`;
  return [
    head,
    '',
    ...lines,
    '',
    ...(switchback && e.design.type === 'switchback'
      ? [
          `switchback: blocks of ${e.design.block_hours} h from ${fleet.devices.find((d) => d.blocks)?.blocks?.[0]?.start ?? '-'}, ` +
            `each device's arm drawn per block; * a block that starts with ${e.design.washout_minutes} min of washout (not measured)`,
          '',
        ]
      : []),
    `${fleet.devices.length} device${fleet.devices.length === 1 ? '' : 's'}: ` +
      (switchback ? describeBlocks(e, fleet) : describeCounts(overall)),
    ...(switchback ? [] : strata.map((s) => `  ${s.stratum}: ${describeCounts(s)}`)),
  ].join('\n');
}
