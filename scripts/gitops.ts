#!/usr/bin/env node
// The `gitops` command line: a thin dispatcher. Each command lives in its own file and is
// loaded only when used, so that a cold `gitops validate` starts fast.

import { fileURLToPath } from 'node:url';
import { GitopsError } from '../agent/core/errors.js';
import { closest } from '../agent/core/format/suggest.js';
import { fileExists, readText } from '../agent/io/local-files.js';
import { err, EXIT_INVALID, EXIT_OK, EXIT_USAGE, exitStatusOf, out } from './cli.js';
import { COMMANDS, findCommand } from './commands.js';
import type { CommandSpec } from './commands.js';
import { commandHelp, overview } from './help.js';

type Command = (args: string[]) => Promise<number> | number;

/** Each command's code, loaded only when it runs; what it is and takes is in COMMANDS (scripts/commands.ts). */
const loaders: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.js')).validateCommand,
  render: async () => (await import('./render.js')).renderCommand,
  explain: async () => (await import('./explain.js')).explainCommand,
  migrate: async () => (await import('./migrate.js')).migrateCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  propose: async () => (await import('./propose.js')).proposeCommand,
  ci: async () => (await import('./ci.js')).ciCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
  secrets: async () => (await import('./secrets.js')).secretsCommand,
  verify: async () => (await import('./verify.js')).verifyCommand,
  hardware: async () => (await import('./hardware.js')).hardwareCommand,
  rollout: async () => (await import('./rollout.js')).rolloutCommand,
  experiment: async () => (await import('./experiment.js')).experimentCommand,
  tune: async () => (await import('./tune.js')).tuneCommand,
  device: async () => (await import('./device.js')).deviceCommand,
  completion: async () => (await import('./completion.js')).completionCommand,
  help: async () => helpCommand,
};

/** The version of the package this command line comes from (package.json, beside dist/ or scripts/). */
function version(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!fileExists(path)) continue;
    const pkg = JSON.parse(readText(path)) as { name?: string; version?: string };
    if (pkg.name === 'doorbell-gitops' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

function unknownCommand(word: string, known: readonly string[], within?: string): GitopsError {
  const guess = closest(word, known);
  const what = within ? `${within} subcommand` : 'command';
  return new GitopsError(
    'usage',
    `unknown ${what} "${word}"${guess ? `. Did you mean "${within ? `${within} ` : ''}${guess}"?` : ''}`,
    `${within ? `${within} subcommands` : 'commands'}: ${known.join(', ')}; gitops help${within ? ` ${within}` : ''} describes them`,
  );
}

/** gitops help [COMMAND [SUBCOMMAND]] */
function helpCommand(args: string[]): number {
  const words = args.filter((w) => !w.startsWith('-'));
  if (words.length === 0) return (out(overview(version())), EXIT_OK);
  out(commandHelp(lookup(words).spec));
  return EXIT_OK;
}

/** The command the leading words name; a mistyped one is a usage error with "Did you mean". */
function lookup(words: readonly string[]): { spec: CommandSpec; used: number } {
  const found = findCommand(words);
  if (!found)
    throw unknownCommand(
      words[0]!,
      COMMANDS.map((c) => c.name),
    );
  const next = words[found.used];
  if (found.used === 1 && found.spec.subcommands && next !== undefined && !next.startsWith('-'))
    throw unknownCommand(
      next,
      found.spec.subcommands.map((s) => s.name.split(' ')[1]!),
      found.spec.name,
    );
  return found;
}

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
  if (name === undefined) return (err(overview(version())), EXIT_USAGE);
  if (name === '--help' || name === '-h') return (out(overview(version())), EXIT_OK);
  if (name === '--version' || name === '-V') return (out(version()), EXIT_OK);
  try {
    const { spec } = lookup(argv);
    // --help anywhere before "--" describes the (sub)command named, whatever else is given
    const end = argv.indexOf('--');
    const words = end === -1 ? argv : argv.slice(0, end);
    const helpOfHelp = name === 'help' && rest.every((w) => w.startsWith('-'));
    if ((name !== 'help' || helpOfHelp) && (words.includes('--help') || words.includes('-h')))
      return (out(commandHelp(spec)), EXIT_OK);
  } catch (e) {
    return reportError(COMMANDS.some((c) => c.name === name) ? `gitops ${name}` : 'gitops', e);
  }
  const load = loaders[name]!;
  try {
    return await (
      await load()
    )(rest);
  } catch (e) {
    return reportError(`gitops ${name}`, e);
  }
}

/** An error on standard error, as "gitops COMMAND: what" and its hint; its exit status. */
function reportError(label: string, e: unknown): number {
  if (e instanceof GitopsError) {
    const cause = e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : undefined;
    err(
      `${label}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}${process.env.DOORBELL_DEBUG && cause ? `\n  cause: ${cause}` : ''}`,
    );
    return exitStatusOf(e);
  }
  err(
    `${label}: internal error: ${(e as Error).message}` +
      (process.env.DOORBELL_DEBUG
        ? `\n${(e as Error).stack ?? ''}`
        : '\n  hint: set DOORBELL_DEBUG=1 for details and report it'),
  );
  return EXIT_INVALID;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = EXIT_INVALID;
  },
);
