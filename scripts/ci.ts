// gitops ci pr [--trust DIR]: what the pull-request workflow runs. Validates the head, verifies
// the PR's commits when an environment requires signed commits, computes the diff, keeps one
// PR comment up to date and sets a commit status. Reads the standard Actions environment
// (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL). The validation verdict
// decides the exit code; GitHub API failures are reported, not fatal.

import { diffRepositories } from '../agent/core/change/diff.js';
import { pooledValidation } from '../agent/io/validate-pool.js';
import { GitopsError } from '../agent/core/errors.js';
import { formatDiffText } from '../agent/core/format/diff.js';
import { formatGithub } from '../agent/core/format/diagnostics.js';
import { COMMENT_LIMIT, prComment } from '../agent/core/format/pr-comment.js';
import { verifyRange } from '../agent/core/trust/history.js';
import type { RangeResult } from '../agent/core/trust/history.js';
import { DEFAULT_SKEW_SECONDS } from '../agent/core/trust/verify-object.js';
import { environmentsRequiringSignedCommits } from '../agent/core/validate/signing.js';
import { objectReader } from '../agent/io/git-objects.js';
import { GitHub } from '../agent/io/github.js';
import { fileExists, readText } from '../agent/io/local-files.js';
import { readRevisionPair } from '../agent/io/git-revisions.js';
import { haltedRollouts } from '../agent/io/rollout.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { err, EXIT_INVALID, EXIT_OK, out, parse, repoRoot, rootOption, warnTrustProblems } from './cli.js';

const USAGE = 'gitops ci pr [--trust DIR] [--root DIR]   (in a GitHub Actions pull_request job)';

export async function ciCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('ci', args, { ...rootOption, trust: { type: 'string' } }, USAGE);
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  if (positionals[0] !== 'pr' || positionals.length !== 1)
    throw new GitopsError('usage', 'the only ci subcommand is "pr"', `usage: ${USAGE}`);
  const env = process.env;
  const missing = ['GITHUB_REPOSITORY', 'GITHUB_EVENT_PATH'].filter((k) => !env[k]);
  if (missing.length > 0)
    throw new GitopsError(
      'usage',
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: gitops ci pr runs inside a GitHub Actions pull_request job`,
      'run gitops diff and gitops validate locally instead',
    );
  const event = JSON.parse(readText(env.GITHUB_EVENT_PATH!)) as {
    pull_request?: { number: number; base: { sha: string }; head: { sha: string } };
  };
  const pr = event.pull_request;
  if (!pr) throw new GitopsError('usage', 'the event is not a pull_request event', 'run this job on: pull_request');
  const [owner, repo] = env.GITHUB_REPOSITORY!.split('/') as [string, string];
  const root = repoRoot(values.root);
  const { gitdir, base, head, baseFiles, headFiles } = await readRevisionPair(root, pr.base.sha, pr.head.sha);
  // the whole head is validated; a large one is validated and diffed by a pool of workers
  const pooled = await pooledValidation(headFiles, {}, undefined, { base: baseFiles, scope: {} });
  const report = diffRepositories(baseFiles, headFiles, {
    schemaCache: fileSchemaCache(),
    validateWhole: true,
    ...(pooled ? { validation: pooled, targets: pooled.diffs! } : {}),
  });
  if (report.diagnostics.length > 0) out(formatGithub(report.diagnostics));

  // Signed commits, when an environment asks for them.
  let signatures: RangeResult | { skipped: string } = { skipped: 'no environment requires signed commits' };
  if (environmentsRequiringSignedCommits(headFiles).length > 0) {
    if (!values.trust || !fileExists(values.trust)) signatures = { skipped: 'no trust directory given (--trust)' };
    else {
      try {
        const trust = await loadTrustStore(values.trust);
        warnTrustProblems(trust);
        signatures = await verifyRange(objectReader(gitdir), base, head, trust, {
          now: Math.floor(Date.now() / 1000),
          skewSeconds: DEFAULT_SKEW_SECONDS,
          mode: 'all',
        });
      } catch (e) {
        if (!(e instanceof GitopsError) || e.code !== 'trust-empty') throw e;
        signatures = { skipped: `${values.trust} holds no keys yet` };
      }
    }
  }
  out(formatDiffText(report));
  const signaturesOk = 'skipped' in signatures || signatures.verdict === 'trusted';
  const ok = report.valid && signaturesOk;

  const token = env.GITHUB_TOKEN;
  if (!token) err('GITHUB_TOKEN is not set: the comment and the commit status were skipped');
  else {
    const github = new GitHub(token, env.GITHUB_API_URL ?? 'https://api.github.com');
    const target = { owner, repo, number: pr.number, sha: head };
    try {
      const halted = await haltedRollouts(root, headFiles);
      const done = await github.upsertComment(target, prComment(report, signatures, base, head, COMMENT_LIMIT, halted));
      out(`pull request comment ${done}`);
      await github.setStatus(
        target,
        ok ? 'success' : 'failure',
        ok
          ? `valid; risk ${report.risk.level}`
          : !report.valid
            ? `${report.diagnostics.length} validation error(s)`
            : 'commits not signed by trusted keys',
      );
    } catch (e) {
      if (!(e instanceof GitopsError)) throw e;
      err(`gitops ci pr: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
    }
  }
  return ok ? EXIT_OK : EXIT_INVALID;
}
