// gitops rollout plan through the built CLI, on the example repository and on temp copies with an
// edited rollout: the JSON a program reads (exactly its keys), the table, an environment without a
// rollout, exit statuses 0/1/2, and gitops validate --summary counting the devices of each wave.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketOf } from '../../agent/core/rollout/bucket.js';
import { waveOfBucket, waveRanges } from '../../agent/core/rollout/waves.js';
import { gitops } from '../helpers/cli.js';
import { exampleCopy, PROJECT, readText, writeText } from '../helpers/project.js';

const PROD = 'environments/production/environment.yaml';
const HAMBURG = 'environments/production/devices/prod-hamburg-002.yaml';

interface PlanJson {
  environment: string;
  declared: boolean;
  waves: Array<{ name: string; share: number; bake: number }>;
  devices: Array<{ device: string; wave: string; bucket: number | null; ref: string | null; by: string | null }>;
}

const planOf = (args: string[], cwd = PROJECT): PlanJson => {
  const r = gitops(['rollout', 'plan', ...args, '--output', 'json'], { cwd });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as PlanJson;
};

/** A copy of the example with a file's text replaced. */
const copyWith = (file: string, from: string, to: string, dir = exampleCopy()): string => {
  const path = join(dir, file);
  const text = readText(path);
  if (!text.includes(from)) throw new Error(`test setup: ${file} does not contain ${from}`);
  writeText(path, text.replace(from, to));
  return dir;
};

