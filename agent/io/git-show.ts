// A file as it was at a git revision, read with the git binary the operator already has.

import { execFileSync } from 'node:child_process';
import { dirname, relative } from 'node:path';
import { GitopsError } from '../core/errors.js';

/** The bytes of `file` at `rev`, or undefined when the file did not exist there. */
export function fileAtRevision(file: string, rev: string): Buffer | undefined {
  const cwd = dirname(file);
  let top: string;
  try {
    top = execFileSync('git', ['rev-parse', '--show-toplevel'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    throw new GitopsError(
      'not-a-repository',
      `${file} is not inside a git repository`,
      'compare two revisions of a file tracked by git',
    );
  }
  try {
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd, stdio: 'ignore' });
  } catch {
    throw new GitopsError(
      'unknown-revision',
      `"${rev}" is not a commit in this repository`,
      'name a branch, a tag or a commit id (git log shows them)',
    );
  }
  try {
    return execFileSync('git', ['show', `${rev}:${relative(top, file).split('\\').join('/')}`], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch {
    return undefined;
  }
}
