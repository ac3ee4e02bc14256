// `gitops validate` on a pool of worker threads (--jobs) reports what one thread reports, on a
// generated fleet large enough for the pool (200 targets or more): valid, and with errors in
// devices that fall to different workers and in a file of the repository as a whole; and
// `gitops diff`, which validates its head the same way.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../devtools/fleet-gen.js';
import { diffRepositories } from '../../agent/core/change/diff.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { gitops } from '../helpers/cli.js';
import { PROJECT, tempDir } from '../helpers/project.js';

describe('gitops validate --jobs', () => {
  const fleet = generateFleet(PROJECT, join(tempDir('pool-'), 'fleet'), 240);
  const committed = readWorkingTree(fleet.repo);
  const run = (jobs: number, ...args: string[]) => {
    const r = gitops(['validate', '--jobs', String(jobs), ...args], { cwd: fleet.repo });
    return { ...r, json: args.includes('json') ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
  };
  const same = (output: string): void => {
    const one = run(1, '--output', output);
    const pool = run(2, '--output', output);
    expect(pool.status).toBe(one.status);
    if (one.json) {
      delete one.json.elapsed_ms;
      delete pool.json!.elapsed_ms;
      expect(pool.json).toEqual(one.json);
    } else expect(pool.stdout.replace(/\(\d+ ms\)/, '')).toBe(one.stdout.replace(/\(\d+ ms\)/, ''));
  };

  it('a valid fleet: the same report from two threads as from one', () => {
    const one = run(1, '--output', 'json');
    expect(one.status).toBe(0);
    expect((one.json!.targets as unknown[]).length).toBe(244);
    same('json');
    same('text');
  });

  it('errors in devices of different workers and in a base file: the same diagnostics, exit 1', () => {
    const devices = fleet.devices.production!;
    for (const id of devices.slice(10, 13)) {
      const file = join(fleet.repo, 'environments/production/devices', `${id}.yaml`);
      writeFileSync(file, `version: 2\ndevice:\n  id: ${id}\n  model: edge-p4-c920\nframe_capture:\n  fps: 500\n`);
    }
    writeFileSync(join(fleet.repo, 'config/logging.yaml'), 'version: 2\nlogging:\n  level: loud\n');
    // what the environment's checks find in a device file (its cohort, its key, its narrowing), on both workers
    const stranger = 'age1' + 'q'.repeat(58);
    for (const id of devices.slice(20, 24)) {
      const file = join(fleet.repo, 'environments/production/devices', `${id}.yaml`);
      const text = readFileSync(file, 'utf8')
        .replace(/cohort: \S+/, 'cohort: stabel')
        .replace(/age_recipient: \S+/, `age_recipient: ${stranger}`);
      writeFileSync(file, `${text}tunables:\n  frame_capture.fps:\n    minimum: 1\n`);
    }
    const one = run(1, '--output', 'json');
    expect(one.status).toBe(1);
    const found = one.json!.diagnostics as Array<{ code: string; file?: string }>;
    const codes = new Set(found.map((d) => d.code));
    expect(codes.has('schema-enum')).toBe(true);
    for (const code of ['rollout-unknown-cohort', 'secrets-recipients', 'tunable-widened'])
      expect(found.filter((d) => d.code === code && d.file?.includes('/devices/')).length, code).toBe(4);
    same('json');
    same('github');
    // gitops diff validates the head in the pool too (where there are cores for it): the report is the in-process one
    const diff = gitops(['diff', '--output', 'json'], { cwd: fleet.repo });
    const { base: _b, head: _h, compared: _c, ...report } = JSON.parse(diff.stdout) as Record<string, unknown>;
    expect(report).toEqual(diffRepositories(committed, readWorkingTree(fleet.repo)));
    expect(report.valid).toBe(false);
  });

  it('--jobs takes a whole number', () => {
    const r = gitops(['validate', '--jobs', '0'], { cwd: fleet.repo });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--jobs');
  });
});
