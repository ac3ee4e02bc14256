// What the tests of commands that open pull requests share: a committed fleet repository with a
// bare remote, and a local server answering like the GitHub API that records the pull requests
// opened on `fleet/config`. Call pullRecorder inside a describe (githubApi starts and stops with it).

import { join } from 'node:path';
import { githubApi } from './github-api.js';
import { makeRepo, run } from './git.js';
import type { Repo } from './git.js';
import { tempDir } from './project.js';

export type Pull = { title: string; head: string; base: string; body: string; draft: boolean };

export function pullRecorder(number = 1): {
  pulls: Pull[];
  /** The environment a command needs to reach the server (and no user git configuration). */
  env: () => Record<string, string>;
} {
  const pulls: Pull[] = [];
  const api = githubApi(({ method, url, body }) => {
    if (method !== 'POST' || url !== '/repos/fleet/config/pulls') return { status: 404, body: {} };
    pulls.push(JSON.parse(body) as Pull);
    return { status: 201, body: { number, html_url: `https://github.example/fleet/config/pull/${pulls.length}` } };
  });
  return { pulls, env: () => ({ GITHUB_TOKEN: 't', GITHUB_API_URL: api.url, GIT_CONFIG_GLOBAL: '/dev/null' }) };
}

/**
 * A git repository with what `write` puts into its directory committed on main (author Ana), and
 * a bare repository as its remote `remote` with main pushed.
 */
export function committedFleet(write: (dir: string) => void, remote = 'upstream'): { repo: Repo; origin: string } {
  const repo = makeRepo();
  write(repo.dir);
  repo.git(['add', '-A']);
  repo.git(['-c', 'user.name=Ana', '-c', 'user.email=ana@example.test', 'commit', '-q', '-m', 'fleet']);
  repo.git(['config', 'user.name', 'Ana']);
  repo.git(['config', 'user.email', 'ana@example.test']);
  const origin = join(tempDir('origin-'), 'fleet.git');
  run('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  repo.git(['remote', 'add', remote, origin]);
  repo.git(['push', '-q', remote, 'main']);
  return { repo, origin };
}
