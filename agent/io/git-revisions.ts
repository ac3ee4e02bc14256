// Revisions named the way people name them (HEAD~1, origin/main, a tag), resolved with git.

import { execFileSync } from 'node:child_process';
import { GitopsError } from '../core/errors.js';

export function resolveRevision(root: string, rev: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    const shallow = isShallow(root);
    throw new GitopsError('unknown-revision', `"${rev}" is not a commit in this repository${shallow ? ' (this clone is shallow: the base may not have been fetched)' : ''}`, shallow ? 'fetch more history (git fetch --unshallow, or actions/checkout with fetch-depth: 0)' : 'name a branch, a tag or a commit id');
  }
}

export function gitDirectory(root: string): string {
  return execFileSync('git', ['rev-parse', '--absolute-git-dir'], { cwd: root, encoding: 'utf8' }).trim();
}

function isShallow(root: string): boolean {
  try {
    return execFileSync('git', ['rev-parse', '--is-shallow-repository'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'true';
  } catch {
    throw new GitopsError('not-a-repository', `${root} is not a git repository`, 'run gitops diff inside the configuration repository');
  }
}
