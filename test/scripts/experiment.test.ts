// gitops experiment assign, as a real process on the example repository: its JSON exactly (and
// against schemas/cli/experiment-assign.output.json), its table and counts, and its refusals;
// validate --summary's experiment lines.

import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gbHash } from '../../agent/core/experiments/hash.js';
import { gitops } from '../helpers/cli.js';
import { expectValid } from '../helpers/output-schemas.js';
import { exampleCopy, PROJECT, readText, writeText } from '../helpers/project.js';

interface AssignJson {
  experiment: string;
  seed: string;
  devices: Array<{
    environment: string;
    device: string;
    bucket: number;
    in_experiment: boolean;
    variant: string | null;
    blocks?: Array<{ block: number; start: string; variant: string; washout: boolean }>;
  }>;
  status: string;
  namespace: { name: string; range: [number, number] } | null;
  design: { type: string };
  counts: {
    overall: { arms: Array<{ variant: string; devices: number }>; not_in: number };
    strata: Array<{ stratum: string; arms: Array<{ variant: string; devices: number }>; not_in: number }>;
  };
}

describe('gitops experiment assign', () => {
  it("prints every device of the experiment's environments as JSON, exactly", () => {
    const r = gitops(['experiment', 'assign', 'motion-sensitivity', '--output', 'json', '--root', PROJECT]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = expectValid('experiment assign', r.stdout) as AssignJson;
    expect(Object.keys(json)).toEqual([
      'experiment',
      'seed',
      'status',
      'coverage',
      'namespace',
      'design',
      'devices',
      'counts',
    ]);
    // what the table's head and counts say
    expect(json).toMatchObject({ status: 'running', namespace: { name: 'motion', range: [0, 0.5] } });
    expect(json.design).toEqual({ type: 'between' });
    const inArms = json.counts.overall.arms.reduce((n, a) => n + a.devices, 0);
    expect(inArms + json.counts.overall.not_in).toBe(json.devices.length);
    expect(json.counts.strata.map((s) => s.stratum)).toContain('hardware_model=rpi4-camv2');
    expect(json.experiment).toBe('motion-sensitivity');
    expect(json.seed).toBe('motion-sensitivity-1');
    expect(json.devices.map((d) => d.device)).toEqual(['prod-berlin-001', 'prod-hamburg-002']);
    for (const d of json.devices) {
      expect(Object.keys(d)).toEqual(['environment', 'device', 'bucket', 'in_experiment', 'variant']);
      expect(d.environment).toBe('production');
      expect(d.bucket).toBe(gbHash('motion-sensitivity-1', d.device, 2));
      expect(d.variant === null).toBe(!d.in_experiment);
    }
    // namespace motion [0, 0.5): GrowthBook's inNamespace (hash v1 of the id with seed __motion)
    for (const d of json.devices) expect(d.in_experiment).toBe(gbHash('__motion', d.device, 1) < 0.5);
    expect(json.devices.find((d) => d.in_experiment)?.variant).toBe(
      json.devices.find((d) => d.in_experiment)!.bucket < 0.5 ? 'control' : 'low',
    );
  });

  it('selects environments and devices; a device of an environment the experiment does not run in is not in', () => {
    const one = JSON.parse(
      gitops([
        'experiment',
        'assign',
        'motion-sensitivity',
        '-o',
        'json',
        '--device',
        'prod-hamburg-002',
        '--root',
        PROJECT,
      ]).stdout,
    ) as AssignJson;
    expect(one.devices.map((d) => d.device)).toEqual(['prod-hamburg-002']);
    const staging = JSON.parse(
      gitops(['experiment', 'assign', 'motion-sensitivity', '-o', 'json', '--env', 'staging', '--root', PROJECT])
        .stdout,
    ) as AssignJson;
    expect(staging.devices).toEqual([
      expect.objectContaining({ environment: 'staging', device: 'stg-office-01', in_experiment: false, variant: null }),
    ]);
  });

  it('prints a table with the devices per arm and per stratum', () => {
    const r = gitops(['experiment', 'assign', 'motion-sensitivity', '--root', PROJECT]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ENVIRONMENT\s+DEVICE\s+BUCKET\s+IN\s+VARIANT$/m);
    expect(r.stdout).toMatch(/^production\s+prod-berlin-001\s+0\.\d{4}\s+(yes|no)\s+(control|low|-)$/m);
    expect(r.stdout).toMatch(/^2 devices: control \d, low \d, not in \d$/m);
    expect(r.stdout).toMatch(/^ {2}hardware_model=rpi4-camv2: control \d, low \d, not in \d$/m);
  });

  it('refuses an unknown experiment (1), a usage error (2), and an experiment that does not validate (1)', () => {
    const unknown = gitops(['experiment', 'assign', 'motion-sensitivty', '--root', PROJECT]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('Did you mean "motion-sensitivity"?');
    expect(gitops(['experiment', '--help']).status).toBe(0);
    for (const args of [
      [],
      ['frobnicate', 'x'],
      ['assign'],
      ['assign', 'motion-sensitivity', '--output', 'xml'],
      ['assign', 'motion-sensitivity', '--output', 'json', '--format', 'text'],
      ['assign', 'a', 'b'],
    ])
      expect(gitops(['experiment', ...args, '--root', PROJECT]).status, args.join(' ')).toBe(2);
    const dir = exampleCopy();
    cpSync(join(PROJECT, 'experiments'), join(dir, 'experiments'), { recursive: true });
    const file = join(dir, 'experiments/motion-sensitivity.yaml');
    writeText(file, readText(file).replace('motion.sensitivity: 0.45', 'motion.sensitivity: 0.95'));
    const bad = gitops(['experiment', 'assign', 'motion-sensitivity', '--root', dir]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('experiment-value-out-of-bounds');
    const validate = gitops(['validate', '--root', dir]);
    expect(validate.status).toBe(1);
    expect(validate.stdout).toMatch(
      /experiments\/motion-sensitivity\.yaml:\d+:\d+ error experiment-value-out-of-bounds/,
    );
  });

  it("of a switchback experiment prints each device's arm in the coming blocks, the same as the device computes", async () => {
    const dir = exampleCopy();
    cpSync(join(PROJECT, 'experiments'), join(dir, 'experiments'), { recursive: true });
    const file = join(dir, 'experiments/motion-sensitivity.yaml');
    writeText(
      file,
      readText(file)
        .replace('design: { type: between }', 'design: { type: switchback, block_hours: 6, washout_minutes: 30 }')
        .replace(/^coverage: .*$/m, 'coverage: 1'),
    );
    const at = '2026-12-01T07:30:00Z';
    const args = ['experiment', 'assign', 'motion-sensitivity', '--at', at, '--blocks', '4', '--root', dir];
    const json = gitops([...args, '--output', 'json']);
    expect(json.stderr).toBe('');
    const fleet = expectValid('experiment assign', json.stdout) as AssignJson;
    expect(fleet.design).toEqual({ type: 'switchback', block_hours: 6, washout_minutes: 30 });
    const inIt = fleet.devices.filter((d) => d.in_experiment);
    expect(inIt.length).toBeGreaterThan(0);
    const { switchbackArm } = await import('../../agent/core/experiments/switchback.js');
    const { switchbackSchedule } = await import('../../agent/core/experiments/device.js');
    const { readExperiments } = await import('../../agent/core/experiments/read.js');
    const { openRepository } = await import('../../agent/core/repo/repository.js');
    const { readWorkingTree } = await import('../../agent/io/repo-files.js');
    const experiment = readExperiments(openRepository(readWorkingTree(dir)))[0]!;
    for (const d of inIt) {
      // blocks of 6 h from the one holding --at (06:00), each the arm the device itself runs then
      expect(d.blocks!.map((b) => b.start)).toEqual([
        '2026-12-01T06:00:00.000Z',
        '2026-12-01T12:00:00.000Z',
        '2026-12-01T18:00:00.000Z',
        '2026-12-02T00:00:00.000Z',
      ]);
      const schedule = switchbackSchedule(experiment, d.device)!;
      for (const b of d.blocks!) {
        const arm = switchbackArm(schedule, Date.parse(b.start) + 60_000);
        expect(b.variant).toBe(schedule.variants[arm.variant]!.name);
        expect(b.washout).toBe(arm.washout);
      }
    }
    const text = gitops(args);
    expect(text.stdout).toMatch(/^ENVIRONMENT\s+DEVICE\s+BUCKET\s+IN\s+BLOCKS FROM NOW$/m);
    expect(text.stdout).toMatch(/^production\s+prod-\S+\s+0\.\d{4}\s+yes\s+((control|low)\*? ?){4}$/m);
    expect(text.stdout).toMatch(/^\d devices: \d in, \d not in; blocks listed per arm: control \d, low \d$/m);
    expect(gitops([...args.slice(0, 3), '--blocks', '0', '--root', dir]).status).toBe(2);
  });

  it("validate --summary counts each experiment's devices per arm", () => {
    const r = gitops(['validate', '--summary'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^1 experiment:$/m);
    expect(r.stdout).toMatch(
      /^ {2}motion-sensitivity \(running in production\): control \d, low \d, not in \d \(devices per arm\)$/m,
    );
  });
});
