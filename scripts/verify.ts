// gitops verify --repo GITDIR --trust DIR [--output json|text|yaml] OBJECT...
// gitops verify --repo GITDIR --trust DIR --range APPLIED..CANDIDATE [--mode all|first-parent]
//
// --now TIME is the device's clock (default: this machine's); keys must be valid then for the
// candidate (and each OBJECT). JSON entries carry, besides verdict/signer/reason, `code` (null,
// or "future-dated": a policy refusal of an object dated more than --skew seconds after --now)
// and `retryable` (true only then: refuse it for now, never record it as bad for ever). JSON is the
// default output. OBJECT and the ends of --range are any revision git accepts (HEAD~1, v1.2^{}, a short id).
// Without --repo, the git repository of the configuration repository the current directory is in
// (found as every command finds its root); without --trust, that work tree's .github/trust/ when
// it has one (the trust directory the pull-request workflow verifies against).

import { join } from 'node:path';
import { GitopsError } from '../agent/core/errors.js';
import { verifyRange } from '../agent/core/trust/history.js';
import type { HistoryMode } from '../agent/core/trust/history.js';
import { verdictOf } from '../agent/core/trust/verdict.js';
import type { ObjectVerdict } from '../agent/core/trust/verdict.js';
import { DEFAULT_SKEW_SECONDS, verifyCommitObject, verifyTagObject } from '../agent/core/trust/verify-object.js';
import type { TrustStore, VerifyOptions } from '../agent/core/trust/verify-object.js';
import { gitDirOf, objectReader, resolveObject } from '../agent/io/git-objects.js';
import type { ResolvedObject } from '../agent/io/git-objects.js';
import { git } from '../agent/io/git-revisions.js';
import { succeeded } from '../agent/io/process.js';
import { fileExists } from '../agent/io/local-files.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  oneOf,
  out,
  outputOf,
  outputOptions,
  parse,
  printData,
  repoRoot,
  warnTrustProblems,
} from './cli.js';

const USAGE =
  'gitops verify [--repo GITDIR] [--trust DIR] [--output json|text|yaml] [--now TIME] [--skew SECONDS] OBJECT...\n' +
  '       gitops verify [--repo GITDIR] [--trust DIR] --range APPLIED..CANDIDATE [--mode all|first-parent] ' +
  '[--output json|text|yaml] [--now TIME] [--skew SECONDS]';

/** The conventional trust directory of a work tree: the one the pull-request workflow verifies against. */
export const TRUST_DIR = '.github/trust';

/**
 * The git directory to read and the work tree it belongs to (undefined for a bare repository):
 * --repo, else the repository of the configuration repository found from the current directory.
 */
async function repositoryOf(repo: string | undefined): Promise<{ gitdir: string; workTree: string | undefined }> {
  if (repo !== undefined) {
    const gitdir = gitDirOf(repo);
    return { gitdir, workTree: gitdir === repo ? undefined : repo };
  }
  const root = repoRoot(undefined);
  const r = await git(root, ['rev-parse', '--absolute-git-dir', '--show-toplevel']);
  const [gitdir, workTree] = succeeded(r) ? r.stdout.toString('utf8').trim().split('\n') : [];
  if (!gitdir || !workTree)
    throw new GitopsError(
      'usage',
      `${root} is not inside a git work tree, and --repo is not given`,
      `run it inside a checkout, or give --repo GITDIR; usage: ${USAGE}`,
    );
  return { gitdir, workTree };
}

/** --trust, else the work tree's .github/trust/ when it has one. */
function trustOf(trust: string | undefined, workTree: string | undefined): string {
  if (trust !== undefined) return trust;
  const conventional = workTree === undefined ? undefined : join(workTree, TRUST_DIR);
  if (conventional !== undefined && fileExists(conventional)) return conventional;
  throw new GitopsError(
    'usage',
    `--trust DIR is required: ${workTree === undefined ? 'a bare repository has' : `${workTree} has`} no ${TRUST_DIR}/`,
    `give the trust directory (allowed signers); usage: ${USAGE}`,
  );
}

/**
 * A name as refs and object ids (resolveObject: a branch, a tag, an id, keeping the ref it came
 * through), else as git itself reads it (HEAD~1, main^2, v1.2^{}, a short id).
 */
async function resolveAny(gitdir: string, spec: string): Promise<ResolvedObject> {
  try {
    return await resolveObject(gitdir, spec);
  } catch (e) {
    if (!(e instanceof GitopsError) || e.code !== 'unknown-object' || spec.startsWith('-')) throw e;
    const r = await git(gitdir, ['--git-dir', gitdir, 'rev-parse', '--verify', '--quiet', '--end-of-options', spec]);
    const oid = succeeded(r) ? r.stdout.toString('utf8').trim() : '';
    if (!/^[0-9a-f]{40}$/.test(oid)) throw e;
    return resolveObject(gitdir, oid);
  }
}

