// Revisions named the way people name them (HEAD~1, origin/main, a tag), resolved with git.

import { GitopsError } from '../core/errors.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { readCommitFiles } from './git-tree.js';
import { failure, nodeProcessRunner, succeeded } from './process.js';
import type { ProcessResult, ProcessRunner } from './process.js';

/** The git command line, run through the process port (the operator's own git binary). */
export function git(
  cwd: string,
  args: readonly string[],
  options: { maxOutputBytes?: number; processes?: ProcessRunner } = {},
): Promise<ProcessResult> {
  return (options.processes ?? nodeProcessRunner).run('git', args, {
    cwd,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
  });
}

/** git's stdout as text, or a git-failed error naming the command and what git said. */
async function gitText(cwd: string, args: readonly string[], options: Parameters<typeof git>[2] = {}): Promise<string> {
  const r = await git(cwd, args, options);
  if (!succeeded(r))
    throw new GitopsError(
      'git-failed',
      `git ${args[0]} failed in ${cwd}: ${failure('git', r)}`,
      'run the same git command by hand to see what git needs',
    );
  return r.stdout.toString('utf8');
}

export async function resolveRevision(root: string, rev: string, processes?: ProcessRunner): Promise<string> {
  const r = await git(root, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { processes });
  if (succeeded(r)) return r.stdout.toString('utf8').trim();
  const shallow = await isShallow(root, processes);
  throw new GitopsError(
    'unknown-revision',
    `"${rev}" is not a commit in this repository${shallow ? ' (this clone is shallow: the base may not have been fetched)' : ''}`,
    shallow
      ? 'fetch more history (git fetch --unshallow, or actions/checkout with fetch-depth: 0)'
      : 'name a branch, a tag or a commit id',
  );
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
export async function firstParentLog(
  root: string,
  options: { max: number; since?: string; processes?: ProcessRunner },
): Promise<LogEntry[]> {
  const out = await gitText(
    root,
    [
      'log',
      '--first-parent',
      `-n${options.max}`,
      '--format=%H%x1f%P%x1f%an <%ae>%x1f%cn <%ce>%x1f%cI%x1f%s',
      ...(options.since ? [`--since=${options.since}`] : []),
    ],
    { maxOutputBytes: 64 * 1024 * 1024, processes: options.processes },
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

export async function gitDirectory(root: string, processes?: ProcessRunner): Promise<string> {
  return (await gitText(root, ['rev-parse', '--absolute-git-dir'], { processes })).trim();
}

/** Two revisions resolved to commits, and the files of each read from git objects (no checkout). */
export async function readRevisionPair(
  root: string,
  baseRev: string,
  headRev: string,
  processes?: ProcessRunner,
): Promise<{ gitdir: string; base: string; head: string; baseFiles: RepoFiles; headFiles: RepoFiles }> {
  const base = await resolveRevision(root, baseRev, processes);
  const head = await resolveRevision(root, headRev, processes);
  const gitdir = await gitDirectory(root, processes);
  const shared = { cache: {}, blobs: new Map<string, string>() }; // what both trees share is read once
  const [baseFiles, headFiles] = await Promise.all([
    readCommitFiles(gitdir, base, shared),
    readCommitFiles(gitdir, head, shared),
  ]);
  return { gitdir, base, head, baseFiles, headFiles };
}

async function isShallow(root: string, processes?: ProcessRunner): Promise<boolean> {
  const r = await git(root, ['rev-parse', '--is-shallow-repository'], { processes });
  if (succeeded(r)) return r.stdout.toString('utf8').trim() === 'true';
  throw new GitopsError(
    'not-a-repository',
    `${root} is not a git repository`,
    'run gitops diff inside the configuration repository',
  );
}
