// gitops propose where it stops: the usage, a change that would not validate, a file with uncommitted edits,
// a commit that cannot be pushed, and a push with no GitHub to open the pull request on.

import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitopsAsync } from '../helpers/cli.js';
import { makeRepo, run } from '../helpers/git.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const DEVICE = 'environments/production/devices/prod-berlin-001.yaml';
const IDENTITY = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Ana', GIT_AUTHOR_EMAIL: 'ana@example.test' };

/** A fleet repository (the example configuration, committed), with a bare origin when `origin` is set. */
function fleet(origin: boolean): ReturnType<typeof makeRepo> {
  const repo = makeRepo();
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
  repo.git(['add', '-A']);
  repo.git(['commit', '-q', '-m', 'fleet']);
  repo.git(['config', 'user.name', 'Ana']);
  repo.git(['config', 'user.email', 'ana@example.test']);
  if (origin) {
    const bare = join(tempDir('origin-'), 'fleet.git');
    run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    repo.git(['remote', 'add', 'origin', bare]);
  }
  return repo;
}
const propose = (repo: ReturnType<typeof makeRepo>, ...args: string[]) =>
  gitopsAsync(
    ['propose', '--env', 'production', '--device', 'prod-berlin-001', '--allow-unsigned', ...args, '--root', repo.dir],
    {
      env: IDENTITY,
    },
  );

describe('gitops propose: where it stops', () => {
  it('--help prints the usage; no --set is a usage error', async () => {
    const help = await gitopsAsync(['propose', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--set PATH=VALUE');
    const none = await gitopsAsync(['propose', '--env', 'production']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('name at least one change with --set PATH=VALUE');
  });

  it('a change that would not validate is printed and nothing is committed', async () => {
    const repo = fleet(true);
    const r = await propose(repo, '--set', 'frame_capture.fps=500');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('schema-range');
    expect(r.stderr).toContain('the change would not validate; nothing was committed');
    expect(repo.git(['status', '--porcelain'])).toBe('');
    expect(repo.git(['rev-list', '--count', '--all'])).toBe('1');
  });

  it('a file with uncommitted edits is not overwritten', async () => {
    const repo = fleet(true);
    writeFileSync(join(repo.dir, DEVICE), repo.git(['show', `HEAD:${DEVICE}`]) + '\n# my note\n');
    const r = await propose(repo, '--set', 'frame_capture.fps=18');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${DEVICE} has uncommitted changes`);
    expect(repo.git(['branch', '--list', 'propose/*'])).toBe('');
  });

  it('a commit that cannot be pushed stays on its branch, with the command to push it', async () => {
    const repo = fleet(false);
    const r = await propose(repo, '--set', 'frame_capture.fps=18', '--title', 'slower camera');
    expect(r.status).toBe(1);
    const branch = /committed on branch (propose\/\S+) but could not push it/.exec(r.stderr)?.[1];
    expect(branch).toMatch(/^propose\/prod-berlin-001-/);
    expect(r.stderr).toContain(`git push --set-upstream origin ${branch}`);
    expect(repo.git(['log', '-1', '--format=%s', branch!])).toBe('slower camera');
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main');
  });

  it('pushed, but without a token there is no pull request: it says so and succeeds', async () => {
    const repo = fleet(true);
    const r = await propose(repo, '--set', 'frame_capture.fps=18');
    expect(r.status).toBe(0);
    const branch = /^pushed (propose\/\S+) \(/m.exec(r.stdout)?.[1];
    expect(r.stderr).toContain(`no GITHUB_TOKEN: open the pull request for ${branch} yourself`);
    expect(repo.git(['ls-remote', '--heads', 'origin', branch!])).toContain(branch);
    expect(repo.git(['show', `${branch}:${DEVICE}`])).toContain('fps: 18');
  });
});