describe('gitops rollout plan', () => {
  it('--output json on the example: exactly environment, waves and devices, each device in its cohort wave', () => {
    const plan = planOf(['--env', 'production']);
    expect(Object.keys(plan)).toEqual(['environment', 'declared', 'waves', 'devices']);
    expect(plan.declared).toBe(true);
    expect(plan.environment).toBe('production');
    expect(plan.waves).toEqual([
      { name: 'canary', share: 2, bake: 7200 },
      { name: 'early', share: 20, bake: 43_200 },
      { name: 'stable', share: 78, bake: 0 },
    ]);
    expect(plan.devices.map((d) => Object.keys(d))).toEqual([
      ['device', 'wave', 'bucket', 'ref', 'by'],
      ['device', 'wave', 'bucket', 'ref', 'by'],
    ]);
    expect(plan.devices).toEqual([
      {
        device: 'prod-berlin-001',
        wave: 'canary',
        bucket: bucketOf('production-1', 'prod-berlin-001'),
        ref: 'refs/heads/rollout/production/canary',
        by: 'cohort',
      },
      {
        device: 'prod-hamburg-002',
        wave: 'stable',
        bucket: bucketOf('production-1', 'prod-hamburg-002'),
        ref: 'refs/heads/rollout/production/stable',
        by: 'cohort',
      },
    ]);
  });

  it('text: a table of the waves and one of the devices, saying whether cohort or bucket put each there', () => {
    const r = gitops(['rollout', 'plan', '--env', 'production'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^WAVE\s+SHARE\s+BAKE\s+DEVICES\s+REF$/);
    expect(lines[1]).toMatch(/^canary\s+2 %\s+2h\s+1\s+refs\/heads\/rollout\/production\/canary$/);
    expect(lines[2]).toMatch(/^early\s+20 %\s+12h\s+0\s+refs\/heads\/rollout\/production\/early$/);
    expect(lines[3]).toMatch(/^stable\s+78 % \(rest\)\s+0s\s+1\s+refs\/heads\/rollout\/production\/stable$/);
    expect(r.stdout).toMatch(/^prod-berlin-001\s+canary\s+0\.\d{6}\s+cohort$/m);
  });

  it('an environment without a rollout: one implicit wave, all, following the environment branch, said in text', () => {
    const plan = planOf(['--env', 'development']);
    expect(plan).toEqual({
      environment: 'development',
      declared: false,
      waves: [{ name: 'all', share: 100, bake: 0 }],
      devices: [{ device: 'dev-bench-01', wave: 'all', bucket: null, ref: null, by: null }],
    });
    const r = gitops(['rollout', 'plan', '--env', 'development'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('development declares no rollout: every device is in one wave, all');
    expect(r.stdout).toMatch(/^all\s+100 %\s+-\s+1\s+\(the environment's branch\)$/m);
  });

  it('on an edited copy: devices without a cohort go by their bucket over the new shares, and the seed moves them', () => {
    const dir = copyWith(PROD, 'share: 2\n', 'share: 40\n');
    copyWith(HAMBURG, '  cohort: stable\n', '', dir);
    // eight more devices, copies of the Hamburg one without a cohort
    for (let i = 0; i < 8; i++) {
      const id = `prod-extra-${i}`;
      copyFileSync(join(dir, HAMBURG), join(dir, `environments/production/devices/${id}.yaml`));
      copyWith(`environments/production/devices/${id}.yaml`, 'id: prod-hamburg-002', `id: ${id}`, dir);
    }
    const ranges = waveRanges([
      { name: 'canary', share: 40 },
      { name: 'early', share: 20 },
      { name: 'stable', share: 40 },
    ]);
    const expected = (seed: string, id: string): string =>
      id === 'prod-berlin-001' ? 'canary' : waveOfBucket(ranges, bucketOf(seed, id));
    const plan = planOf(['--env', 'production'], dir);
    expect(plan.waves.map((w) => w.share)).toEqual([40, 20, 40]);
    expect(plan.devices).toHaveLength(10);
    for (const d of plan.devices) {
      expect(d.wave).toBe(expected('production-1', d.device));
      expect(d.ref).toBe(`refs/heads/rollout/production/${d.wave}`);
      expect(d.by).toBe(d.device === 'prod-berlin-001' ? 'cohort' : 'bucket');
    }
    const text = gitops(['rollout', 'plan', '--env', 'production', '--root', dir]).stdout;
    expect(text).toMatch(/^prod-berlin-001\s+canary\s+0\.\d{6}\s+cohort$/m);
    expect(text).toMatch(/^prod-extra-0\s+(canary|early|stable)\s+0\.\d{6}\s+bucket$/m);
    // the wave of each device is a function of seed and id: another seed, another split
    copyWith(PROD, 'seed: production-1', 'seed: production-2', dir);
    const reseeded = planOf(['--env', 'production'], dir);
    for (const d of reseeded.devices) expect(d.wave).toBe(expected('production-2', d.device));
    expect(reseeded.devices.map((d) => d.bucket)).not.toEqual(plan.devices.map((d) => d.bucket));

    // validate --summary counts them per wave
    const r = gitops(['validate', '--summary', '--env', 'production', '--root', dir]);
    const counts = ['canary', 'early', 'stable'].map(
      (w) => `${w} ${reseeded.devices.filter((d) => d.wave === w).length}`,
    );
    expect(r.stdout).toMatch(
      new RegExp(`^ {2}production rollout\\s+${counts.join(', ')} \\(devices per wave\\)$`, 'm'),
    );
  });

  it('exits 1 on a rollout that does not validate, with the diagnostic at its file and line, and prints no plan', () => {
    const over = copyWith(PROD, 'share: 20\n', 'share: 99\n');
    const r = gitops(['rollout', 'plan', '--env', 'production', '--root', over]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const line = readText(join(over, PROD)).split('\n').indexOf('      share: 99') + 1;
    expect(r.stderr).toContain(`${PROD}:${line}:14 error rollout-shares-over`);

    const cohort = copyWith(HAMBURG, 'cohort: stable', 'cohort: late');
    const c = gitops(['rollout', 'plan', '--env', 'production', '--root', cohort, '--output', 'json']);
    expect(c.status).toBe(1);
    expect(c.stdout).toBe('');
    expect(c.stderr).toContain(`${HAMBURG}:8:11 error rollout-unknown-cohort`);

    // one the schema refuses: what validation says
    const schema = copyWith(PROD, 'bake: 2h', 'bake: soon');
    const s = gitops(['rollout', 'plan', '--env', 'production', '--root', schema]);
    expect(s.status).toBe(1);
    expect(s.stdout).toBe('');
    expect(s.stderr).toMatch(new RegExp(`${PROD}:\\d+:\\d+ error schema`));
  });

  it('gitops validate refuses the same rollouts (exit 1, the code in --format json) and passes the example (exit 0)', () => {
    const dup = copyWith(PROD, 'name: early', 'name: canary');
    const r = gitops(['validate', '--format', 'json', '--root', dup]);
    expect(r.status).toBe(1);
    const parsed = JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; file: string; line: number }> };
    expect(parsed.diagnostics.filter((d) => d.code === 'rollout-duplicate-wave')).toEqual([
      expect.objectContaining({
        file: PROD,
        line: readText(join(dup, PROD)).split('\n').lastIndexOf('    - name: canary') + 1,
      }),
    ]);
    const ok = gitops(['validate', '--summary'], { cwd: PROJECT });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^ {2}production rollout\s+canary 1, early 0, stable 1 \(devices per wave\)$/m);
    expect(ok.stdout).toMatch(/^ {2}staging rollout\s+canary 1, stable 0 \(devices per wave\)$/m);
    expect(ok.stdout).not.toContain('development rollout');
  });

  it('exit 2 on a usage error: no subcommand, an unknown one, no --env, a bad --output; 1 for an unknown environment', () => {
    for (const args of [
      [],
      ['promote'],
      ['plan'],
      ['plan', '--env', 'production', '--output', 'xml'],
      ['plan', 'extra', '--env', 'production'],
    ]) {
      const r = gitops(['rollout', ...args], { cwd: PROJECT });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('gitops rollout');
    }
    const r = gitops(['rollout', 'plan', '--env', 'prod'], { cwd: PROJECT });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Did you mean "production"?');
    expect(gitops(['rollout', '--help'], { cwd: PROJECT }).stdout).toContain('usage: gitops rollout plan --env E');
  });
});
