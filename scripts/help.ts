// The help of `gitops` and of each command, written from the table in scripts/commands.ts.

import { COMMANDS } from './commands.js';
import type { CommandSpec, FlagSpec } from './commands.js';

const EXIT = 'Exit status: 0 ok or valid, 1 invalid or refused, 2 usage error.';

function flagLine(f: FlagSpec): [string, string] {
  const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'string' ? ` ${f.arg ?? 'VALUE'}` : ''}`;
  const bits = [f.help];
  if (f.choices) bits.push(`one of ${f.choices.join(', ')}`);
  if (f.default !== undefined) bits.push(`default: ${f.default}`);
  return [names, bits.join('; ')];
}

function columns(rows: readonly [string, string][], indent = '  '): string[] {
  const width = Math.min(34, Math.max(...rows.map(([a]) => a.length)));
  return rows.map(([a, b]) =>
    a.length > width ? `${indent}${a}\n${indent}${' '.repeat(width + 2)}${b}` : `${indent}${a.padEnd(width)}  ${b}`,
  );
}

/** The help of the whole command line. */
export function overview(version: string): string {
  return [
    `gitops ${version}: the configuration repository and on-device agent of a fleet of smart doorbells`,
    '',
    'usage: gitops <command> [subcommand] [flags]',
    '',
    'commands:',
    ...columns(COMMANDS.map((c) => [c.name, c.summary])),
    '',
    'flags of every command:',
    ...columns([
      ['-h, --help', 'describe the command, its flags and their defaults, with examples'],
      ['-C, --root DIR', 'the configuration repository (default: found by walking up from the current directory)'],
    ]),
    '',
    'gitops --version prints the version. gitops help COMMAND describes a command.',
    EXIT,
  ].join('\n');
}

/** The help of one command or subcommand: what it does, its synopsis, flags with defaults, examples. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`gitops ${spec.name}: ${spec.summary}`, ''];
  lines.push(`usage: ${spec.usage.join('\n       ')}`);
  if (spec.subcommands) {
    const subs = spec.subcommands.flatMap((s) => s.usage);
    lines.push(...subs.filter((u) => !spec.usage.includes(u)).map((u) => `       ${u}`));
  }
  if (spec.description) lines.push('', ...wrap(spec.description, 100));
  if (spec.subcommands) {
    lines.push('', 'subcommands:', ...columns(spec.subcommands.map((s) => [s.name.split(' ').pop()!, s.summary])));
    lines.push('', `gitops ${spec.name} SUBCOMMAND --help describes each.`);
  }
  if (spec.flags.length > 0) {
    lines.push('', 'flags:', ...columns([...spec.flags.map(flagLine), ['-h, --help', 'this help']]));
  }
  if (spec.examples.length > 0) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  lines.push('', EXIT);
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
