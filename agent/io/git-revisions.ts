// Revisions named the way people name them (HEAD~1, origin/main, a tag), resolved with git.

import { execFileSync } from 'node:child_process';
import { GitopsError } from '../core/errors.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { readCommitFiles } from './git-tree.js';

export function resolveRevision(root: string, rev: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    const shallow = isShallow(root);
    throw new GitopsError(
      'unknown-revision',
      `"${rev}" is not a commit in this repository${shallow ? ' (this clone is shallow: the base may not have been fetched)' : ''}`,
      shallow
        ? 'fetch more history (git fetch --unshallow, or actions/checkout with fetch-depth: 0)'
        : 'name a branch, a tag or a commit id',
    );
  }
}

export interface LogEntry {
  commit: string;
  parent: string | undefined;
  author: string;
  committer: string;
  date: string;
  subject: string;
}

/** The first-parent history from HEAD, newest first: what a branch's readers applied. */
export function firstParentLog(root: string, options: { max: number; since?: string }): LogEntry[] {
  const out = execFileSync(
    'git',
    [
      'log',
      '--first-parent',
      `-n${options.max}`,
      '--format=%H%x1f%P%x1f%an <%ae>%x1f%cn <%ce>%x1f%cI%x1f%s',
      ...(options.since ? [`--since=${options.since}`] : []),
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit, parents, author, committer, date, subject] = line.split('\x1f') as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      return { commit, parent: parents.split(' ').filter(Boolean)[0], author, committer, date, subject };
    });
}

export function gitDirectory(root: string): string {
  return execFileSync('git', ['rev-parse', '--absolute-git-dir'], { cwd: root, encoding: 'utf8' }).trim();
}

/** Two revisions resolved to commits, and the files of each read from git objects (no checkout). */
export async function readRevisionPair(
  root: string,
  baseRev: string,
  headRev: string,
): Promise<{ gitdir: string; base: string; head: string; baseFiles: RepoFiles; headFiles: RepoFiles }> {
  const base = resolveRevision(root, baseRev);
  const head = resolveRevision(root, headRev);
  const gitdir = gitDirectory(root);
  const cache = {}; // objects both trees share are inflated once
  const [baseFiles, headFiles] = await Promise.all([
    readCommitFiles(gitdir, base, { cache }),
    readCommitFiles(gitdir, head, { cache }),
  ]);
  return { gitdir, base, head, baseFiles, headFiles };
}

function isShallow(root: string): boolean {
  try {
    return (
      execFileSync('git', ['rev-parse', '--is-shallow-repository'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() === 'true'
    );
  } catch {
    throw new GitopsError(
      'not-a-repository',
      `${root} is not a git repository`,
      'run gitops diff inside the configuration repository',
    );
  }
}
