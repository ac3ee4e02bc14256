// Paths and copies of the example configuration repository for tests.

import { cpSync, mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { readWorkingTree } from '../../agent/io/repo-files.js';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(PROJECT, 'dist/scripts/gitops.js');

/** What a child process started with an explicit environment keeps of this one: under `npm run coverage`, where
 * node writes its coverage (NODE_V8_COVERAGE, set by vitest.config.ts). */
export function coverageEnv(): Record<string, string> {
  const dir = process.env.NODE_V8_COVERAGE;
  return dir ? { NODE_V8_COVERAGE: dir } : {};
}

/** The example repository's configuration files, in memory. */
export function exampleFiles(): Map<string, string> {
  return readWorkingTree(PROJECT);
}

/** The example files with some files replaced (or removed, with undefined). */
export function withFiles(
  changes: Record<string, string | undefined>,
  base: Map<string, string> = exampleFiles(),
): Map<string, string> {
  const files = new Map(base);
  for (const [path, text] of Object.entries(changes)) {
    if (text === undefined) files.delete(path);
    else files.set(path, text);
  }
  return files;
}

/** Replaces one exact piece of a file's text; fails loudly when the piece is not there. */
export function edit(files: Map<string, string>, path: string, from: string, to: string): Map<string, string> {
  const text = files.get(path);
  if (text === undefined || !text.includes(from))
    throw new Error(`test setup: ${path} does not contain ${JSON.stringify(from)}`);
  return new Map(files).set(path, text.replace(from, to));
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

export function tempDir(prefix = 'doorbell-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A copy of the example repository (config, environments, schemas, .sops.yaml) in a temp directory. */
export function exampleCopy(): string {
  const dir = tempDir('doorbell-repo-');
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
  return dir;
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
