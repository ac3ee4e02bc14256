// A change to the working tree as a pull request, the way `gitops propose` makes one: the files
// written (or removed) on a new branch, committed with the user's own git (and so its signing),
// pushed, and the pull request opened through the GitHub API (GITHUB_TOKEN, GITHUB_API_URL). A
// failure before the commit puts the working tree and branch back as they were.

import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import { GitopsError } from '../agent/core/errors.js';
import { GitHub } from '../agent/io/github.js';
import { writeFileAtomic } from '../agent/io/repo-files.js';
import { diffRepositories } from '../agent/core/change/diff.js';
import type { ChangeReport } from '../agent/core/change/diff.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { formatDiffText } from '../agent/core/format/diff.js';
import type { RepoFiles } from '../agent/core/repo/layout.js';
import { validateRepository } from '../agent/core/validate/validate.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { EXIT_INVALID, EXIT_OK, err, out } from './cli.js';

/** The flags of a command that opens a pull request (conclude, tune propose). */
export const PULL_REQUEST_OPTIONS = {
  remote: { type: 'string' },
  base: { type: 'string' },
  repo: { type: 'string' },
  title: { type: 'string' },
  draft: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

export interface BranchChange {
  root: string;
  /** Path -> its new text; undefined removes the file. */
  changes: ReadonlyMap<string, string | undefined>;
  /** The new branch's name prefix (a time suffix is added). */
  branchPrefix: string;
  title: string;
  body: string;
  remote: string;
  base?: string | undefined;
  /** OWNER/NAME on GitHub; else GITHUB_REPOSITORY, else the remote's github.com URL. */
  repo?: string | undefined;
  draft: boolean;
}

/** Refuses when a file to change has uncommitted changes; returns the branch to go back to. */
export async function cleanBase(git: SimpleGit, paths: readonly string[], base?: string): Promise<string> {
  const status = await git.status();
  const dirty = status.files.find((f) => paths.includes(f.path));
  if (dirty) throw new GitopsError('dirty-file', `${dirty.path} has uncommitted changes`, 'commit or stash them first');
  return base ?? status.current ?? 'main';
}

/** Commits the change on a new branch, pushes it, opens the pull request; returns its URL (or null: no token). */
export async function openChangeRequest(c: BranchChange): Promise<string | null> {
  const git = simpleGit(c.root);
  const paths = [...c.changes.keys()];
  const baseBranch = await cleanBase(git, paths, c.base);
  const tracked = new Set((await git.raw(['ls-files', '--', ...paths])).split('\n').filter(Boolean));
  const branch = `${c.branchPrefix.replace(/[^a-z0-9/-]/g, '-')}-${Date.now().toString(36)}`;
  await git.checkoutLocalBranch(branch);
  let committed = false;
  try {
    for (const [path, text] of c.changes)
      if (text === undefined) await git.raw(['rm', '-q', '--', path]);
      else writeFileAtomic(join(c.root, path), text);
    const written = paths.filter((p) => c.changes.get(p) !== undefined);
    if (written.length > 0) await git.add(written); // a removal is staged by git rm
    await git.commit(c.title, paths); // the user's git configuration signs it when it is set to
    committed = true;
    await git.push(c.remote, branch, ['--set-upstream']);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).trim().split('\n')[0];
    if (committed)
      throw new GitopsError(
        'git-failed',
        `committed on branch ${branch} but could not push it to ${c.remote}: ${reason}`,
        `push it yourself with: git push --set-upstream ${c.remote} ${branch}`,
        { cause: e },
      );
    await git.raw(['reset', '-q', '--', ...paths]).catch(() => undefined);
    if (tracked.size > 0) await git.raw(['checkout', '--', ...tracked]).catch(() => undefined);
    const created = paths.filter((p) => !tracked.has(p));
    if (created.length > 0) await git.raw(['clean', '-fq', '--', ...created]).catch(() => undefined);
    await git.checkout(baseBranch);
    await git.raw(['branch', '-D', branch]).catch(() => undefined);
    throw new GitopsError(
      'git-failed',
      `git could not commit the change: ${reason}`,
      'fix your git setup (user.name, user.email, signing key) and run the same command again; nothing was changed',
      { cause: e },
    );
  } finally {
    if ((await git.revparse(['--abbrev-ref', 'HEAD'])) !== baseBranch) await git.checkout(baseBranch);
  }
  out(`pushed ${branch} (${paths.join(', ')})`);
  const remoteUrl = await git.remote(['get-url', c.remote]).catch(() => '');
  const repoName =
    c.repo ?? process.env.GITHUB_REPOSITORY ?? /github\.com[:/]([^/]+\/[^/.]+)/.exec(remoteUrl || '')?.[1];
  const token = process.env.GITHUB_TOKEN;
  if (!repoName || !token) {
    err(
      `no ${!token ? 'GITHUB_TOKEN' : 'GitHub repository (--repo OWNER/NAME)'}: open the pull request for ${branch} yourself`,
    );
    return null;
  }
  const [owner, name] = repoName.split('/') as [string, string];
  const url = await new GitHub(token, process.env.GITHUB_API_URL ?? 'https://api.github.com').createPull(
    { owner, repo: name },
    { title: c.title, head: branch, base: baseBranch, body: c.body, draft: c.draft },
  );
  out(`opened ${url}`);
  return url;
}

/** A change of repository files as a command proposes it: validated, shown (dry run) or opened as a pull request. */
export interface FileProposal {
  root: string;
  before: RepoFiles;
  after: RepoFiles;
  written: readonly string[];
  removed?: readonly string[];
  /** The environments validated and diffed. */
  environments: readonly string[];
  /** What is refused when it does not validate: 'the conclusion', 'the proposal'. */
  what: string;
  title: string;
  /** The pull request's body, given the rendered diff. */
  body: (diff: ChangeReport) => string;
  branchPrefix: string;
  dryRun: boolean;
  remote: string;
  base?: string | undefined;
  repo?: string | undefined;
  draft: boolean;
  /** Run after the validation, before anything is committed (not on a dry run): it may refuse. */
  beforeCommit?: () => Promise<void>;
}

/** Validates the proposed tree, then prints it (dry run) or opens the pull request; the exit status. */
export async function proposeFiles(p: FileProposal): Promise<number> {
  const validation = validateRepository(p.after, { environments: p.environments }, fileSchemaCache());
  if (!validation.valid) {
    err(formatText(validation.diagnostics.filter((d) => d.severity === 'error')));
    err(`${p.what} would not validate; nothing was committed`);
    return EXIT_INVALID;
  }
  const diff = diffRepositories(p.before, p.after, { environments: p.environments, schemaCache: fileSchemaCache() });
  const body = p.body(diff);
  const removed = p.removed ?? [];
  if (p.dryRun) {
    out(
      [
        'dry run: nothing is written, committed or pushed',
        '',
        ...p.written.map((f) => `would write  ${f}`),
        ...removed.map((f) => `would remove ${f}`),
        '',
        formatDiffText(diff),
        '',
        `pull request: ${p.title}`,
        '',
        body,
      ].join('\n'),
    );
    return EXIT_OK;
  }
  await p.beforeCommit?.();
  const changes = new Map<string, string | undefined>();
  for (const f of p.written) changes.set(f, p.after.get(f));
  for (const f of removed) changes.set(f, undefined);
  await openChangeRequest({
    root: p.root,
    changes,
    branchPrefix: p.branchPrefix,
    title: p.title,
    body,
    remote: p.remote,
    base: p.base,
    repo: p.repo,
    draft: p.draft,
  });
  return EXIT_OK;
}
