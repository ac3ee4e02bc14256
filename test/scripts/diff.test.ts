// gitops diff on real repositories: base and head commits covering value changes, moved values,
// secret changes, new devices and invalid heads; rendered from git objects, not the work tree.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { PROJECT, tempDir } from '../helpers/project.js';
import { examplePosition } from '../helpers/lines.js';

function fleet(): ReturnType<typeof makeRepo> & { edit(file: string, from: string, to: string): void } {
  const repo = makeRepo();
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
  repo.git(['add', '-A']);
  repo.git(['commit', '-q', '-m', 'fleet']);
  return Object.assign(repo, {
    edit(file: string, from: string, to: string) {
      const p = join(repo.dir, file);
      const t = readFileSync(p, 'utf8');
      if (!t.includes(from)) throw new Error(`test setup: ${file} lacks ${from}`);
      writeFileSync(p, t.replace(from, to));
    },
  });
}
const commitAll = (r: ReturnType<typeof fleet>, m: string): void => {
  r.git(['add', '-A']);
  r.git(['commit', '-q', '-m', m]);
};
type Report = {
  targets: Array<{
    environment: string;
    device: string;
    status: string;
    changes: Array<{ path: string; change: string; old?: unknown; new?: unknown; file?: string }>;
  }>;
  environments: Array<{ environment: string; secrets: Array<{ path: string; change: string }>; policy: unknown[] }>;
  valid: boolean;
  risk: { production: boolean; devicesAffected: number; level: string; sensitive: string[] };
};
/** The last commit against its parent (with no revision, gitops diff compares HEAD with the work tree). */
const LAST = ['--base', 'HEAD~1', '--head', 'HEAD'];
const json = (r: ReturnType<typeof fleet>, ...args: string[]): Report =>
  JSON.parse(gitops(['diff', ...LAST, '--format', 'json', '--root', r.dir, ...args]).stdout) as Report;

describe('gitops diff', () => {
  it('a base value change shows per device with old -> new and the file that caused it', () => {
    const r = fleet();
    r.edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.7');
    commitAll(r, 'motion');
    const d = json(r);
    expect(d.targets.map((t) => `${t.environment}/${t.device}`)).toEqual([
      'development/dev-bench-01',
      'production/prod-berlin-001',
      'production/prod-hamburg-002',
      'staging/stg-office-01',
    ]);
    expect(d.targets[0]!.changes).toEqual([
      {
        path: 'motion.sensitivity',
        change: 'changed',
        old: 0.6,
        new: 0.7,
        file: 'config/motion.yaml',
        line: examplePosition('config/motion.yaml', 'sensitivity: 0.6').line,
      },
    ]);
    expect(d.risk).toMatchObject({ production: true, devicesAffected: 4, level: 'medium' });
    expect(d.valid).toBe(true);
  });

  it('a value moved between files with the same rendered result is no change; --exit-code says so', () => {
    const r = fleet();
    r.edit(
      'environments/development/overrides.yaml',
      'storage:\n  retention_days: 3',
      'storage:\n  retention_days: 3\n  clip_seconds: 20',
    );
    commitAll(r, 'restate the default clip length');
    expect(json(r).targets).toEqual([]);
    expect(gitops(['diff', ...LAST, '--exit-code', '--root', r.dir]).status).toBe(0);
    r.edit('config/storage.yaml', 'clip_seconds: 20', 'clip_seconds: 25');
    commitAll(r, 'longer clips elsewhere');
    expect(gitops(['diff', ...LAST, '--exit-code', '--root', r.dir]).status).toBe(1);
  });

  it('secret changes at key level with no key, and no value anywhere in the output', () => {
    const r = fleet();
    const key = join(PROJECT, 'environments/development/keys/dev-operator.agekey');
    expect(
      gitops(
        [
          'secrets',
          'set',
          join(r.dir, 'environments/development/secrets.sops.yaml'),
          'notifications.telegram.bot_token',
          '"999:rotated-token-value"',
        ],
        { env: { SOPS_AGE_KEY_FILE: key } },
      ).status,
    ).toBe(0);
    commitAll(r, 'rotate the bot token');
    const res = gitops(['diff', ...LAST, '--format', 'json', '--root', r.dir], { env: { HOME: tempDir('home-') } });
    expect(res.stdout).not.toContain('rotated-token-value');
    const d = JSON.parse(res.stdout) as Report;
    expect(d.environments).toEqual([
      {
        environment: 'development',
        tier: 'development',
        secrets: [{ path: 'notifications.telegram.bot_token', change: 'changed' }],
        policy: [],
      },
    ]);
    expect(d.targets).toEqual([]);
    expect(d.risk.sensitive).toEqual(['secret notifications.telegram.bot_token']);
  });

  it('a new device, and an invalid head, in text and markdown; the dirty work tree is ignored', () => {
    const r = fleet();
    cpSync(
      join(r.dir, 'environments/staging/devices/stg-office-01.yaml'),
      join(r.dir, 'environments/staging/devices/stg-office-02.yaml'),
    );
    r.edit('environments/staging/devices/stg-office-02.yaml', 'id: stg-office-01', 'id: stg-office-02');
    r.edit('config/frame_capture.yaml', '  fps: 15', '  fps: 500');
    commitAll(r, 'second office door, and a typo');
    writeFileSync(join(r.dir, 'config/motion.yaml'), 'not: [valid'); // uncommitted: not part of the diff
    const text = gitops(['diff', ...LAST, '--root', r.dir]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('staging/stg-office-02 (added):');
    const fps = examplePosition('config/frame_capture.yaml', '  fps: 15', '  fps: '.length);
    expect(text.stdout).toContain(`~ frame_capture.fps: 15 -> 500    (config/frame_capture.yaml:${fps.line})`);
    expect(text.stdout).toContain('head is INVALID');
    expect(text.stdout).toContain(`config/frame_capture.yaml:${fps.line}:${fps.column} schema-range`);
    expect(text.stdout).toMatch(/risk high: production not touched/);
    const markdown = gitops(['diff', ...LAST, '--format', 'markdown', '--root', r.dir]).stdout;
    expect(markdown).toContain('**❌ invalid**');
    expect(markdown).toContain('<summary><b>staging/stg-office-02</b> (staging, added)');
  });

  it('a base that does not exist is a clear error', () => {
    const r = fleet();
    const res = gitops(['diff', '--base', 'no-such-branch', '--root', r.dir]);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('"no-such-branch" is not a commit in this repository');
  });
});
