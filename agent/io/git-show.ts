// A file as it was at a git revision, read with the git binary the operator already has.

import { dirname, relative } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { git } from './git-revisions.js';
import { succeeded } from './process.js';
import type { ProcessRunner } from './process.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** The bytes of `file` at `rev`, or undefined when the file did not exist there. */
export async function fileAtRevision(
  file: string,
  rev: string,
  processes?: ProcessRunner,
): Promise<Buffer | undefined> {
  const cwd = dirname(file);
  const top = await git(cwd, ['rev-parse', '--show-toplevel'], { processes });
  if (!succeeded(top))
    throw new GitopsError(
      'not-a-repository',
      `${file} is not inside a git repository`,
      'compare two revisions of a file tracked by git',
    );
  if (!succeeded(await git(cwd, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { processes })))
    throw new GitopsError(
      'unknown-revision',
      `"${rev}" is not a commit in this repository`,
      'name a branch, a tag or a commit id (git log shows them)',
    );
  const path = relative(top.stdout.toString('utf8').trim(), file).split('\\').join('/');
  const shown = await git(cwd, ['show', `${rev}:${path}`], { maxOutputBytes: MAX_FILE_BYTES, processes });
  if (shown.truncated)
    throw new GitopsError(
      'file-too-large',
      `${path} at ${rev} is larger than ${MAX_FILE_BYTES} bytes`,
      'a secrets file is a few kilobytes: check that the path names the right file',
    );
  return succeeded(shown) ? shown.stdout : undefined;
}
