// Shared plumbing of the `gitops` commands: argument parsing, exit codes, output helpers.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { GitopsError } from '../agent/core/errors.js';
import type { Diagnostic } from '../agent/core/validate/diagnostics.js';
import { countSeverities, formatGithub, formatText } from '../agent/core/format/diagnostics.js';
import type { DiagnosticFormat } from '../agent/core/format/diagnostics.js';
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

export function parse<T extends Options>(command: string, args: string[], options: T, usage: string) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new GitopsError('usage', `${command}: ${(err as Error).message}`, `usage: ${usage}`, { cause: err });
  }
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

export function repoRoot(value: unknown): string {
  return resolve(typeof value === 'string' ? value : process.cwd());
}

export function loadTree(value: unknown): { root: string; files: Map<string, string> } {
  const root = repoRoot(value);
  return { root, files: readWorkingTree(root) };
}

/** The working tree at --root (or the current directory), with the on-disk schema cache. */
export function openTree(value: unknown): { root: string; files: Map<string, string>; repo: Repository } {
  const { root, files } = loadTree(value);
  return { root, files, repo: openRepository(files, fileSchemaCache()) };
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