export async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'verify',
    args,
    {
      repo: { type: 'string' },
      trust: { type: 'string' },
      ...outputOptions,
      range: { type: 'string' },
      mode: { type: 'string' },
      now: { type: 'string' },
      skew: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const format = outputOf('verify', values, ['json', 'text', 'yaml'] as const, 'json');
  const mode = oneOf<HistoryMode>('verify', 'mode', values.mode, ['all', 'first-parent'], 'all');
  if (values.repo === '' || values.trust === '')
    throw new GitopsError('usage', '--repo and --trust take a directory, not an empty value', `usage: ${USAGE}`);
  if (values.range === undefined && positionals.length === 0)
    throw new GitopsError('usage', 'name at least one OBJECT, or --range APPLIED..CANDIDATE', `usage: ${USAGE}`);
  if (values.range !== undefined && positionals.length > 0)
    throw new GitopsError('usage', '--range and OBJECT arguments cannot be combined', `usage: ${USAGE}`);
  const nowMs = values.now === undefined ? Date.now() : Date.parse(values.now);
  if (Number.isNaN(nowMs))
    throw new GitopsError('usage', `--now "${values.now}" is not a date`, 'e.g. --now 2026-11-27T12:00:00Z');
  const skew = values.skew === undefined ? DEFAULT_SKEW_SECONDS : Number(values.skew);
  if (!Number.isInteger(skew) || skew < 0)
    throw new GitopsError('usage', '--skew must be a whole number of seconds', 'e.g. --skew 300');
  const opts: VerifyOptions = { now: Math.floor(nowMs / 1000), skewSeconds: skew };

  const { gitdir, workTree } = await repositoryOf(values.repo);
  const trust = await loadTrustStore(trustOf(values.trust, workTree));
  warnTrustProblems(trust);

  if (values.range !== undefined) {
    const m = /^(.+?)\.\.(?!\.)(.+)$/.exec(values.range);
    if (!m)
      throw new GitopsError(
        'usage',
        `--range "${values.range}" is not APPLIED..CANDIDATE`,
        'e.g. --range 7b4a90cd..main',
      );
    const [base, candidate] = await Promise.all([resolveAny(gitdir, m[1]!), resolveAny(gitdir, m[2]!)]);
    for (const r of [base, candidate])
      if (r.type !== 'commit')
        throw new GitopsError(
          'usage',
          `${r.ref ?? r.oid} is a ${r.type}, not a commit`,
          'a range runs between two commits',
        );
    const result = await verifyRange(objectReader(gitdir), base.oid, candidate.oid, trust, { ...opts, mode });
    const data = {
      verdict: result.verdict,
      code: result.code,
      retryable: result.retryable,
      reason: result.reason,
      applied: base.oid,
      candidate: candidate.oid,
      mode,
      commits: result.commits,
    };
    printData(format, data, () => [`${result.verdict}: ${result.reason}`, ...result.commits.map(line)].join('\n'));
    return result.verdict === 'trusted' ? EXIT_OK : EXIT_INVALID;
  }

  const verdicts: ObjectVerdict[] = [];
  for (const spec of positionals) verdicts.push(await verifyOne(gitdir, spec, trust, opts));
  printData(format, verdicts, () => verdicts.map(line).join('\n'));
  return verdicts.every((v) => v.verdict === 'trusted') ? EXIT_OK : EXIT_INVALID;
}

function line(v: ObjectVerdict): string {
  return `${v.object.padEnd(14)} ${v.verdict.padEnd(13)} ${v.signer ?? '-'}  ${v.reason}`;
}

async function verifyOne(gitdir: string, spec: string, trust: TrustStore, opts: VerifyOptions): Promise<ObjectVerdict> {
  let resolved;
  try {
    resolved = await resolveAny(gitdir, spec);
  } catch (e) {
    if (e instanceof GitopsError) return verdictOf(spec, null, null, 'malformed', e.message);
    throw e;
  }
  const raw = (await objectReader(gitdir).read(resolved.oid))!;
  if (resolved.type === 'commit') {
    if (resolved.ref?.startsWith('refs/tags/'))
      return verdictOf(
        spec,
        resolved.oid,
        'commit',
        'unsigned',
        'a lightweight tag: the ref points straight at a commit, so there is no tag object to verify',
      );
    const { headers: _h, ...v } = await verifyCommitObject(spec, resolved.oid, raw.bytes, trust, opts);
    return v;
  }
  if (resolved.type === 'tag') {
    const name = resolved.ref?.startsWith('refs/tags/') ? resolved.ref.slice('refs/tags/'.length) : undefined;
    const { headers: _h, ...v } = await verifyTagObject(
      spec,
      resolved.oid,
      raw.bytes,
      trust,
      opts,
      name !== undefined ? { name } : {},
    );
    return v;
  }
  return verdictOf(spec, resolved.oid, null, 'malformed', `${spec} is a ${resolved.type}, not a commit or a tag`);
}
