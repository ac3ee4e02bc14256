// gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--format text|json]
// git log as the audit trail: per commit that changed what a device runs, who wrote and
// committed it, its signature verdict and signer, the pull request it came from, and the
// rendered configuration paths it changed on which environments and devices.

import { diffRepositories } from '../agent/core/diff.js';
import type { PathChange } from '../agent/core/diff.js';
import { GitopsError } from '../agent/core/errors.js';
import type { RepoFiles } from '../agent/core/repo-layout.js';
import { DEFAULT_SKEW_SECONDS, verifyCommitObject } from '../agent/core/trust/verify-object.js';
import type { TrustStore } from '../agent/core/trust/verify-object.js';
import { objectReader } from '../agent/io/git-objects.js';
import { readCommitFiles } from '../agent/io/git-tree.js';
import { firstParentLog, gitDirectory } from '../agent/io/git-revisions.js';
import { GitHub } from '../agent/io/github.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { EXIT_OK, list, oneOf, out, parse, repoRoot, rootOption } from './cli.js';

const USAGE = 'gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--format text|json] [--root DIR]';

interface AuditEntry {
  commit: string;
  date: string;
  subject: string;
  author: string;
  committer: string;
  pr: number | null;
  signature: { verdict: string; signer: string | null };
  changes: Array<{ target: string } & PathChange>;
  secrets: Array<{ environment: string; path: string; change: string }>;
}

export async function auditCommand(args: string[]): Promise<number> {
  const { values } = parse('audit', args, { ...rootOption, env: { type: 'string', multiple: true, short: 'e' }, device: { type: 'string', multiple: true, short: 'd' }, path: { type: 'string', short: 'p' }, since: { type: 'string' }, trust: { type: 'string' }, repo: { type: 'string' }, max: { type: 'string' }, format: { type: 'string', short: 'f' } }, USAGE);
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = oneOf('audit', 'format', values.format, ['text', 'json'] as const, 'text');
  const max = values.max === undefined ? 200 : Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new GitopsError('usage', '--max must be a positive whole number', 'e.g. --max 50');
  if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) throw new GitopsError('usage', `--since "${values.since}" is not a date`, 'e.g. --since 2026-01-01');
  const root = repoRoot(values.root);
  const gitdir = gitDirectory(root);
  const log = firstParentLog(root, { max, since: values.since });
  const trust: TrustStore | undefined = values.trust ? await loadTrustStore(values.trust) : undefined;
  const reader = objectReader(gitdir);
  const cache = {};
  const trees = new Map<string, Promise<RepoFiles>>();
  const filesAt = (oid: string): Promise<RepoFiles> => {
    let hit = trees.get(oid);
    if (!hit) trees.set(oid, (hit = readCommitFiles(gitdir, oid, { cache }).catch(() => new Map<string, string>())));
    return hit;
  };
  const schemaCache = fileSchemaCache();
  // Squash and merge subjects name their PR; other commits are looked up when a token is set.
  const repoName = values.repo ?? process.env.GITHUB_REPOSITORY;
  const token = process.env.GITHUB_TOKEN;
  const github = token && repoName?.includes('/') ? new GitHub(token, process.env.GITHUB_API_URL ?? 'https://api.github.com') : undefined;
  const [owner, name] = (repoName ?? '/').split('/') as [string, string];
  const entries: AuditEntry[] = [];
  for (const { commit, parent, author, committer, date, subject } of log) {
    const report = diffRepositories(parent ? await filesAt(parent) : new Map(), await filesAt(commit), { environments: list(values.env), devices: list(values.device), schemaCache });
    const wanted = (p: string): boolean => !values.path || p === values.path || p.startsWith(`${values.path}.`);
    const changes = report.targets.flatMap((t) => t.changes.filter((c) => wanted(c.path)).map((c) => ({ target: `${t.environment}/${t.device ?? '(environment)'}`, ...c })));
    const secrets = report.environments.flatMap((e) => e.secrets.filter((s) => wanted(s.path)).map((s) => ({ environment: e.environment, path: s.path, change: s.change })));
    if (changes.length === 0 && secrets.length === 0) continue;
    let signature: AuditEntry['signature'] = { verdict: 'not checked (no --trust)', signer: null };
    if (trust) {
      const raw = await reader.read(commit);
      const v = raw ? await verifyCommitObject(commit, commit, raw.bytes, trust, { now: Math.floor(Date.now() / 1000), skewSeconds: DEFAULT_SKEW_SECONDS }) : undefined;
      signature = { verdict: v?.verdict ?? 'malformed', signer: v?.signer ?? null };
    }
    const fromSubject = /^Merge pull request #(\d+)/.exec(subject)?.[1] ?? /\(#(\d+)\)\s*$/.exec(subject)?.[1];
    const pr = fromSubject ? Number(fromSubject) : github ? await github.pullForCommit({ owner, repo: name }, commit) : null;
    entries.push({ commit, date, subject, author, committer, pr, signature, changes, secrets });
  }
  if (format === 'json') {
    out(JSON.stringify(entries, null, 2));
    return EXIT_OK;
  }
  if (entries.length === 0) out('no commit changed what the selected devices run');
  const show = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  for (const e of entries) {
    out(`${e.commit.slice(0, 12)} ${e.date.slice(0, 19).replace('T', ' ')}  ${e.subject}${e.pr ? `  (PR #${e.pr})` : ''}`);
    out(`    author ${e.author}; committer ${e.committer}; signature ${e.signature.verdict}${e.signature.signer ? ` by ${e.signature.signer}` : ''}`);
    for (const c of e.changes) out(`    ${c.target}: ${c.path} ${c.change === 'changed' ? `${show(c.old)} -> ${show(c.new)}` : c.change === 'added' ? `+ ${show(c.new)}` : `- ${show(c.old)}`}${c.file ? `  (${c.file}${c.line !== undefined ? `:${c.line}` : ''})` : ''}`);
    for (const s of e.secrets) out(`    ${s.environment}: secret ${s.path} ${s.change}`);
  }
  return EXIT_OK;
}
