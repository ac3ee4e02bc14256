// Shared plumbing of the `gitops` commands: argument parsing, exit codes, output helpers.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { GitopsError } from '../agent/core/errors.js';
import { closest } from '../agent/core/format/suggest.js';
import { CONFIG_DIR, ENVIRONMENTS_DIR, SCHEMA_DIR } from '../agent/core/repo/layout.js';
import type { Diagnostic } from '../agent/core/validate/diagnostics.js';
import { countSeverities, formatGithub, formatText } from '../agent/core/format/diagnostics.js';
import type { DiagnosticFormat } from '../agent/core/format/diagnostics.js';
import { fileExists } from '../agent/io/local-files.js';
import { readWorkingTree } from '../agent/io/repo-files.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { Redactor } from '../agent/io/redactor.js';
import { openRepository } from '../agent/core/repo/repository.js';
import type { Repository } from '../agent/core/repo/repository.js';
import type { TrustStore } from '../agent/core/trust/verify-object.js';

/** Exit statuses: 0, 1 (invalid, failed), 2 (usage); an error's is its code's (ERROR_CODES). */
export { EXIT_INVALID, EXIT_OK, EXIT_USAGE, exitStatusOf } from '../agent/core/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export const rootOption = { root: { type: 'string', short: 'C' } } as const;

/**
 * The flags and positionals of a command. A flag the command does not take, a value missing, or a
 * value given to a flag that takes none is a usage error (exit 2) that names the flag, guesses the
 * one meant, and lists the command's flags; `gitops COMMAND --help` describes them.
 */
export function parse<T extends Options>(command: string, args: string[], options: T, usage: string) {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  try {
    return parseArgs({ args, options: all, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(command, args, all, usage, e);
  }
}

function usageError(command: string, args: string[], options: Options, usage: string, cause: unknown): GitopsError {
  const names = Object.keys(options).filter((n) => n !== 'help');
  const flags = `flags of ${command}: ${names.map((n) => `--${n}`).join(', ') || '(none)'}; gitops ${command} --help describes them`;
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (!spec) {
      const guess = t.name.length > 1 ? closest(t.name, names) : names.find((n) => options[n]!.short === t.name);
      return new GitopsError('usage', `unknown flag ${t.rawName}${guess ? `. Did you mean --${guess}?` : ''}`, flags, {
        cause,
      });
    }
    if (spec.type === 'string' && (t.value === undefined || (t.inlineValue !== true && t.value.startsWith('-'))))
      return new GitopsError('usage', `${t.rawName} needs a value`, `e.g. ${t.rawName} VALUE; ${flags}`, { cause });
    if (spec.type === 'boolean' && t.inlineValue)
      return new GitopsError(
        'usage',
        `${t.rawName} takes no value (it is a switch)`,
        `write ${t.rawName} alone; ${flags}`,
        {
          cause,
        },
      );
  }
  return new GitopsError('usage', `${command}: ${(cause as Error).message}`, `usage: ${usage}`, { cause });
}

export function oneOf<T extends string>(
  command: string,
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new GitopsError(
    'usage',
    `${command}: --${flag} must be one of ${allowed.join(', ')}, not "${value}"`,
    `e.g. --${flag} ${allowed[0]}`,
  );
}

/** Does DIR look like a configuration repository (environments/ beside config/ or schemas/)? */
function isRepositoryRoot(dir: string): boolean {
  const has = (p: string): boolean => fileExists(join(dir, p));
  return has(ENVIRONMENTS_DIR) && (has(CONFIG_DIR) || has(SCHEMA_DIR));
}

/**
 * The repository a command works on: --root when given, else the nearest directory from the
 * current one upwards that has the repository layout (as git finds .git), else the current one.
 */
export function repoRoot(value: unknown): string {
  if (typeof value === 'string') return resolve(value);
  const start = process.cwd();
  for (let dir = start; ; dir = dirname(dir)) {
    if (isRepositoryRoot(dir)) return dir;
    if (dirname(dir) === dir) return start;
  }
}

export function loadTree(
  value: unknown,
  options: { lazy?: boolean } = {},
): { root: string; files: Map<string, string> } {
  const root = repoRoot(value);
  return { root, files: readWorkingTree(root, options) };
}

/** The working tree at --root (or the current directory), with the on-disk schema cache. */
export function openTree(
  value: unknown,
  options: { lazy?: boolean } = {},
): { root: string; files: Map<string, string>; repo: Repository } {
  const { root, files } = loadTree(value, options);
  return { root, files, repo: openRepository(files, fileSchemaCache()) };
}

/** The one output flag of a command that prints data: --output, its aliases --format and --json. */
export const outputOptions = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
} as const;

/** What --output (or --format, or --json) asks for; two that disagree are a usage error. */
export function outputOf<T extends string>(
  command: string,
  values: { output?: string | undefined; format?: string | undefined; json?: boolean | undefined },
  allowed: readonly T[],
  fallback: T,
): T {
  const given = [values.output, values.format, values.json ? 'json' : undefined].filter((v) => v !== undefined);
  if (new Set(given).size > 1)
    throw new GitopsError(
      'usage',
      `${command}: --output, --format and --json say different things (${given.join(', ')})`,
      'give one of them: --format and --json are aliases of --output',
    );
  return oneOf(
    command,
    values.output === undefined && values.format !== undefined ? 'format' : 'output',
    given[0],
    allowed,
    fallback,
  );
}

/** Data as the output asks: JSON or YAML of the same object, or the command's text. */
export function printData(format: string, data: unknown, text: () => string): void {
  out(format === 'json' ? JSON.stringify(data, null, 2) : format === 'yaml' ? toYaml(data, { lineWidth: 0 }) : text());
}

export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
}

/**
 * The command's one redactor: every secret a command decrypts is registered with it, and every
 * line it prints to standard error (and the agent, to standard output) goes through it.
 */
export const redactor = new Redactor();

/** Standard error, with every registered secret value replaced by <redacted>. */
export function err(text: string): void {
  const safe = redactor.redact(text);
  process.stderr.write(safe.endsWith('\n') ? safe : safe + '\n');
}

/** The trust root's lines that were ignored (a bad key, an unknown option), one warning each. */
export function warnTrustProblems(trust: Pick<TrustStore, 'problems'>): void {
  for (const p of trust.problems) err(`${p.file}:${p.line}: warning: ${p.message} (the line is ignored)`);
}

export function printDiagnostics(diagnostics: readonly Diagnostic[], format: DiagnosticFormat, summary: string): void {
  if (format === 'github') {
    if (diagnostics.length > 0) out(formatGithub(diagnostics));
    return;
  }
  if (diagnostics.length > 0) out(formatText(diagnostics, useColor()));
  const { errors, warnings } = countSeverities(diagnostics);
  const head = errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : 'valid';
  out(
    `${diagnostics.length > 0 ? '\n' : ''}${head}${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}: ${summary}`,
  );
}

/**
 * For commands that print a configuration (render, explain): the errors of its validation on
 * standard error, after what could be printed; true when it does not validate (exit 1).
 */
export function reportInvalid(report: { valid: boolean; diagnostics: readonly Diagnostic[] }): boolean {
  if (report.valid) return false;
  err(
    formatText(
      report.diagnostics.filter((d) => d.severity === 'error'),
      useColor(),
    ),
  );
  err('\nthe configuration does not validate: fix the errors above (gitops validate shows everything)');
  return true;
}

/** Strings given to a repeatable option. */
export function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}
