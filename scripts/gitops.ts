#!/usr/bin/env node
// The `gitops` command line: a thin dispatcher. Each command lives in its own file and is
// loaded only when used, so that a cold `gitops validate` starts fast.

import { GitopsError } from '../agent/core/errors.js';
import { err, EXIT_INVALID, EXIT_USAGE, exitStatusOf, out } from './cli.js';

type Command = (args: string[]) => Promise<number> | number;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: {
    summary: 'validate every environment and device (schema, rules, policy, hardware)',
    load: async () => (await import('./validate.js')).validateCommand,
  },
  render: {
    summary: 'print the rendered configuration of an environment or device',
    load: async () => (await import('./render.js')).renderCommand,
  },
  explain: {
    summary: 'show a value, its schema and where it came from',
    load: async () => (await import('./explain.js')).explainCommand,
  },
  migrate: {
    summary: 'rewrite documents in an old format version (comments kept)',
    load: async () => (await import('./migrate.js')).migrateCommand,
  },
  diff: {
    summary: 'what each device runs differently between two revisions (semantic, from git objects)',
    load: async () => (await import('./diff.js')).diffCommand,
  },
  audit: {
    summary: 'git log as the audit trail: who changed what a device runs, signed by whom, through which PR',
    load: async () => (await import('./audit.js')).auditCommand,
  },
  propose: {
    summary: 'propose a change as a pull request: --env E [--device D] --set PATH=VALUE',
    load: async () => (await import('./propose.js')).proposeCommand,
  },
  ci: {
    summary: 'ci pr: validate, verify, diff and keep one pull request comment up to date',
    load: async () => (await import('./ci.js')).ciCommand,
  },
  agent: {
    summary: 'run the on-device agent (--config agent.yaml), or watch a working tree (--watch DIR)',
    load: async () => (await import('./agent.js')).agentCommand,
  },
  secrets: {
    summary: 'SOPS files: decrypt | encrypt | edit | set | unset | rotate | updatekeys | verify',
    load: async () => (await import('./secrets.js')).secretsCommand,
  },
  verify: {
    summary: 'verify signed commits and tags, or a whole APPLIED..CANDIDATE range',
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  hardware: {
    summary: 'hardware probe | capture --model M | parse KIND FILE',
    load: async () => (await import('./hardware.js')).hardwareCommand,
  },
  rollout: {
    summary:
      'rollout plan | status | advance | halt | resume --env E: the waves of devices, their refs and gates; promote baked waves',
    load: async () => (await import('./rollout.js')).rolloutCommand,
  },
  experiment: {
    summary: 'experiment assign NAME [--env E]... [--device D]: which variant of an experiment each device gets',
    load: async () => (await import('./experiment.js')).experimentCommand,
  },
  tune: {
    summary:
      'tune report | propose NAME: pool the tuning trials per hardware model; propose the best as a pull request',
    load: async () => (await import('./tune.js')).tuneCommand,
  },
  device: {
    summary:
      'device add ID --env E --model M [--template T] [--age-recipient R]: a new device file, its key in .sops.yaml, the secrets re-wrapped',
    load: async () => (await import('./device.js')).deviceCommand,
  },
};

const usage = (): string =>
  [
    'usage: gitops <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'Every command takes --root DIR (default: the current directory) and --help.',
    'Exit status: 0 valid, 1 invalid, 2 usage error.',
  ].join('\n');

/**
 * A reader that stops early (gitops audit | head) ends a command quietly, as other tools do,
 * with no stack trace. The agent itself (gitops agent --config ...) keeps running without its
 * standard output instead.
 */
function onBrokenPipe(daemon: boolean): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      if (!daemon) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  onBrokenPipe(name === 'agent' && (rest[0] === undefined || rest[0].startsWith('-')));
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    out(usage());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands[name];
  if (!command) {
    err(`gitops: unknown command "${name}"\n\n${usage()}`);
    return EXIT_USAGE;
  }
  try {
    return await (
      await command.load()
    )(rest);
  } catch (e) {
    if (e instanceof GitopsError) {
      const cause = e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : undefined;
      err(
        `gitops ${name}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}${process.env.DOORBELL_DEBUG && cause ? `\n  cause: ${cause}` : ''}`,
      );
      return exitStatusOf(e);
    }
    err(
      `gitops ${name}: internal error: ${(e as Error).message}` +
        (process.env.DOORBELL_DEBUG
          ? `\n${(e as Error).stack ?? ''}`
          : '\n  hint: set DOORBELL_DEBUG=1 for details and report it'),
    );
    return EXIT_INVALID;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = EXIT_INVALID;
  },
);
