// gitops propose end to end against a local bare remote and a local API server answering like
// GitHub; gitops audit over a real history of signed, PR-merged commits.

import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { githubApi } from '../helpers/github-api.js';
import { makeRepo, run, signerLine, sshKey, trustDir } from '../helpers/git.js';
import { CLI, PROJECT, tempDir } from '../helpers/project.js';

function fleetRepo(): ReturnType<typeof makeRepo> {
  const repo = makeRepo();
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
  repo.git(['add', '-A']);
  repo.git(['commit', '-q', '-m', 'fleet']);
  return repo;
}

describe('gitops propose', () => {
  const pulls: Array<{ title: string; head: string; base: string; body: string; draft: boolean }> = [];
  const api = githubApi(({ method, url, body }) => {
    if (method !== 'POST' || url !== '/repos/fleet/config/pulls') return { status: 404, body: {} };
    pulls.push(JSON.parse(body) as (typeof pulls)[number]);
    return { status: 201, body: { number: 12, html_url: 'https://github.example/fleet/config/pull/12' } };
  });

  it("edits the device file keeping its comments, commits signed with the user's git, pushes, opens the PR with the diff", async () => {
    const repo = fleetRepo();
    const origin = join(tempDir('origin-'), 'fleet.git');
    run('git', ['init', '-q', '--bare', '-b', 'main', origin]);
    repo.git(['remote', 'add', 'origin', origin]);
    repo.git(['push', '-q', 'origin', 'main']);
    const key = sshKey('ed25519');
    repo.git(['config', 'gpg.format', 'ssh']);
    repo.git(['config', 'user.signingkey', key.key]);
    repo.git(['config', 'commit.gpgsign', 'true']);
    const args = [
      'propose',
      '--env',
      'production',
      '--device',
      'prod-berlin-001',
      '--set',
      'frame_capture.fps=18',
      '--repo',
      'fleet/config',
      '--root',
      repo.dir,
    ];
    const env = { GITHUB_TOKEN: 't', GITHUB_API_URL: api.url, GIT_CONFIG_GLOBAL: '/dev/null' };
    const noIdentity = await gitopsAsync(args, { env });
    expect(noIdentity.status).toBe(1);
    expect(noIdentity.stderr).toContain('git could not commit the change: Author identity unknown');
    expect(repo.git(['status', '--porcelain'])).toBe('');
    expect(repo.git(['branch', '--list', 'propose/*'])).toBe('');
    expect(pulls).toHaveLength(0);
    repo.git(['config', 'user.name', 'Ana']);
    repo.git(['config', 'user.email', 'ana@example.test']);
    const r = await gitopsAsync(args, { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('opened https://github.example/fleet/config/pull/12');
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ title: 'prod-berlin-001: set frame_capture.fps=18', base: 'main', draft: false });
    expect(pulls[0]!.body).toContain('`frame_capture.fps` | `20` | `18`');
    const branch = pulls[0]!.head;
    const text = run('git', [
      '--git-dir',
      origin,
      'show',
      `${branch}:environments/production/devices/prod-berlin-001.yaml`,
    ]).toString();
    expect(text).toContain('  fps: 18');
    expect(text).toContain('# Berlin, Torstrasse 12, front door');
    const trust = trustDir({ signers: [signerLine('ana@example.test', key)] });
    const v = gitops(['verify', '--repo', origin, '--trust', trust, '--format', 'json', branch]);
    expect(JSON.parse(v.stdout)[0]).toMatchObject({ verdict: 'trusted', signer: 'ana@example.test' });
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main');
  });

  it('refuses a change that would not validate, a secret, and an unknown path, committing nothing', async () => {
    const repo = fleetRepo();
    const head = repo.git(['rev-parse', 'HEAD']);
    const invalid = gitops(['propose', '--env', 'production', '--set', 'frame_capture.fps=500', '--root', repo.dir]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('the change would not validate; nothing was committed');
    expect(
      gitops(['propose', '--env', 'production', '--set', 'notifications.telegram.bot_token=x', '--root', repo.dir])
        .stderr,
    ).toContain('is a secret: it is not proposed in plaintext');
    expect(
      gitops(['propose', '--env', 'production', '--set', 'frame_capture.fsp=5', '--root', repo.dir]).stderr,
    ).toContain('Did you mean "frame_capture.fps"?');
    expect(repo.git(['rev-parse', 'HEAD'])).toBe(head);
    expect(repo.git(['branch', '--list', 'propose/*'])).toBe('');
  });
});

describe('gitops audit', () => {
  it('answers who changed production frame_capture.fps, when, through which PR, signed by whom', () => {
    const repo = fleetRepo();
    const ana = sshKey('ed25519');
    const sign = ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${ana.key}`];
    const f = join(repo.dir, 'environments/production/devices/prod-berlin-001.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('  fps: 20', '  fps: 25'));
    repo.git([...sign, 'commit', '-q', '-S', '-am', 'Berlin door: faster capture (#41)'], {
      env: {
        GIT_AUTHOR_NAME: 'Ana',
        GIT_AUTHOR_EMAIL: 'ana@example.test',
        GIT_AUTHOR_DATE: '2026-04-01T09:00:00Z',
        GIT_COMMITTER_DATE: '2026-04-01T09:00:00Z',
      },
    });
    const m = join(repo.dir, 'config/motion.yaml');
    writeFileSync(m, readFileSync(m, 'utf8').replace('sensitivity: 0.6', 'sensitivity: 0.5'));
    repo.git(['commit', '-q', '-am', 'Merge pull request #42 from fleet/motion'], {
      env: { GIT_AUTHOR_DATE: '2026-04-02T09:00:00Z', GIT_COMMITTER_DATE: '2026-04-02T09:00:00Z' },
    });
    const trust = trustDir({ signers: [signerLine('ana@example.test', ana)] });
    const r = gitops([
      'audit',
      '--env',
      'production',
      '--path',
      'frame_capture.fps',
      '--trust',
      trust,
      '--format',
      'json',
      '--root',
      repo.dir,
    ]);
    expect(r.status).toBe(0);
    const entries = JSON.parse(r.stdout) as Array<{
      subject: string;
      author: string;
      pr: number;
      signature: { verdict: string; signer: string };
      changes: Array<{ target: string; path: string; old: number; new: number; file: string }>;
    }>;
    expect(entries.map((e) => e.subject)).toEqual(['Berlin door: faster capture (#41)', 'fleet']);
    expect(entries[1]!.changes[0]).toMatchObject({
      target: 'production/prod-berlin-001',
      path: 'frame_capture.fps',
      change: 'added',
      new: 20,
    });
    expect(entries[0]).toMatchObject({
      subject: 'Berlin door: faster capture (#41)',
      author: 'Ana <ana@example.test>',
      pr: 41,
      signature: { verdict: 'trusted', signer: 'ana@example.test' },
    });
    expect(entries[0]!.changes).toEqual([
      {
        target: 'production/prod-berlin-001',
        path: 'frame_capture.fps',
        change: 'changed',
        old: 20,
        new: 25,
        file: 'environments/production/devices/prod-berlin-001.yaml',
        line: 17,
      },
    ]);
    const all = gitops(['audit', '--env', 'production', '--root', repo.dir]);
    expect(all.stdout).toContain('Merge pull request #42 from fleet/motion  (PR #42)');
    expect(all.stdout).toContain('production/prod-hamburg-002: motion.sensitivity 0.6 -> 0.5  (config/motion.yaml:6)');
    expect(all.stdout).toContain('signature not checked (no --trust)');
  });
});

describe('gitops audit with a token', () => {
  const asked: string[] = [];
  const api = githubApi(({ url }) => {
    asked.push(url);
    const m = /^\/repos\/fleet\/config\/commits\/([0-9a-f]{40})\/pulls/.exec(url);
    return m
      ? {
          status: 200,
          body: [
            { number: 7, merged_at: null },
            { number: 43, merged_at: '2026-04-03T10:00:00Z' },
          ],
        }
      : { status: 404, body: {} };
  });

  it('asks GitHub for the merged pull request of a commit whose subject names none', async () => {
    const repo = fleetRepo();
    const f = join(repo.dir, 'environments/production/devices/prod-berlin-001.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('  fps: 20', '  fps: 15'));
    repo.git(['commit', '-q', '-am', 'slower capture at night']);
    const sha = repo.git(['rev-parse', 'HEAD']);
    const r = await gitopsAsync(
      [
        'audit',
        '--env',
        'production',
        '--path',
        'frame_capture.fps',
        '--max',
        '1',
        '--format',
        'json',
        '--root',
        repo.dir,
      ],
      { env: { GITHUB_TOKEN: 't', GITHUB_API_URL: api.url, GITHUB_REPOSITORY: 'fleet/config' } },
    );
    expect(r.status).toBe(0);
    // the fleet commit before it was not read, and the audit says so
    expect(r.stderr).toContain('--max 1');
    expect(JSON.parse(r.stdout)).toMatchObject([{ commit: sha, subject: 'slower capture at night', pr: 43 }]);
    expect(asked).toEqual([`/repos/fleet/config/commits/${sha}/pulls`]);
  });
});

describe('gitops audit, what operators get wrong', () => {
  const repo = fleetRepo();
  const device = (id: string): string => join(repo.dir, `environments/production/devices/${id}.yaml`);
  const at = (date: string) => ({ env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
  writeFileSync(
    device('prod-berlin-001'),
    readFileSync(device('prod-berlin-001'), 'utf8').replace('  fps: 20', '  fps: 24'),
  );
  repo.git(['commit', '-q', '-am', 'Berlin: 24 fps'], at('2026-11-30T12:00:00Z'));
  cpSync(device('prod-berlin-001'), device('prod-temp-009'));
  repo.git(['add', '-A']);
  repo.git(['commit', '-q', '-m', 'a temporary door'], at('2026-11-30T13:00:00Z'));
  rmSync(device('prod-temp-009'));
  repo.git(['commit', '-q', '-am', 'the temporary door is gone'], at('2026-12-01T00:00:01Z'));
  const audit = (args: string[]) => gitops(['audit', ...args, '--root', repo.dir], { env: { TZ: 'UTC' } });

  it('a mistyped environment, device or path is an error with the nearest name, not an empty audit', () => {
    for (const [args, guess] of [
      [['--env', 'prodution'], 'production'],
      [['--env', 'production', '--device', 'prod-berlin-01'], 'prod-berlin-001'],
      [['--path', 'frame_capture.fsp'], 'frame_capture.fps'],
      [['--path', 'frame_captur'], 'frame_capture'],
    ] as const) {
      const r = audit([...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toContain(`Did you mean "${guess}"?`);
    }
    expect(audit(['--path', 'frame_capture..fps']).status).toBe(2);
  });

  it('a device that is gone from the working tree is still audited from history', () => {
    const r = audit([
      '--env',
      'production',
      '--device',
      'prod-temp-009',
      '--path',
      'frame_capture.fps',
      '--format',
      'json',
    ]);
    expect(r.status).toBe(0);
    const entries = JSON.parse(r.stdout) as Array<{ subject: string; changes: Array<{ change: string }> }>;
    expect(entries.map((e) => [e.subject, e.changes[0]?.change])).toEqual([
      ['the temporary door is gone', 'removed'],
      ['a temporary door', 'added'],
    ]);
  });

  it('says when the commit cap cut the history, and only then', () => {
    const cut = audit(['--max', '2', '--format', 'json']);
    expect(cut.status).toBe(0);
    expect(JSON.parse(cut.stdout)).toHaveLength(2);
    expect(cut.stderr).toContain('--max 2');
    const whole = audit(['--max', '4', '--format', 'json']);
    expect(whole.status).toBe(0);
    expect(JSON.parse(whole.stdout)).toHaveLength(4);
    expect(whole.stderr).toBe('');
  });

  it('--since DAY means from the start of that day', () => {
    const r = audit(['--since', '2026-12-01', '--format', 'json']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ subject: string }>).map((e) => e.subject)).toEqual([
      'the temporary door is gone',
    ]);
    const before = audit(['--since', '2026-11-30', '--format', 'json']);
    expect((JSON.parse(before.stdout) as unknown[]).length).toBe(3);
  });

  it('a reader that goes away (| head) ends it quietly', async () => {
    // the reading end is closed before the command writes anything: its first write fails
    const child = spawn(process.execPath, [CLI, 'audit', '--root', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
