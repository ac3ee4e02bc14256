// gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--output text|json|yaml]
// git log as the audit trail: per commit that changed what a device runs, who wrote and
// committed it, its signature verdict and signer, the pull request it came from, and the
// rendered configuration paths it changed on which environments and devices.

import { AuditSelection, formatAuditText, pullRequestOfSubject } from '../agent/core/change/audit.js';
import type { AuditEntry } from '../agent/core/change/audit.js';
import { GitopsError } from '../agent/core/errors.js';
import { parseDotted } from '../agent/core/json/pointer.js';
import type { RepoFiles } from '../agent/core/repo/layout.js';
import { DEFAULT_SKEW_SECONDS, verifyCommitObject } from '../agent/core/trust/verify-object.js';
import type { TrustStore } from '../agent/core/trust/verify-object.js';
import { objectReader } from '../agent/io/git-objects.js';
import { readCommitFiles } from '../agent/io/git-tree.js';
import { firstParentLog, gitDirectory } from '../agent/io/git-revisions.js';
import { GitHub } from '../agent/io/github.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { err, EXIT_OK, list, openTree, out, outputOf, outputOptions, parse, printData, rootOption } from './cli.js';

const USAGE =
  'gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--output text|json|yaml] [--root DIR]';

export async function auditCommand(args: string[]): Promise<number> {
  const { values } = parse(
    'audit',
    args,
    {
      ...rootOption,
      env: { type: 'string', multiple: true, short: 'e' },
      device: { type: 'string', multiple: true, short: 'd' },
      path: { type: 'string', short: 'p' },
      since: { type: 'string' },
      trust: { type: 'string' },
      repo: { type: 'string' },
      max: { type: 'string' },
      ...outputOptions,
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = outputOf('audit', values, ['text', 'json', 'yaml'] as const, 'text');
  const max = values.max === undefined ? 200 : Number(values.max);
  if (!Number.isInteger(max) || max < 1)
    throw new GitopsError('usage', '--max must be a positive whole number', 'e.g. --max 50');
  if (values.since !== undefined && Number.isNaN(Date.parse(values.since)))
    throw new GitopsError('usage', `--since "${values.since}" is not a date`, 'e.g. --since 2026-01-01');
  // git reads a bare date as that day at the current time of day; an operator means its start
  const since =
    values.since !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(values.since) ? `${values.since} 00:00:00` : values.since;
  if (values.path !== undefined && !parseDotted(values.path))
    throw new GitopsError(
      'usage',
      `--path "${values.path}" is not a configuration path`,
      'write it with dots, e.g. frame_capture.fps',
    );
  // names are checked against the working tree and every tree the audit reads
  const { root, files: tree, repo: current } = openTree(values.root);
  const gitdir = await gitDirectory(root);
  // one commit more than asked for says whether the cap cut the history
  const read = await firstParentLog(root, { max: max + 1, ...(since !== undefined ? { since } : {}) });
  const cut = read.length > max;
  const log = read.slice(0, max);
  const trust: TrustStore | undefined = values.trust ? await loadTrustStore(values.trust) : undefined;
  const reader = objectReader(gitdir);
  const shared = { cache: {}, blobs: new Map<string, string>() }; // what the commits share is read once
  const trees = new Map<string, Promise<RepoFiles>>();
  const filesAt = (oid: string): Promise<RepoFiles> => {
    let hit = trees.get(oid);
    if (!hit) trees.set(oid, (hit = readCommitFiles(gitdir, oid, shared).catch(() => new Map<string, string>())));
    return hit;
  };
  // Squash and merge subjects name their PR; other commits are looked up when a token is set.
  const repoName = values.repo ?? process.env.GITHUB_REPOSITORY;
  const token = process.env.GITHUB_TOKEN;
  const github =
    token && repoName?.includes('/')
      ? new GitHub(token, process.env.GITHUB_API_URL ?? 'https://api.github.com')
      : undefined;
  const [owner, name] = (repoName ?? '/').split('/') as [string, string];
  const selection = new AuditSelection({
    environments: list(values.env),
    devices: list(values.device),
    ...(values.path !== undefined ? { path: values.path } : {}),
    schemaCache: fileSchemaCache(),
  });
  selection.note(tree);
  const entries: AuditEntry[] = [];
  for (const { commit, parent, author, committer, date, subject } of log) {
    const changed = selection.changesOf(
      parent ? await filesAt(parent) : new Map<string, string>(),
      await filesAt(commit),
    );
    if (!changed) continue;
    let signature: AuditEntry['signature'] = { verdict: 'not checked (no --trust)', signer: null };
    if (trust) {
      const raw = await reader.read(commit);
      const v = raw
        ? await verifyCommitObject(commit, commit, raw.bytes, trust, {
            now: Math.floor(Date.now() / 1000),
            skewSeconds: DEFAULT_SKEW_SECONDS,
          })
        : undefined;
      signature = { verdict: v?.verdict ?? 'malformed', signer: v?.signer ?? null };
    }
    const pr =
      pullRequestOfSubject(subject) ?? (github ? await github.pullForCommit({ owner, repo: name }, commit) : null);
    entries.push({ commit, date, subject, author, committer, pr, signature, ...changed });
  }
  selection.check(current.schemas);
  if (cut)
    err(
      `gitops audit: only the newest ${max} commits were read (--max ${max}); older history was not audited: give a larger --max, or --since DATE`,
    );
  printData(format, entries, () => formatAuditText(entries).join('\n'));
  return EXIT_OK;
}
