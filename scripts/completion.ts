// `gitops completion bash|zsh|fish`: completion scripts written from the table of commands
// (scripts/commands.ts): commands, subcommands, each one's flags, and the values of flags that
// take a fixed set; a flag that takes a path completes file names.

import { GitopsError } from '../agent/core/errors.js';
import { COMMANDS } from './commands.js';
import type { CommandSpec, FlagSpec } from './commands.js';
import { EXIT_OK, out } from './cli.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Every command a flag list belongs to: the top-level ones and each subcommand. */
function entries(): CommandSpec[] {
  return COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])]);
}

const flagWords = (spec: CommandSpec): string =>
  [...spec.flags.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]), '--help'].join(' ');
const subWords = (spec: CommandSpec): string => (spec.subcommands ?? []).map((s) => s.name.split(' ')[1]!).join(' ');
const withChoices = (spec: CommandSpec): FlagSpec[] => spec.flags.filter((f) => f.choices);
const top = COMMANDS.map((c) => c.name).join(' ');

/**
 * The shell lines (bash and zsh alike) that set `key` to the command typed so far, answer the
 * values of a flag with a fixed set (`reply` of them, space-separated), and set `flags` and `subs`.
 */
function lookups(cmd: string, sub: string, reply: (choices: string) => string): string[] {
  return [
    `  case "${cmd} ${sub}" in`,
    ...COMMANDS.flatMap((c) => (c.subcommands ?? []).map((s) => `    "${s.name}") key="${s.name}" ;;`)),
    ...COMMANDS.map((c) => `    "${c.name} "*) key="${c.name}" ;;`),
    '  esac',
    '  case "$key|$prev" in',
    ...entries().flatMap((s) =>
      withChoices(s).map(
        (f) =>
          `    "${s.name}|--${f.name}"${f.short ? `|"${s.name}|-${f.short}"` : ''}) ${reply(f.choices!.join(' '))} ;;`,
      ),
    ),
    '  esac',
    '  case "$key" in',
    ...entries().map((s) => `    "${s.name}") flags="${flagWords(s)}"; subs="${subWords(s)}" ;;`),
    '  esac',
  ];
}

function bash(): string {
  return [
    '# bash completion for gitops. Load it with: source <(gitops completion bash)',
    '_gitops() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" key="" flags="" subs=""',
    '  COMPREPLY=()',
    '  if [[ $COMP_CWORD -eq 1 ]]; then',
    `    COMPREPLY=( $(compgen -W "${top} --help --version" -- "$cur") )`,
    '    return 0',
    '  fi',
    ...lookups('${COMP_WORDS[1]}', '${COMP_WORDS[2]}', (c) => `COMPREPLY=( $(compgen -W "${c}" -- "$cur") ); return 0`),
    '  if [[ $COMP_CWORD -eq 2 && -n $subs && $cur != -* ]]; then',
    '    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )',
    '  elif [[ $cur == -* ]]; then',
    '    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )',
    '  else',
    '    COMPREPLY=( $(compgen -f -- "$cur") )',
    '  fi',
    '  return 0',
    '}',
    'complete -o filenames -F _gitops gitops',
    '',
  ].join('\n');
}

function zsh(): string {
  return [
    '#compdef gitops',
    '# zsh completion for gitops: gitops completion zsh > "${fpath[1]}/_gitops" (or source it after compinit)',
    '_gitops() {',
    '  local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}" key="" flags="" subs=""',
    '  if (( CURRENT == 2 )); then',
    `    compadd -- ${top} --help --version`,
    '    return',
    '  fi',
    ...lookups('${words[2]}', '${words[3]}', (c) => `compadd -- ${c}; return`),
    '  if (( CURRENT == 3 )) && [[ -n $subs && $cur != -* ]]; then',
    '    compadd -- ${=subs}',
    '  elif [[ $cur == -* ]]; then',
    '    compadd -- ${=flags}',
    '  else',
    '    _files',
    '  fi',
    '}',
    'if [[ "${funcstack[1]}" == "_gitops" ]]; then _gitops "$@"; else compdef _gitops gitops; fi',
    '',
  ].join('\n');
}

const fishQuote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(): string {
  const lines = [
    '# fish completion for gitops: gitops completion fish > ~/.config/fish/completions/gitops.fish',
    'function __gitops_at',
    '    # true when the words typed so far are exactly `gitops` followed by $argv',
    '    set -l w (commandline -opc)',
    '    test (count $w) -eq (math (count $argv) + 1); or return 1',
    '    for i in (seq (count $argv))',
    '        set -l j (math $i + 1)', // fish expands no command substitution inside double quotes
    '        test "$w[$j]" = "$argv[$i]"; or return 1',
    '    end',
    'end',
    'function __gitops_in',
    '    # true when `gitops` is followed by $argv, then anything',
    '    set -l w (commandline -opc)',
    '    test (count $w) -gt (count $argv); or return 1',
    '    for i in (seq (count $argv))',
    '        set -l j (math $i + 1)', // fish expands no command substitution inside double quotes
    '        test "$w[$j]" = "$argv[$i]"; or return 1',
    '    end',
    'end',
    'complete -c gitops -f',
    "complete -c gitops -n '__gitops_at' -l version -d 'print the version'",
  ];
  for (const c of COMMANDS) lines.push(`complete -c gitops -n '__gitops_at' -a ${c.name} -d ${fishQuote(c.summary)}`);
  for (const c of COMMANDS)
    for (const s of c.subcommands ?? [])
      lines.push(`complete -c gitops -n '__gitops_at ${c.name}' -a ${s.name.split(' ')[1]} -d ${fishQuote(s.summary)}`);
  for (const s of entries()) {
    for (const f of s.flags) {
      const value = f.type === 'string' ? (f.choices ? ` -x -a ${fishQuote(f.choices.join(' '))}` : ' -r -F') : '';
      lines.push(
        `complete -c gitops -n '__gitops_in ${s.name}' -l ${f.name}${f.short ? ` -s ${f.short}` : ''}${value} -d ${fishQuote(f.help)}`,
      );
    }
  }
  lines.push("complete -c gitops -n '__gitops_in' -s h -l help -d 'describe the command'", '');
  return lines.join('\n');
}

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? bash() : shell === 'zsh' ? zsh() : fish();
}

export function completionCommand(args: string[]): number {
  const [shell, ...rest] = args;
  if (shell === undefined || !(SHELLS as readonly string[]).includes(shell) || rest.length > 0)
    throw new GitopsError(
      'usage',
      shell === undefined ? 'completion needs a shell' : `completion: no script for "${[shell, ...rest].join(' ')}"`,
      'usage: gitops completion bash|zsh|fish',
    );
  out(completionScript(shell as Shell));
  return EXIT_OK;
}
