// Fetching over smart HTTP from a real git http-backend on 127.0.0.1, with isomorphic-git.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBranch } from '../../agent/io/git-sync.js';
import { makeRepo, run } from '../helpers/git.js';
import { startGitServer } from '../helpers/git-server.js';
import type { GitServer } from '../helpers/git-server.js';
import { tempDir } from '../helpers/project.js';

describe('fetchBranch over smart HTTP', () => {
  let server: GitServer;
  const root = tempDir('git-root-');
  const work = makeRepo();
  beforeAll(async () => {
    run('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'fleet.git')]);
    work.commit('first');
    work.git(['push', '-q', join(root, 'fleet.git'), 'main']);
    server = await startGitServer(root);
  });
  afterAll(async () => server.close());

  it('fetches the branch and returns the commit it points at, then new commits incrementally', async () => {
    const gitdir = join(tempDir('agent-repo-'), 'repo.git');
    const opts = { url: `${server.url}/fleet.git`, branch: 'main', maxBytes: 8 << 20, timeoutMs: 10_000 };
    expect((await fetchBranch(gitdir, opts)).commit).toBe(work.git(['rev-parse', 'HEAD']));
    const second = work.commit('second');
    work.git(['push', '-q', join(root, 'fleet.git'), 'main']);
    expect((await fetchBranch(gitdir, opts)).commit).toBe(second);
  });

  it('a private remote is reached with the token on every request; without it the fetch fails', async () => {
    const gitdir = join(tempDir('agent-repo-'), 'repo.git');
    const opts = { url: `${server.url}/fleet.git`, branch: 'main', maxBytes: 8 << 20, timeoutMs: 10_000 };
    server.token = 's3cret-token';
    try {
      await expect(fetchBranch(gitdir, opts)).rejects.toMatchObject({ code: 'sync-failed' });
      await expect(fetchBranch(gitdir, { ...opts, token: 'wrong' })).rejects.toMatchObject({ code: 'sync-failed' });
      const r = await fetchBranch(gitdir, { ...opts, token: 's3cret-token' });
      expect(r).toMatchObject({
        commit: work.git(['rev-parse', 'HEAD']),
        pack: expect.stringMatching(/^objects\/pack\//),
      });
    } finally {
      delete server.token;
    }
  });

  it('a remote that answers garbage or 503, a cap exceeded, a missing repository: clear errors', async () => {
    const gitdir = join(tempDir('agent-repo-'), 'repo.git');
    const opts = { url: `${server.url}/fleet.git`, branch: 'main', maxBytes: 8 << 20, timeoutMs: 10_000 };
    server.mode = 'garbage';
    await expect(fetchBranch(gitdir, opts)).rejects.toMatchObject({
      code: 'sync-failed',
      message: expect.stringMatching(/fetching main from http:\/\/127\.0\.0\.1:\d+\/fleet\.git failed/),
    });
    server.mode = 'error';
    await expect(fetchBranch(gitdir, opts)).rejects.toMatchObject({ code: 'sync-failed' });
    server.mode = 'ok';
    await expect(fetchBranch(gitdir, { ...opts, maxBytes: 200 })).rejects.toMatchObject({ code: 'sync-too-large' });
    await expect(fetchBranch(gitdir, { ...opts, url: `${server.url}/nope.git` })).rejects.toMatchObject({
      code: 'sync-failed',
    });
    await expect(fetchBranch(gitdir, { ...opts, branch: 'nope' })).rejects.toMatchObject({ code: 'ref-missing' });
  });
});
