// gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--format text|json]
// git log as the audit trail: per commit that changed what a device runs, who wrote and
// committed it, its signature verdict and signer, the pull request it came from, and the
// rendered configuration paths it changed on which environments and devices.

import { diffRepositories } from '../agent/core/change/diff.js';
import type { PathChange } from '../agent/core/change/diff.js';
import { GitopsError } from '../agent/core/errors.js';
import { parseDotted } from '../agent/core/json/pointer.js';
import { isObject } from '../agent/core/json/value.js';
import { listDevices, listEnvironments } from '../agent/core/repo/layout.js';
import type { RepoFiles } from '../agent/core/repo/layout.js';
import type { Repository } from '../agent/core/repo/repository.js';
import { closest } from '../agent/core/format/suggest.js';
import { DEFAULT_SKEW_SECONDS, verifyCommitObject } from '../agent/core/trust/verify-object.js';
import type { TrustStore } from '../agent/core/trust/verify-object.js';
import { objectReader } from '../agent/io/git-objects.js';
import { readCommitFiles } from '../agent/io/git-tree.js';
import { firstParentLog, gitDirectory } from '../agent/io/git-revisions.js';
import { GitHub } from '../agent/io/github.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { err, EXIT_OK, list, oneOf, openTree, out, parse, rootOption } from './cli.js';

const USAGE =
  'gitops audit [--env E]... [--device D]... [--path P] [--since DATE] [--trust DIR] [--repo OWNER/NAME] [--max N] [--format text|json] [--root DIR]';

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
      format: { type: 'string', short: 'f' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = oneOf('audit', 'format', values.format, ['text', 'json'] as const, 'text');
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
  const github =
    token && repoName?.includes('/')
      ? new GitHub(token, process.env.GITHUB_API_URL ?? 'https://api.github.com')
      : undefined;
  const [owner, name] = (repoName ?? '/').split('/') as [string, string];
  const environments = list(values.env);
  const devices = list(values.device);
  const seen = { environments: new Set<string>(), devices: new Set<string>(), path: false };
  noteNames(tree, environments, seen);
  const wanted = (p: string): boolean =>
    !values.path || p === values.path || p.startsWith(`${values.path}.`) || p.startsWith(`${values.path}[`);
  const entries: AuditEntry[] = [];
  for (const { commit, parent, author, committer, date, subject } of log) {
    const [before, after] = [parent ? await filesAt(parent) : new Map<string, string>(), await filesAt(commit)];
    for (const files of [before, after]) noteNames(files, environments, seen);
    const report = diffRepositories(before, after, { environments, devices, schemaCache });
    if (!seen.path && report.targets.some((t) => t.changes.some((c) => wanted(c.path)))) seen.path = true;
    const changes = report.targets.flatMap((t) =>
      t.changes
        .filter((c) => wanted(c.path))
        .map((c) => ({ target: `${t.environment}/${t.device ?? '(environment)'}`, ...c })),
    );
    const secrets = report.environments.flatMap((e) =>
      e.secrets
        .filter((s) => wanted(s.path))
        .map((s) => ({ environment: e.environment, path: s.path, change: s.change })),
    );
    if (changes.length === 0 && secrets.length === 0) continue;
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
    const fromSubject = /^Merge pull request #(\d+)/.exec(subject)?.[1] ?? /\(#(\d+)\)\s*$/.exec(subject)?.[1];
    const pr = fromSubject
      ? Number(fromSubject)
      : github
        ? await github.pullForCommit({ owner, repo: name }, commit)
        : null;
    entries.push({ commit, date, subject, author, committer, pr, signature, changes, secrets });
  }
  checkNames({ environments, devices, path: values.path }, seen, current.schemas);
  if (cut)
    err(
      `gitops audit: only the newest ${max} commits were read (--max ${max}); older history was not audited: give a larger --max, or --since DATE`,
    );
  if (format === 'json') {
    out(JSON.stringify(entries, null, 2));
    return EXIT_OK;
  }
  if (entries.length === 0) out('no commit changed what the selected devices run');
  const show = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  for (const e of entries) {
    out(
      `${e.commit.slice(0, 12)} ${e.date.slice(0, 19).replace('T', ' ')}  ${e.subject}${e.pr ? `  (PR #${e.pr})` : ''}`,
    );
    out(
      `    author ${e.author}; committer ${e.committer}; signature ${e.signature.verdict}${e.signature.signer ? ` by ${e.signature.signer}` : ''}`,
    );
    for (const c of e.changes)
      out(
        `    ${c.target}: ${c.path} ${c.change === 'changed' ? `${show(c.old)} -> ${show(c.new)}` : c.change === 'added' ? `+ ${show(c.new)}` : `- ${show(c.old)}`}${c.file ? `  (${c.file}${c.line !== undefined ? `:${c.line}` : ''})` : ''}`,
      );
    for (const s of e.secrets) out(`    ${s.environment}: secret ${s.path} ${s.change}`);
  }
  return EXIT_OK;
}

/** Records the environments and devices (of the selected environments) that a tree holds. */
function noteNames(
  files: RepoFiles,
  environments: readonly string[],
  seen: { environments: Set<string>; devices: Set<string> },
): void {
  for (const env of listEnvironments(files)) {
    seen.environments.add(env);
    if (environments.length === 0 || environments.includes(env))
      for (const d of listDevices(files, env)) seen.devices.add(d);
  }
}

/**
 * A selection that names nothing the history read ever held (a typo, most often) is an error
 * with the nearest name, never an empty audit. A path counts when a commit changed it or the
 * working tree's schemas define it.
 */
function checkNames(
  asked: { environments: readonly string[]; devices: readonly string[]; path: string | undefined },
  seen: { environments: Set<string>; devices: Set<string>; path: boolean },
  schemas: Repository['schemas'],
): void {
  for (const env of asked.environments) {
    if (seen.environments.has(env)) continue;
    const guess = closest(env, seen.environments);
    throw new GitopsError(
      'unknown-environment',
      `there is no environment "${env}" in the working tree or the history read${guess ? `. Did you mean "${guess}"?` : ''}`,
      `environments: ${[...seen.environments].sort().join(', ') || '(none)'}`,
    );
  }
  for (const device of asked.devices) {
    if (seen.devices.has(device)) continue;
    const guess = closest(device, seen.devices);
    const where = asked.environments.length > 0 ? ` in ${asked.environments.join(', ')}` : '';
    throw new GitopsError(
      'unknown-device',
      `there is no device "${device}"${where} in the working tree or the history read${guess ? `. Did you mean "${guess}"?` : ''}`,
      `devices${where}: ${[...seen.devices].sort().join(', ') || '(none)'}`,
    );
  }
  if (asked.path === undefined || seen.path) return;
  const segments = parseDotted(asked.path)!;
  if (!schemas || schemas.nodeAt(segments)) return;
  const parent = segments.length > 1 ? schemas.nodeAt(segments.slice(0, -1)) : undefined;
  const names =
    segments.length === 1
      ? schemas.sections()
      : parent && isObject(parent.properties)
        ? Object.keys(parent.properties)
        : [];
  const guess = closest(String(segments[segments.length - 1]), names);
  throw new GitopsError(
    'unknown-path',
    `${asked.path} is not a configuration path${guess ? `. Did you mean "${[...segments.slice(0, -1), guess].join('.')}"?` : ''}`,
    names.length > 0 ? `keys here: ${names.join(', ')}` : 'gitops explain PATH shows the schema of a path',
  );
}
