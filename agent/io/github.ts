// The GitHub REST calls `gitops ci pr` makes, through @octokit/rest, with every failure turned
// into a message that says what happened and what to do.

import { Octokit } from '@octokit/rest';
import { GitopsError } from '../core/errors.js';
import { MARKER } from '../core/format/pr-comment.js';

export interface PrTarget {
  owner: string;
  repo: string;
  number: number;
  sha: string;
}

function explain(e: unknown, what: string): GitopsError {
  const err = e as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } };
  const headers = err.response?.headers ?? {};
  const retry =
    headers['retry-after'] ??
    (headers['x-ratelimit-reset']
      ? String(Math.max(0, Number(headers['x-ratelimit-reset']) - Math.floor(Date.now() / 1000)))
      : undefined);
  if (err.status === 401)
    return new GitopsError(
      'github-unauthorized',
      `${what}: the token was refused (HTTP 401)`,
      'check that GITHUB_TOKEN is set and not expired',
      { cause: e },
    );
  if (
    (err.status === 403 || err.status === 429) &&
    (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] || err.status === 429)
  )
    return new GitopsError(
      'github-rate-limited',
      `${what}: GitHub's rate limit was hit${retry ? `; retry after ${retry} s` : ''}`,
      'run the job again later',
      { cause: e, retryable: true },
    );
  if (err.status === 403)
    return new GitopsError(
      'github-forbidden',
      `${what}: the token may not write here (HTTP 403); a pull request from a fork gets a read-only token`,
      'the validation result above still stands; a maintainer can re-run the workflow, or grant pull-requests: write',
      { cause: e },
    );
  if (err.status === 404)
    return new GitopsError(
      'github-not-found',
      `${what}: the repository or pull request was not found (HTTP 404)`,
      'check GITHUB_REPOSITORY and the pull request number, and that the token can see the repository',
      { cause: e },
    );
  return new GitopsError(
    'github-failed',
    `${what}: ${err.message ?? String(e)}`,
    "see GitHub's status page; the validation result above still stands",
    { cause: e },
  );
}

export class GitHub {
  private readonly octokit: Octokit;

  constructor(token: string, baseUrl = 'https://api.github.com') {
    this.octokit = new Octokit({
      auth: token,
      baseUrl,
      userAgent: 'doorbell-gitops',
      retry: { enabled: false },
      request: { retries: 0 },
    });
  }

  /** Updates the comment carrying the marker, or creates it once. */
  async upsertComment(t: PrTarget, body: string): Promise<'created' | 'updated'> {
    let existing: { id: number } | undefined;
    try {
      for await (const page of this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
        owner: t.owner,
        repo: t.repo,
        issue_number: t.number,
        per_page: 100,
      })) {
        existing = page.data.find((c) => c.body?.includes(MARKER));
        if (existing) break;
      }
      if (existing) {
        await this.octokit.rest.issues.updateComment({ owner: t.owner, repo: t.repo, comment_id: existing.id, body });
        return 'updated';
      }
      await this.octokit.rest.issues.createComment({ owner: t.owner, repo: t.repo, issue_number: t.number, body });
      return 'created';
    } catch (e) {
      throw explain(e, 'updating the pull request comment');
    }
  }

  async createPull(
    r: { owner: string; repo: string },
    pr: { title: string; head: string; base: string; body: string; draft: boolean },
  ): Promise<string> {
    try {
      const res = await this.octokit.rest.pulls.create({ owner: r.owner, repo: r.repo, ...pr });
      return res.data.html_url;
    } catch (e) {
      throw explain(e, 'opening the pull request');
    }
  }

  /** The pull request a commit was merged through, when GitHub knows one. */
  async pullForCommit(r: { owner: string; repo: string }, sha: string): Promise<number | null> {
    try {
      const res = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        owner: r.owner,
        repo: r.repo,
        commit_sha: sha,
      });
      return res.data.find((p) => p.merged_at)?.number ?? res.data[0]?.number ?? null;
    } catch (e) {
      throw explain(e, `looking up the pull request of ${sha.slice(0, 12)}`);
    }
  }

  async setStatus(t: PrTarget, state: 'success' | 'failure', description: string): Promise<void> {
    try {
      await this.octokit.rest.repos.createCommitStatus({
        owner: t.owner,
        repo: t.repo,
        sha: t.sha,
        state,
        context: 'doorbell-gitops/validate',
        description: description.slice(0, 140),
      });
    } catch (e) {
      throw explain(e, 'setting the commit status');
    }
  }
}
