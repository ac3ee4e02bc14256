// Revisions named the way people name them (HEAD~1, origin/main, a tag), resolved with git.

import { GitopsError } from '../core/errors.js';
import { decodeFile, MAX_FILE_BYTES, problemText } from '../core/repo/file.js';
import { REPO_ROOTS } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { CONFIG_FILE_NAME, TOP_FILES } from './git-tree.js';
import { failure, nodeProcessRunner, succeeded } from './process.js';
import type { ProcessResult, ProcessRunner } from './process.js';

/** The git command line, run through the process port (the operator's own git binary). */
export function git(
  cwd: string,
  args: readonly string[],
  options: { maxOutputBytes?: number; processes?: ProcessRunner; input?: string } = {},
): Promise<ProcessResult> {
  return (options.processes ?? nodeProcessRunner).run('git', args, {
    cwd,
    maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
    ...(options.input !== undefined ? { input: options.input } : {}),
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

/**
 * A commit's configuration files read with the operator's git: the same files, texts and
 * stand-ins as readCommitFiles (which the agent uses, with no git binary), in git's order of tree entries,
 * in two git processes (ls-tree, then cat-file --batch for the blobs not yet in `blobs`) instead
 * of one read per object. A blob over `maxFileBytes` is never read.
 */
export async function readCommitFilesWithGit(
  root: string,
  commit: string,
  options: { blobs?: Map<string, string>; maxFileBytes?: number; processes?: ProcessRunner } = {},
): Promise<RepoFiles> {
  const max = options.maxFileBytes ?? MAX_FILE_BYTES;
  const listing = await git(
    root,
    ['ls-tree', '-r', '-l', '-z', '--full-tree', commit, '--', ...REPO_ROOTS, ...TOP_FILES],
    {
      maxOutputBytes: 256 * 1024 * 1024,
      processes: options.processes,
    },
  );
  if (!succeeded(listing))
    throw new GitopsError(
      'commit-unreadable',
      `cannot read the tree of ${commit}: ${failure('git', listing)}`,
      'the commit or one of its objects is missing (a shallow or interrupted fetch)',
    );
  const files = new Map<string, string>();
  const known = options.blobs ?? new Map<string, string>();
  const wanted: Array<{ path: string; oid: string; size: number }> = [];
  for (const entry of listing.stdout.toString('utf8').split('\0')) {
    // <mode> SP <type> SP <oid> SP+ <size> TAB <path>
    const m = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t(.+)$/s.exec(entry);
    if (!m) continue;
    const [, mode, type, oid, size, path] = m as unknown as [string, string, string, string, string, string];
    const top = !path.includes('/');
    if (mode === '120000') files.set(path, problemText({ code: 'symlink' }));
    else if (type === 'commit')
      files.set(path, problemText({ code: 'not-a-file' })); // a submodule
    else if (type !== 'blob' || (!top && !CONFIG_FILE_NAME.test(path))) continue;
    else if (Number(size) > max) files.set(path, problemText({ code: 'file-too-large', size: Number(size) }));
    else {
      files.set(path, known.get(oid) ?? ''); // its place in the listing's order; the text comes below
      if (!known.has(oid)) wanted.push({ path, oid, size: Number(size) });
    }
  }
  if (wanted.length > 0) {
    const total = wanted.reduce((n, w) => n + w.size + w.oid.length + 32, 0);
    const batch = await git(root, ['cat-file', '--batch'], {
      maxOutputBytes: total + 1024,
      processes: options.processes,
      input: [...new Set(wanted.map((w) => w.oid))].join('\n') + '\n',
    });
    if (!succeeded(batch))
      throw new GitopsError(
        'commit-unreadable',
        `cannot read the files of ${commit}: ${failure('git', batch)}`,
        'the commit or one of its objects is missing (a shallow or interrupted fetch)',
      );
    // <oid> SP <type> SP <size> LF <contents> LF, for each object asked for
    const out = batch.stdout;
    for (let at = 0; at < out.length;) {
      const eol = out.indexOf(10, at);
      const [oid, type, size] = out.subarray(at, eol).toString('utf8').split(' ');
      if (type !== 'blob' || eol < 0)
        throw new GitopsError(
          'commit-unreadable',
          `cannot read the files of ${commit}: git has no blob ${oid ?? '?'}`,
          'the commit or one of its objects is missing (a shallow or interrupted fetch)',
        );
      const start = eol + 1;
      const end = start + Number(size);
      known.set(oid!, decodeFile(out.subarray(start, end), max));
      at = end + 1;
    }
    for (const w of wanted) files.set(w.path, known.get(w.oid)!);
  }
  return files;
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
  const shared = { blobs: new Map<string, string>(), processes }; // what both trees share is read once
  const headFiles = await readCommitFilesWithGit(root, head, shared);
  const baseFiles = await readCommitFilesWithGit(root, base, shared);
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
